import { MOODS, SEASONS, TARGET_PROFILES, type CreativeBrief } from '../llm/index.ts';
import { loadPalette, ODOR_FAMILIES, type OdorFamily, type PaletteMaterial } from '../perfumery/index.ts';
import { RegulatoryCatalogue, type Verdict } from '../regulation/index.ts';
import type { CharacterReading } from './character.ts';
import { worldOf, type World } from './checkpoint.ts';
import { Composer, type BriefContext, type Composition, type Position } from './composer.ts';
import type { Random } from './random.ts';

/**
 * The formulation environment. State: the encoded brief (wanted, refused and neighbouring families,
 * moods, seasons, target profile), the picks so far (pyramid, step, how on-character and how close
 * to the target they are), and one block per palette material (its units, whether it carries a named
 * note, whether it is on-character, its affinity with the brief's target profile, whether it is
 * allowed). Actions: one per palette material — pick it, or give it one more unit; a material the
 * brief refuses or its category does not allow is never picked (the action does nothing). An episode
 * runs STEPS actions. The composer (composer.ts) repairs the picks into a safe, complete formula; the
 * return is the documented reward of that formula (`reward`, docs/learning.md). Deterministic given
 * a seed. The brief's context is worked out once (`prepare`) and handed to each step.
 */
export const STEPS = 16;
/** Most materials a policy can pick in an episode (the composer may add a few). */
export const MAX_MATERIALS = STEPS;
/** Most units one material can hold: its weight is units × its typical use level. */
export const MAX_UNITS = 4;
/** The reward's version: a checkpoint trained on another version is refused (checkpoint.ts). */
export const REWARD_VERSION = 'character-4';

export type { Position } from './composer.ts';

/** Our reward's pyramid target — shares of the concentrate in top, heart and base notes (adjustable). */
export const PYRAMID_TARGET: Readonly<Record<Position, number>> = { top: 0.25, heart: 0.35, base: 0.4 };
/** Fidelity (cosine with the target) at which the fidelity term starts to pay, and at which it is full (our calibration). */
export const FIDELITY_FLOOR = 0.3;
export const FIDELITY_FULL = 0.75;
/** On-character share of the concentrate at which the character term starts to pay, and at which it is full. */
export const CHARACTER_FLOOR = 0.65;
export const CHARACTER_FULL = 0.9;
/** What a line off-character above 10 % costs, and what each repair the composer had to make costs. */
export const OFF_CHARACTER_COST = 4;
export const REPAIR_COST = 0.5;
/** Scale of the feedback term: a formula entirely of materials customers rated 5 gains 8, of ones rated 1 loses 8 (one disliked material at 10 % costs 0.8: enough for a policy to learn to avoid it). */
export const FEEDBACK_WEIGHT = 8;

export interface RewardBreakdown {
  /** 12 × the formula's fidelity to the brief's target profile, from FIDELITY_FLOOR (0) to FIDELITY_FULL (12). */
  readonly fidelity: number;
  /** 6 × the on-character share of the concentrate, from CHARACTER_FLOOR (0) to CHARACTER_FULL (6). */
  readonly character: number;
  /** 3 × the share of the named notes (those a material or an accord carries) smelled in the formula (3 when it names none). */
  readonly noteMatch: number;
  /** 3 × (1 − L1 distance of the on-character top/heart/base shares from PYRAMID_TARGET ÷ 2): off-character lines count nowhere. */
  readonly balance: number;
  /** 1 × min(1, on-character lines ÷ 8). */
  readonly count: number;
  /** −OFF_CHARACTER_COST per line off-character above 10 % of the concentrate. */
  readonly offCharacter: number;
  /** −REPAIR_COST per line the composer had to add (the model left it out). */
  readonly repairs: number;
  /** −8 per material the brief refuses (the composer makes this unreachable; kept as a guard). */
  readonly forbidden: number;
  /** IFRA/EU check of the formula: 0 pass or warning, −1 unknown, −10 fail (the composer makes both unreachable). */
  readonly compliance: number;
  /** Customers' replayed feedback (`fai train --from-feedback`): FEEDBACK_WEIGHT × Σ share × preference (−8–8); 0 without feedback. */
  readonly feedback: number;
  readonly compliant: Verdict;
  readonly total: number;
}

export interface Formula {
  /** Units per palette index (only indices present). */
  readonly units: ReadonlyMap<number, number>;
}

export interface Episode {
  readonly states: Float32Array[];
  readonly actions: number[];
  readonly units: Map<number, number>;
  readonly composition: Composition;
  readonly reward: RewardBreakdown;
}

