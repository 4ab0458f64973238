import type { CreativeBrief } from '../llm/index.ts';
import { drawBriefs, greedy, kl, policyProbs, Random, type FormulationEnv, type Mlp } from '../learning/index.ts';
import { cosine } from '../perfumery/index.ts';

export { cosine } from '../perfumery/index.ts';

/** Briefs a model runs, unrecorded, before it is timed (their seed is neither training's nor a held-out set's). */
const WARM_UP_BRIEFS = 40;
const WARM_UP_SEED = 5_151;

/**
 * The warm-up briefs: enough distinct ones that every path of the served formula is compiled (the
 * composer and the state run once or sixteen times a formula; a handful of runs leaves them cold).
 */
export function warmUpBriefs(): CreativeBrief[] {
  return drawBriefs(WARM_UP_SEED, WARM_UP_BRIEFS);
}

/** One model's answer to a brief, as a shadow comparison records it. */
export interface ModelRun {
  /** The whole served path for this model: the brief's context, the greedy episode (forward passes, steps) and the composer, ms. */
  readonly latencyMs: number;
  /** The environment's reward of the composed formula (its documented total). */
  readonly reward: number;
  /** Units per palette index (the model's picks). */
  readonly units: ReadonlyArray<readonly [number, number]>;
  /** The composed formula: % of the concentrate per palette index. */
  readonly composed: ReadonlyArray<readonly [number, number]>;
}

/**
 * Runs a policy on a brief the way production serves one — the brief's context, the greedy picks,
 * the composer — timed end to end, composing the formula once (its reward is scored after the clock
 * stops: the evaluation's work, not serving's). `states()` replays the states it visited, for the KL,
 * only when asked (a comparison needs the teacher's alone). Each model works out its own context from
 * its own copy of the brief, so none profits from what another's run prepared.
 */
export function runModel(env: FormulationEnv, net: Mlp, brief: CreativeBrief, dosagePct?: number): ModelRun & { states(): Float32Array[] } {
  const own = structuredClone(brief);
  const started = performance.now();
  const context = env.prepare(own, dosagePct === undefined ? {} : { dosagePct });
  // As production serves: no state kept past its step.
  const played = env.play(context, (state) => greedy(net, state), new Random(1), { keepStates: false });
  const latencyMs = performance.now() - started;
  // The reward is the evaluation's, not serving's: scored after the clock stops.
  const reward = env.reward(context, played.composition).total;
  return { latencyMs, reward, units: [...played.units], composed: played.composition.lines.map((l) => [l.index, l.pct] as const), states: () => env.statesOf(context, played.actions) };
}

/** What the composer alone makes of the brief (no picks): the baseline a model's lift is measured from. */
export function composerAloneReward(env: FormulationEnv, brief: CreativeBrief, dosagePct?: number): number {
  const context = env.prepare(structuredClone(brief), dosagePct === undefined ? {} : { dosagePct });
  return env.reward(context, env.compose(context, new Map())).total;
}

/** A composed formula as a vector over the palette (% of the concentrate ÷ 100; all zero when empty). */
export function composedVector(size: number, composed: ReadonlyArray<readonly [number, number]>): Float64Array {
  const vector = new Float64Array(size);
  for (const [i, pct] of composed) vector[i] = pct / 100;
  return vector;
}

/** Cosine similarity of two composed formulas. */
export function composedCosine(size: number, a: ReadonlyArray<readonly [number, number]>, b: ReadonlyArray<readonly [number, number]>): number {
  return cosine(composedVector(size, a), composedVector(size, b));
}

/** Mean KL(teacher ‖ student) of the two action distributions over `states` (the teacher's own). */
export function meanKl(teacher: Mlp, student: Mlp, states: readonly Float32Array[]): number {
  if (states.length === 0) return 0;
  let sum = 0;
  for (const state of states) sum += kl(policyProbs(teacher, state), policyProbs(student, state));
  return sum / states.length;
}
