import type { CreativeBrief } from '../llm/index.ts';
import { PRODUCT_CATEGORIES } from '../llm/index.ts';
import { loadPalette, ODOR_FAMILIES, type OdorFamily, type PaletteMaterial } from '../perfumery/index.ts';
import { checkFormula, RegulatoryCatalogue, type CheckRequest, type Verdict } from '../regulation/index.ts';
import type { Random } from './random.ts';

/**
 * The formulation environment. State: the encoded brief and the formula so far. Actions: for each
 * palette material, `add or raise` (one more unit) or `lower or remove` (one unit less). An episode
 * runs STEPS actions and builds a formula of at most MAX_MATERIALS materials; its return is the
 * documented reward of the final formula (see `reward`, docs/learning.md). Deterministic given a seed.
 *
 * The palette is the sourced materials table (src/perfumery) restricted to the 112 rows whose
 * note position (top/heart/base) is sourced: the pyramid term needs it.
 */
export const STEPS = 16;
export const MAX_MATERIALS = 12;

export type Position = 'top' | 'heart' | 'base';

/**
 * Our reward's pyramid target — shares of the concentrate in top, heart and base notes. A design
 * choice of this reward (adjustable), not a sourced rule.
 */
export const PYRAMID_TARGET: Readonly<Record<Position, number>> = { top: 0.25, heart: 0.35, base: 0.4 };

export interface RewardBreakdown {
  /** Share of the formula in the brief's wanted families (0–10). */
  readonly familyMatch: number;
  /** Share of the brief's named notes the formula contains (0–5). */
  readonly noteMatch: number;
  /** Closeness of the top/heart/base shares to PYRAMID_TARGET (0–5). */
  readonly balance: number;
  /** Distinct odour families, up to 4 (0–3). */
  readonly diversity: number;
  /** −8 per forbidden material or family present. */
  readonly forbidden: number;
  /** IFRA/EU check of the formula: +2 pass or warning, −1 unknown (limits not sourced), −10 fail. */
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

export class FormulationEnv {
  readonly palette: readonly PaletteMaterial[];
  readonly actions: number;
  readonly stateSize: number;
  private readonly regulatory: RegulatoryCatalogue;
  private readonly familyIndex: ReadonlyMap<OdorFamily, number>;
  /** Per material: its name and IFRA descriptors, lower case (what a wanted note is matched against). */
  private readonly noteWords: ReadonlyArray<readonly string[]>;
  /** Preference in [−1, 1] per palette index, from replayed customer feedback (src/learning/feedback.ts). */
  private readonly preferences: ReadonlyMap<number, number>;

  constructor(options: { regulatory?: RegulatoryCatalogue; palette?: readonly PaletteMaterial[]; preferences?: ReadonlyMap<string, number> } = {}) {
    this.regulatory = options.regulatory ?? RegulatoryCatalogue.load();
    this.palette = (options.palette ?? loadPalette()).filter((m) => m.notePosition !== null);
    this.actions = 2 * this.palette.length;
    this.familyIndex = new Map(ODOR_FAMILIES.map((f, i) => [f, i]));
    this.noteWords = this.palette.map((m) => [m.name.toLowerCase(), ...m.odorDescriptors.map((d) => d.toLowerCase())]);
    // Preferences arrive by material name (what a stored recipe names); materials outside this palette are ignored.
    const byName = options.preferences ?? new Map<string, number>();
    this.preferences = new Map(this.palette.flatMap((m, i) => (byName.has(m.name) ? [[i, byName.get(m.name)!] as const] : [])));
    // brief: wanted families (14) + forbidden families (14) + wanted note materials flag… then formula units per material + step.
    this.stateSize = 2 * ODOR_FAMILIES.length + 3 + this.palette.length + 1;
  }

  /** Materials the brief refuses: by name (a forbidden ingredient naming the material) or family. */
  forbiddenMaterials(brief: CreativeBrief): Set<number> {
    const refused = brief.forbiddenIngredients.map((f) => f.toLowerCase());
    const out = new Set<number>();
    this.palette.forEach((m, i) => {
      const name = m.name.toLowerCase();
      // "musk" refuses the musky family, "leather" the leathery one, "vanilla" Vanilla absolute.
      if (refused.some((f) => m.odorFamily.startsWith(f) || name.includes(f) || f.includes(name))) out.add(i);
    });
    return out;
  }

  private wantedNotes(brief: CreativeBrief): string[] {
    return [...brief.notesPreference.top, ...brief.notesPreference.heart, ...brief.notesPreference.base].map((n) => n.toLowerCase());
  }

