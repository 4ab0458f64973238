import type { CreativeBrief } from '../llm/index.ts';
import { loadPalette, ODOR_FAMILIES, type OdorFamily, type PaletteMaterial } from '../perfumery/index.ts';
import { RegulatoryCatalogue, type CheckRequest, type Verdict } from '../regulation/index.ts';
import { Composer, type Composition, type Position } from './composer.ts';
import type { Random } from './random.ts';

/**
 * The formulation environment. State: the encoded brief (wanted and refused families, which
 * materials carry its named notes, which materials its category allows) and the picks so far.
 * Actions: one per palette material — pick it, or give it one more unit of weight; a material the
 * brief refuses or its category does not allow is never picked (the action does nothing). An
 * episode runs STEPS actions, so a policy picks up to STEPS materials. The composer
 * (composer.ts) turns the picks into the formula: amounts within usage levels and IFRA limits,
 * the brief's families, notes and a full pyramid. The return is the documented reward of that
 * formula (`reward`, docs/learning.md). Deterministic given a seed.
 *
 * The palette is the whole sourced materials table (src/perfumery): 170 materials.
 */
export const STEPS = 16;
/** Most materials a policy can pick in an episode (the composer may add a few). */
export const MAX_MATERIALS = STEPS;
/** Most units one material can hold: its weight is units × its typical use level. */
export const MAX_UNITS = 4;

export type { Position } from './composer.ts';

/**
 * Our reward's pyramid target — shares of the concentrate in top, heart and base notes. A design
 * choice of this reward (adjustable), not a sourced rule.
 */
export const PYRAMID_TARGET: Readonly<Record<Position, number>> = { top: 0.25, heart: 0.35, base: 0.4 };
/** Share of the concentrate in the wanted families at which the family term is full. */
export const FAMILY_SHARE_TARGET = 0.5;
/** Share of the concentrate a named note's carriers need for the note to count in full (our choice). */
export const NOTE_SHARE_TARGET = 0.03;

export interface RewardBreakdown {
  /** The brief's families: 10 × min(1, their share of the concentrate ÷ FAMILY_SHARE_TARGET) (0–10; 10 when it asks none). The composer already puts each in. */
  readonly familyMatch: number;
  /** The brief's named notes (those a palette material carries), each counted in full once its carriers hold NOTE_SHARE_TARGET of the concentrate — perceivable, not a trace (0–5; 5 when it names none). */
  readonly noteMatch: number;
  /** Closeness of the top/heart/base shares to PYRAMID_TARGET (0–5). */
  readonly balance: number;
  /** Distinct odour families, up to 4 (0–3). */
  readonly diversity: number;
  /** −8 per material the brief refuses (the composer makes this unreachable; kept as a guard). */
  readonly forbidden: number;
  /** IFRA/EU check of the formula: +2 pass or warning, −1 unknown, −10 fail. */
  readonly compliance: number;
  /** Customers' replayed feedback (`fai train --from-feedback`): FEEDBACK_WEIGHT × Σ share × preference (−4–4); 0 without feedback. */
  readonly feedback: number;
  readonly compliant: Verdict;
  readonly total: number;
}

/** Scale of the feedback term: a formula entirely of materials customers rated 5 gains 4, of ones rated 1 loses 4. */
export const FEEDBACK_WEIGHT = 4;

export interface Formula {
  /** Units per palette index (only indices present). */
  readonly units: ReadonlyMap<number, number>;
}

const round3 = (value: number) => Math.round(value * 1000) / 1000;

export class FormulationEnv {
  readonly palette: readonly PaletteMaterial[];
  readonly actions: number;
  readonly stateSize: number;
  readonly composer: Composer;
  private readonly familyIndex: ReadonlyMap<OdorFamily, number>;
  /** Preference in [−1, 1] per palette index, from replayed customer feedback (src/learning/feedback.ts). */
  private readonly preferences: ReadonlyMap<number, number>;

  constructor(options: { regulatory?: RegulatoryCatalogue; palette?: readonly PaletteMaterial[]; preferences?: ReadonlyMap<string, number> } = {}) {
    const regulatory = options.regulatory ?? RegulatoryCatalogue.load();
    this.palette = options.palette ?? loadPalette();
    this.composer = new Composer(this.palette, regulatory);
    this.actions = this.palette.length;
    this.familyIndex = new Map(ODOR_FAMILIES.map((f, i) => [f, i]));
    // Preferences arrive by material name (what a stored recipe names); materials outside this palette are ignored.
    const byName = options.preferences ?? new Map<string, number>();
    this.preferences = new Map(this.palette.flatMap((m, i) => (byName.has(m.name) ? [[i, byName.get(m.name)!] as const] : [])));
    // wanted families + refused families + pyramid so far (3) + units per material + step + note carriers per material + allowed per material.
    this.stateSize = 2 * ODOR_FAMILIES.length + 3 + 3 * this.palette.length + 1;
  }

  /** Materials the brief refuses: by name, family or descriptor. */
  forbiddenMaterials(brief: CreativeBrief): ReadonlySet<number> {
    return this.composer.forbidden(brief);
  }

  /** Whether a policy may pick material `action` for this brief. */
  allowed(brief: CreativeBrief, action: number): boolean {
    return this.composer.context(brief).allowed[action] === 1;
  }

