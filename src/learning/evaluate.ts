import type { CreativeBrief } from '../llm/index.ts';
import type { FormulationEnv } from './environment.ts';
import { softmax, type Mlp } from './mlp.ts';
import { Random } from './random.ts';

/** The action a policy rates highest. */
export function greedy(net: Mlp, state: Float32Array): number {
  const logits = net.forward(state).at(-1)!;
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
  return best;
}

/** Mean return of `policy` over `episodesPerBrief` episodes of every brief, drawing from `random`. */
function meanReturn(env: FormulationEnv, briefs: readonly CreativeBrief[], policy: (state: Float32Array, random: Random) => number, random: Random, episodesPerBrief: number): number {
  let sum = 0;
  for (const brief of briefs) for (let i = 0; i < episodesPerBrief; i++) sum += env.episode(brief, policy, random).reward.total;
  return sum / (briefs.length * episodesPerBrief);
}

/** Mean return of a greedy policy over the briefs, with fixed seeds. */
export function greedyReturn(net: Mlp, env: FormulationEnv, briefs: readonly CreativeBrief[], episodesPerBrief = 5, seed = 12345): number {
  return meanReturn(env, briefs, (state) => greedy(net, state), new Random(seed), episodesPerBrief);
}

export interface Evaluation {
  readonly mean: number;
  /** Half-width of the 95 % confidence interval of the mean (normal approximation over the seeds). */
  readonly ci95: number;
  readonly seeds: number;
  readonly episodes: number;
  readonly perSeed: readonly number[];
}

/**
 * Mean return of a policy sampling its actions (a greedy policy is deterministic, so seeds would
 * not vary it), over fixed seeds 1..seeds: each seed plays `episodesPerBrief` episodes of every brief.
 */
export function evaluatePolicy(net: Mlp, env: FormulationEnv, briefs: readonly CreativeBrief[], seeds = 10, episodesPerBrief = 5): Evaluation {
  if (seeds < 2) throw new RangeError('a confidence interval needs at least 2 seeds');
  const sample = (state: Float32Array, random: Random) => random.categorical(softmax(net.forward(state).at(-1)!));
  const perSeed = Array.from({ length: seeds }, (_, k) => meanReturn(env, briefs, sample, new Random(k + 1), episodesPerBrief));
  const mean = perSeed.reduce((a, b) => a + b, 0) / seeds;
  const variance = perSeed.reduce((a, b) => a + (b - mean) ** 2, 0) / (seeds - 1);
  return { mean, ci95: 1.96 * Math.sqrt(variance / seeds), seeds, episodes: seeds * briefs.length * episodesPerBrief, perSeed };
}