  encode(brief: CreativeBrief, units: ReadonlyMap<number, number>, step: number): Float32Array {
    const x = new Float32Array(this.stateSize);
    const families = ODOR_FAMILIES.length;
    for (const f of brief.notesPreference.families) x[this.familyIndex.get(f)!] = 1;
    for (const i of this.forbiddenMaterials(brief)) x[families + this.familyIndex.get(this.palette[i]!.odorFamily)!] = 1;
    // Pyramid shares so far (top, heart, base).
    const total = [...units.values()].reduce((a, b) => a + b, 0);
    for (const [i, u] of units) {
      const p = this.palette[i]!.notePosition!;
      x[2 * families + (p === 'top' ? 0 : p === 'heart' ? 1 : 2)]! += total === 0 ? 0 : u / total;
    }
    const offset = 2 * families + 3;
    for (const [i, u] of units) x[offset + i] = u / 4;
    x[this.stateSize - 1] = step / STEPS;
    return x;
  }

  /** Applies an action to the units in place; an action that cannot apply (a 13th material, lowering an absent one) does nothing. */
  apply(units: Map<number, number>, action: number): void {
    const material = action % this.palette.length;
    const raise = action < this.palette.length;
    const current = units.get(material) ?? 0;
    if (raise) {
      if (current === 0 && units.size >= MAX_MATERIALS) return;
      units.set(material, current + 1);
    } else if (current > 0) {
      if (current === 1) units.delete(material);
      else units.set(material, current - 1);
    }
  }

  /** The compliance check a formula gets: the brief's product category, materials by CAS, % of the concentrate. */
  checkRequest(brief: CreativeBrief, units: ReadonlyMap<number, number>): CheckRequest {
    const total = [...units.values()].reduce((a, b) => a + b, 0);
    const category = PRODUCT_CATEGORIES[brief.productCategory];
    return {
      category: category.ifraCategory,
      // Where the product has no sourced default dosage, the check assumes the fine-fragrance one.
      dosagePct: category.defaultDosagePct ?? PRODUCT_CATEGORIES.EDP.defaultDosagePct,
      formula: [...units].map(([i, u]) => ({ material: this.palette[i]!.cas, concentrationPct: (100 * u) / total })),
    };
  }

  /** The documented reward of a finished formula for a brief. */
  reward(brief: CreativeBrief, units: ReadonlyMap<number, number>): RewardBreakdown {
    const total = [...units.values()].reduce((a, b) => a + b, 0);
    if (total === 0) return { familyMatch: 0, noteMatch: 0, balance: 0, diversity: 0, forbidden: 0, compliance: 0, feedback: 0, compliant: 'pass', total: 0 };
    const share = (i: number) => units.get(i)! / total;
    const wantedFamilies = new Set(brief.notesPreference.families);
    let familyShare = 0;
    const pyramid: Record<Position, number> = { top: 0, heart: 0, base: 0 };
    const families = new Set<OdorFamily>();
    for (const [i] of units) {
      const m = this.palette[i]!;
      if (wantedFamilies.has(m.odorFamily)) familyShare += share(i);
      pyramid[m.notePosition!] += share(i);
      families.add(m.odorFamily);
    }
    const familyMatch = wantedFamilies.size === 0 ? 5 : 10 * familyShare;
    const notes = this.wantedNotes(brief);
    // A material carries a note when its name or one of its IFRA glossary descriptors names it (e.g. "Amber").
    const carried = [...units.keys()].map((i) => this.noteWords[i]!);
    const noteMatch = notes.length === 0 ? 2.5 : (5 * notes.filter((n) => carried.some((words) => words.some((w) => w.includes(n)))).length) / notes.length;
    const distance = Math.abs(pyramid.top - PYRAMID_TARGET.top) + Math.abs(pyramid.heart - PYRAMID_TARGET.heart) + Math.abs(pyramid.base - PYRAMID_TARGET.base);
    const balance = 5 * (1 - distance / 2);
    const diversity = (3 * Math.min(families.size, 4)) / 4;
    const refused = this.forbiddenMaterials(brief);
    // 0 − …, not −8 × …: no refused material gives +0, never −0 (which JSON shows as 0 but deepEqual tells apart).
    const forbidden = 0 - 8 * [...units.keys()].filter((i) => refused.has(i)).length;
    const check = checkFormula(this.regulatory, this.checkRequest(brief, units));
    const compliance = check.verdict === 'fail' ? -10 : check.verdict === 'unknown' ? -1 : 2;
    let preferred = 0;
    for (const [i, preference] of this.preferences) if (units.has(i)) preferred += share(i) * preference;
    // 0 + …: no feedback gives +0, never −0.
    const feedback = 0 + Math.round(FEEDBACK_WEIGHT * preferred * 1000) / 1000;
    const sum = familyMatch + noteMatch + balance + diversity + forbidden + compliance + feedback;
    return { familyMatch, noteMatch, balance, diversity, forbidden, compliance, feedback, compliant: check.verdict, total: Math.round(sum * 1000) / 1000 };
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
      this.apply(units, action);
    }
    return { states, actions, reward: this.reward(brief, units), units };
  }
}