  encode(brief: CreativeBrief, units: ReadonlyMap<number, number>, step: number): Float32Array {
    const x = new Float32Array(this.stateSize);
    const families = ODOR_FAMILIES.length;
    const n = this.palette.length;
    const context = this.composer.context(brief);
    for (const f of brief.notesPreference.families) x[this.familyIndex.get(f)!] = 1;
    for (const i of context.forbidden) x[families + this.familyIndex.get(this.palette[i]!.odorFamily)!] = 1;
    // Pyramid shares so far (top, heart, base), by weight.
    let total = 0;
    for (const [i, u] of units) total += u * this.composer.info[i]!.typicalPct;
    for (const [i, u] of units) {
      const p = this.composer.info[i]!.position;
      x[2 * families + (p === 'top' ? 0 : p === 'heart' ? 1 : 2)]! += total === 0 ? 0 : (u * this.composer.info[i]!.typicalPct) / total;
    }
    const offset = 2 * families + 3;
    for (const [i, u] of units) x[offset + i] = u / MAX_UNITS;
    x[offset + n] = step / STEPS;
    for (let i = 0; i < n; i++) {
      x[offset + n + 1 + i] = context.carriesNote[i]!;
      x[offset + 2 * n + 1 + i] = context.allowed[i]!;
    }
    return x;
  }

  /** Applies an action to the units in place: one more unit of the material, up to MAX_UNITS. */
  apply(units: Map<number, number>, action: number): void {
    const current = units.get(action) ?? 0;
    if (current < MAX_UNITS) units.set(action, current + 1);
  }

  /** The formula the picks make for the brief (composer.ts). */
  compose(brief: CreativeBrief, units: ReadonlyMap<number, number>): Composition {
    return this.composer.compose(brief, units);
  }

  /** The compliance check the composed formula gets: the brief's product category, materials by CAS, % of the concentrate. */
  checkRequest(brief: CreativeBrief, units: ReadonlyMap<number, number>): CheckRequest {
    return this.compose(brief, units).request;
  }

  /** The documented reward of a finished episode's formula for a brief. */
  reward(brief: CreativeBrief, units: ReadonlyMap<number, number>, composition: Composition = this.compose(brief, units)): RewardBreakdown {
    const info = this.composer.info;
    const share = new Map(composition.lines.map((l) => [l.index, l.pct / 100]));
    const wantedFamilies = new Set(brief.notesPreference.families);
    let familyShare = 0;
    const present = new Set<OdorFamily>();
    const pyramid: Record<Position, number> = { top: 0, heart: 0, base: 0 };
    for (const [i, s] of share) {
      const family = info[i]!.family;
      if (wantedFamilies.has(family)) familyShare += s;
      pyramid[info[i]!.position] += s;
      present.add(family);
    }
    const familyMatch = wantedFamilies.size === 0 ? 10 : 10 * Math.min(1, familyShare / FAMILY_SHARE_TARGET);
    const context = this.composer.context(brief);
    let carried = 0;
    for (const { carriers } of context.notes) {
      let held = 0;
      for (const i of carriers) held += share.get(i) ?? 0;
      carried += Math.min(1, held / NOTE_SHARE_TARGET);
    }
    const noteMatch = context.notes.length === 0 ? 5 : (5 * carried) / context.notes.length;
    const distance = Math.abs(pyramid.top - PYRAMID_TARGET.top) + Math.abs(pyramid.heart - PYRAMID_TARGET.heart) + Math.abs(pyramid.base - PYRAMID_TARGET.base);
    const balance = 5 * (1 - distance / 2);
    const diversity = (3 * Math.min(present.size, 4)) / 4;
    // 0 − …, not −8 × …: no refused material gives +0, never −0 (which JSON shows as 0 but deepEqual tells apart).
    const forbidden = 0 - 8 * [...share.keys()].filter((i) => context.forbidden.has(i)).length;
    const verdict = composition.check.verdict;
    const compliance = verdict === 'fail' ? -10 : verdict === 'unknown' ? -1 : 2;
    let preferred = 0;
    for (const [i, preference] of this.preferences) if (share.has(i)) preferred += share.get(i)! * preference;
    // 0 + …: no feedback gives +0, never −0.
    const feedback = 0 + round3(FEEDBACK_WEIGHT * preferred);
    const sum = familyMatch + noteMatch + balance + diversity + forbidden + compliance + feedback;
    return { familyMatch: round3(familyMatch), noteMatch: round3(noteMatch), balance: round3(balance), diversity, forbidden, compliance, feedback, compliant: verdict, total: round3(sum) };
  }

  /** Runs one episode with `policy` choosing each action from the state; returns the states, actions and the reward. */
  episode(brief: CreativeBrief, policy: (state: Float32Array, random: Random) => number, random: Random): { states: Float32Array[]; actions: number[]; reward: RewardBreakdown; units: Map<number, number> } {
    const units = new Map<number, number>();
    const states: Float32Array[] = [];
    const actions: number[] = [];
    for (let step = 0; step < STEPS; step++) {
      const state = this.encode(brief, units, step);
      const action = policy(state, random);
      states.push(state);
      actions.push(action);
      // A refused or disallowed material is never picked: the step passes.
      if (this.allowed(brief, action)) this.apply(units, action);
    }
    return { states, actions, reward: this.reward(brief, units), units };
  }
}