const round3 = (value: number) => Math.round(value * 1000) / 1000;
const clamp01 = (value: number) => Math.min(1, Math.max(0, value));

/**
 * Where each part of the state sits. First the **brief and the picks so far** as `scalars` numbers —
 * what a policy's trunk reads (mlp.ts: the first layer reads the first `scalars` inputs) — then one
 * block of `palette` numbers per per-material feature, which the policy's action head reads with one
 * weight per feature shared by every material (feature k of action i is state[blocks[k] + i]), and
 * `allowed` last (policy.ts masks with it: allowed by the brief and the category, and not yet at
 * MAX_UNITS — picking a full material would waste the step).
 *
 * Per-material features: its units so far ÷ MAX_UNITS; whether it carries a named note not yet held
 * by the picks; whether it is of an asked family the picks lack; whether it is of an asked family,
 * of a wheel neighbour, a blender; its affinity with the target relative to the brief's
 * best-fitting allowed material; how much one more unit of it would move the picks' fidelity (× 10,
 * within ±1); how much its position (top, heart, base) is still wanted (PYRAMID_TARGET minus the
 * picks' share there); the weight one unit of it gives (its typical use level ÷ 10); the most a line of
 * it may hold in this brief (its cap ÷ 40: maximum use level, IFRA limit at the dosage); and the
 * customers' replayed preference for it (feedback.ts; 0 without feedback).
 */
export const PER_MATERIAL = ['units', 'noteNeeded', 'familyNeeded', 'asked', 'neighbour', 'blender', 'affinity', 'fidelityGain', 'positionNeed', 'unitWeight', 'room', 'preference'] as const;
export type PerMaterialFeature = (typeof PER_MATERIAL)[number];

export function stateLayout(materials: number): { readonly scalars: number; readonly size: number; readonly blocks: Readonly<Record<PerMaterialFeature | 'allowed', number>>; readonly description: string } {
  const f = ODOR_FAMILIES.length;
  // wanted, refused, neighbour families; moods; seasons; target profile; pyramid (3); step; on-character share and fidelity of the picks; share of notes held; distinct picks ÷ 8.
  const scalars = 3 * f + MOODS.length + SEASONS.length + TARGET_PROFILES.length + 3 + 1 + 2 + 2;
  const blocks = Object.fromEntries([...PER_MATERIAL, 'allowed'].map((name, k) => [name, scalars + k * materials])) as Record<PerMaterialFeature | 'allowed', number>;
  const description = `families:${ODOR_FAMILIES.join(',')}|wanted,refused,neighbour|moods:${MOODS.join(',')}|seasons:${SEASONS.join(',')}|profiles:${TARGET_PROFILES.join(',')}|pyramid3|step|picks:onshare,fidelity,notes,distinct|per-material:${PER_MATERIAL.join(',')},allowed|steps:${STEPS}|units:${MAX_UNITS}`;
  return { scalars, size: scalars + (PER_MATERIAL.length + 1) * materials, blocks, description };
}

export class FormulationEnv {
  readonly palette: readonly PaletteMaterial[];
  readonly actions: number;
  readonly stateSize: number;
  readonly composer: Composer;
  readonly layout: ReturnType<typeof stateLayout>;
  /** What this environment's actions and inputs mean (a checkpoint from another world is refused). */
  readonly world: World;
  private readonly familyIndex: ReadonlyMap<OdorFamily, number>;
  /** Per material: its position (0 top, 1 heart, 2 base) and family, as numbers (the state is built from them at every step). */
  private readonly positionCode: Uint8Array;
  private readonly familyCode: Uint8Array;
  /** Preference in [−1, 1] per palette index, from replayed customer feedback (src/learning/feedback.ts). */
  private readonly preferences: ReadonlyMap<number, number>;

  constructor(options: { regulatory?: RegulatoryCatalogue; palette?: readonly PaletteMaterial[]; preferences?: ReadonlyMap<string, number> } = {}) {
    const regulatory = options.regulatory ?? RegulatoryCatalogue.load();
    this.palette = options.palette ?? loadPalette();
    this.composer = new Composer(this.palette, regulatory);
    this.actions = this.palette.length;
    this.familyIndex = new Map(ODOR_FAMILIES.map((f, i) => [f, i]));
    this.positionCode = Uint8Array.from(this.composer.info, (m) => (m.position === 'top' ? 0 : m.position === 'heart' ? 1 : 2));
    this.familyCode = Uint8Array.from(this.composer.info, (m) => this.familyIndex.get(m.family)!);
    // Preferences arrive by material name (what a stored recipe names); materials outside this palette are ignored.
    const byName = options.preferences ?? new Map<string, number>();
    this.preferences = new Map(this.palette.flatMap((m, i) => (byName.has(m.name) ? [[i, byName.get(m.name)!] as const] : [])));
    this.layout = stateLayout(this.palette.length);
    this.stateSize = this.layout.size;
    this.world = worldOf(this, REWARD_VERSION);
  }

