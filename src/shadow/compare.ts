import type { CreativeBrief } from '../llm/index.ts';
import { greedy, kl, policyProbs, Random, type FormulationEnv, type Mlp } from '../learning/index.ts';

/** One model's answer to a brief, as a shadow comparison records it. */
export interface ModelRun {
  /** Time of the model's greedy episode (its forward passes and the formula's steps), ms. */
  readonly latencyMs: number;
  /** The environment's reward of the formula (its documented total). */
  readonly reward: number;
  /** Units per palette index. */
  readonly units: ReadonlyArray<readonly [number, number]>;
}

/**
 * Runs a policy greedily on a brief and composes its formula, timed end to end (what one served
 * formula costs: the forward passes, the steps and the composer); also returns the states it visited.
 * Each model gets its own copy of the brief, so none profits from what the composer cached for another.
 */
export function runModel(env: FormulationEnv, net: Mlp, brief: CreativeBrief): ModelRun & { states: Float32Array[] } {
  const own = structuredClone(brief);
  const started = performance.now();
  const { units, states } = env.episode(own, (state) => greedy(net, state), new Random(1));
  const composition = env.compose(own, units);
  const latencyMs = performance.now() - started;
  return { latencyMs, reward: env.reward(own, units, composition).total, units: [...units], states };
}

/** The formula as a concentration vector over the palette (shares summing to 1; all zero when empty). */
export function concentrations(size: number, units: ReadonlyArray<readonly [number, number]>): Float64Array {
  const vector = new Float64Array(size);
  const total = units.reduce((sum, [, u]) => sum + u, 0);
  if (total > 0) for (const [i, u] of units) vector[i] = u / total;
  return vector;
}

/** Cosine similarity of two vectors; 0 when either is all zero (an empty formula resembles nothing). */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! ** 2;
    nb += b[i]! ** 2;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/** Mean KL(teacher ‖ student) of the two action distributions over `states` (the teacher's own). */
export function meanKl(teacher: Mlp, student: Mlp, states: readonly Float32Array[]): number {
  if (states.length === 0) return 0;
  let sum = 0;
  for (const state of states) sum += kl(policyProbs(teacher, state), policyProbs(student, state));
  return sum / states.length;
}