  /** The brief's context, worked out once and handed to every step (composer.ts). */
  prepare(brief: CreativeBrief, options: { dosagePct?: number } = {}): BriefContext {
    return this.composer.prepare(brief, options);
  }

  /** Whether a policy may pick material `action` for this brief. */
  allowed(context: BriefContext, action: number): boolean {
    return context.allowed[action] === 1;
  }

  /** What the state holds whatever the picks — the brief's scalars, the static per-material features — and per-material constants of the dynamic ones, built once per context. */
  private readonly templates = new WeakMap<BriefContext, Template>();

  private template(context: BriefContext): Template {
    let template = this.templates.get(context);
    if (template !== undefined) return template;
    const x = new Float32Array(this.stateSize);
    const f = ODOR_FAMILIES.length;
    const n = this.palette.length;
    const { brief } = context;
    const info = this.composer.info;
    for (const family of context.wantedFamilies) x[this.familyIndex.get(family)!] = 1;
    for (const i of context.forbidden) x[f + this.familyIndex.get(info[i]!.family)!] = 1;
    for (const family of context.neighbourFamilies) x[2 * f + this.familyIndex.get(family)!] = 1;
    let o = 3 * f;
    for (const mood of brief.mood) x[o + MOODS.indexOf(mood)] = 1;
    o += MOODS.length;
    for (const season of brief.season) x[o + SEASONS.indexOf(season)] = 1;
    o += SEASONS.length;
    x[o + TARGET_PROFILES.indexOf(brief.targetProfile)] = 1;
    const b = this.layout.blocks;
    let topAffinity = 0;
    for (let i = 0; i < n; i++) if (context.allowed[i] === 1 && context.affinity[i]! > topAffinity) topAffinity = context.affinity[i]!;
    const { targetNorm } = context;
    const gainWeight = new Float64Array(n);
    const gainTarget = new Float64Array(n);
    const asked = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const role = context.roles[i];
      x[b.asked + i] = asked[i] = role === 'asked' ? 1 : 0;
      x[b.neighbour + i] = role === 'neighbour' ? 1 : 0;
      x[b.blender + i] = info[i]!.blender ? 1 : 0;
      // Affinity relative to the brief's closest allowed material: 1 for the best fit, whatever the brief.
      x[b.affinity + i] = topAffinity === 0 ? 0 : context.affinity[i]! / topAffinity;
      x[b.unitWeight + i] = info[i]!.typicalPct / 10;
      x[b.room + i] = Math.min(1, context.capPct[i]! / 40);
      x[b.preference + i] = this.preferences.get(i) ?? 0;
      x[b.allowed + i] = context.allowed[i]!;
      // One more unit of material i adds typical × impact × its (unit) profile to the picks' profile.
      if (context.allowed[i] === 1 && targetNorm > 0) {
        gainWeight[i] = info[i]!.typicalPct * info[i]!.impact;
        gainTarget[i] = gainWeight[i]! * context.affinity[i]! * targetNorm;
      }
    }
    const noteMembers = context.notes.map(({ carriers, accord }) => (accord === null ? carriers : accord.members.map((m) => m.index)));
    template = { state: x, gainWeight, gainTarget, asked, noteMembers };
    this.templates.set(context, template);
    return template;
  }

  private profileScratch: Float64Array | undefined;

  /** The state; written into `into` when given (a served formula keeps no states: one buffer for all its steps), else a new array. */
  encode(context: BriefContext, units: ReadonlyMap<number, number>, step: number, into?: Float32Array): Float32Array {
    const template = this.template(context);
    const { gainWeight, gainTarget, asked } = template;
    const { targetNorm } = context;
    let x: Float32Array;
    if (into === undefined) x = template.state.slice();
    else {
      into.set(template.state);
      x = into;
    }
    const n = this.palette.length;
    const { positionCode, familyCode } = this;
    const info = this.composer.info;
    // The picks so far, by weight (units × typical level): pyramid shares, on-character share, fidelity, notes held.
    let o = 3 * ODOR_FAMILIES.length + MOODS.length + SEASONS.length + TARGET_PROFILES.length;
    let total = 0;
    let on = 0;
    const space = this.composer.character.space;
    // One scratch profile for every state (encode is not re-entered): a served formula encodes sixteen.
    const profile = (this.profileScratch ??= new Float64Array(space.size)).fill(0);
    const pyramid = [0, 0, 0];
    const present = new Uint8Array(ODOR_FAMILIES.length);
    for (const [i, u] of units) {
      const w = u * info[i]!.typicalPct;
      total += w;
      pyramid[positionCode[i]!]! += w;
      if (context.onCharacter[i] === 1) on += w;
      space.accumulate(profile, i, w);
      present[familyCode[i]!] = 1;
    }
    if (total > 0) for (let p = 0; p < 3; p++) pyramid[p]! /= total;
    let pt = 0;
    let pp = 0;
    for (let d = 0; d < profile.length; d++) {
      pt += profile[d]! * context.target[d]!;
      pp += profile[d]! * profile[d]!;
    }
    const current = pp === 0 || targetNorm === 0 ? 0 : pt / (Math.sqrt(pp) * targetNorm);
    x[o++] = pyramid[0]!;
    x[o++] = pyramid[1]!;
    x[o++] = pyramid[2]!;
    x[o++] = step / STEPS;
    x[o++] = total === 0 ? 0 : on / total;
    x[o++] = current;
    const b = this.layout.blocks;
    let held = 0;
    for (let k = 0; k < context.notes.length; k++) {
      const members = template.noteMembers[k]!;
      let isHeld: boolean;
      if (context.notes[k]!.accord === null) {
        isHeld = false;
        for (const i of members) if (units.has(i)) isHeld = true;
      } else {
        isHeld = true;
        for (const i of members) if (!units.has(i)) isHeld = false;
      }
      if (isHeld) held++;
      else for (const i of members) x[b.noteNeeded + i] = 1;
    }
    x[o++] = context.notes.length === 0 ? 1 : held / context.notes.length;
    x[o++] = Math.min(1, units.size / 8);
    for (const [i, u] of units) {
      x[b.units + i] = u / MAX_UNITS;
      if (u >= MAX_UNITS) x[b.allowed + i] = 0;
    }
    const need0 = PYRAMID_TARGET.top - (total === 0 ? 0 : pyramid[0]!);
    const need1 = PYRAMID_TARGET.heart - (total === 0 ? 0 : pyramid[1]!);
    const need2 = PYRAMID_TARGET.base - (total === 0 ? 0 : pyramid[2]!);
    const sqrtPp = Math.sqrt(pp);
    const base = sqrtPp === 0 ? 0 : current;
    // The hot loop of every step: block offsets in locals.
    const familyNeeded = b.familyNeeded;
    const fidelityGain = b.fidelityGain;
    const positionNeed = b.positionNeed;
    for (let i = 0; i < n; i++) {
      if (asked[i] === 1 && present[familyCode[i]!] === 0) x[familyNeeded + i] = 1;
      const w = gainWeight[i]!;
      if (w > 0) {
        // The fidelity one more unit would give, in closed form (profiles are unit vectors).
        const dot = space.dot(i, profile);
        const next = (pt + gainTarget[i]!) / (Math.sqrt(pp + 2 * w * dot + w * w) * targetNorm);
        const gain = 10 * (next - base);
        x[fidelityGain + i] = gain > 1 ? 1 : gain < -1 ? -1 : gain;
      }
      const position = positionCode[i]!;
      x[positionNeed + i] = position === 0 ? need0 : position === 1 ? need1 : need2;
    }
    return x;
  }

  /** Applies an action to the units in place: one more unit of the material, up to MAX_UNITS. */
  apply(units: Map<number, number>, action: number): void {
    const current = units.get(action) ?? 0;
    if (current < MAX_UNITS) units.set(action, current + 1);
  }

  /** The formula the picks make for the brief (composer.ts). */
  compose(context: BriefContext, units: ReadonlyMap<number, number>): Composition {
    return this.composer.compose(context, units);
  }

  /** The formula's character reading against the brief (character.ts). */
  character(context: BriefContext, composition: Composition): CharacterReading {
    return this.composer.character.read(context, composition.lines);
  }

  /** The documented reward of a composed formula for a brief (docs/learning.md, "The reward"). */
  reward(context: BriefContext, composition: Composition): RewardBreakdown {
    const info = this.composer.info;
    const reading = this.character(context, composition);
    const fidelity = 12 * clamp01((reading.fidelity - FIDELITY_FLOOR) / (FIDELITY_FULL - FIDELITY_FLOOR));
    const character = 6 * clamp01((reading.onCharacterPct / 100 - CHARACTER_FLOOR) / (CHARACTER_FULL - CHARACTER_FLOOR));
    const noteMatch = reading.notes.length === 0 ? 3 : (3 * reading.notes.filter((n) => n.present).length) / reading.notes.length;
    const pyramid: Record<Position, number> = { top: 0, heart: 0, base: 0 };
    let onLines = 0;
    let refused = 0;
    let repairs = 0;
    let preferred = 0;
    for (const line of composition.lines) {
      if (context.onCharacter[line.index] === 1) {
        pyramid[info[line.index]!.position] += line.pct / 100;
        onLines++;
      }
      if (context.forbidden.has(line.index)) refused++;
      if (line.added) repairs++;
      const preference = this.preferences.get(line.index);
      if (preference !== undefined) preferred += (line.pct / 100) * preference;
    }
    const distance = Math.abs(pyramid.top - PYRAMID_TARGET.top) + Math.abs(pyramid.heart - PYRAMID_TARGET.heart) + Math.abs(pyramid.base - PYRAMID_TARGET.base);
    const balance = 3 * (1 - distance / 2);
    const count = Math.min(1, onLines / 8);
    // 0 − …: nothing to charge gives +0, never −0 (which JSON shows as 0 but deepEqual tells apart).
    const offCharacter = 0 - OFF_CHARACTER_COST * reading.offCharacterOverLimit.length;
    const repairCost = 0 - REPAIR_COST * repairs;
    const forbidden = 0 - 8 * refused;
    const verdict = composition.check.verdict;
    const compliance = verdict === 'fail' ? -10 : verdict === 'unknown' ? -1 : 0;
    const feedback = 0 + round3(FEEDBACK_WEIGHT * preferred);
    const sum = fidelity + character + noteMatch + balance + count + offCharacter + repairCost + forbidden + compliance + feedback;
    return {
      fidelity: round3(fidelity),
      character: round3(character),
      noteMatch: round3(noteMatch),
      balance: round3(balance),
      count: round3(count),
      offCharacter,
      repairs: repairCost,
      forbidden,
      compliance,
      feedback,
      compliant: verdict,
      total: round3(sum),
    };
  }

  /** The picks a policy makes for a brief and the formula they compose into — what serving runs (no reward); with keepStates false, no states are returned. */
  play(context: BriefContext, policy: (state: Float32Array, random: Random) => number, random: Random, options: { keepStates?: boolean } = {}): Omit<Episode, 'reward'> {
    const units = new Map<number, number>();
    const states: Float32Array[] = [];
    const actions: number[] = [];
    // Serving keeps no states: each step's state is written into the same buffer (the policy reads it and is done).
    const buffer = options.keepStates === false ? new Float32Array(this.stateSize) : undefined;
    for (let step = 0; step < STEPS; step++) {
      const state = this.encode(context, units, step, buffer);
      const action = policy(state, random);
      if (buffer === undefined) states.push(state);
      actions.push(action);
      // A refused or disallowed material is never picked: the step passes (the state's mask makes it unreachable for a policy).
      if (context.allowed[action] === 1) this.apply(units, action);
    }
    return { states, actions, units, composition: this.compose(context, units) };
  }

  /** The states an episode of these actions visits (replayed: no policy, no composer), e.g. a served trajectory's, for a KL measured after the clock. */
  statesOf(context: BriefContext, actions: readonly number[]): Float32Array[] {
    const units = new Map<number, number>();
    return actions.map((action, step) => {
      const state = this.encode(context, units, step);
      if (context.allowed[action] === 1) this.apply(units, action);
      return state;
    });
  }

  /** Runs one episode with `policy` choosing each action from the state; returns the states, actions, the composed formula and its reward. */
  episode(context: BriefContext, policy: (state: Float32Array, random: Random) => number, random: Random): Episode {
    const played = this.play(context, policy, random);
    return { ...played, reward: this.reward(context, played.composition) };
  }
}

interface Template {
  readonly state: Float32Array;
  readonly gainWeight: Float64Array;
  readonly gainTarget: Float64Array;
  readonly asked: Uint8Array;
  readonly noteMembers: ReadonlyArray<readonly number[]>;
}
