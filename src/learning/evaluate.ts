import jstat from 'jstat';
import type { FormulationEnv } from './environment.ts';
import { asPrepared, type BriefPool } from './prepared-briefs.ts';
import type { Mlp } from './mlp.ts';
import { greedy, policyProbs } from './policy.ts';
import { Random } from './random.ts';

export { greedy } from './policy.ts';

/** Mean return of `policy` over `episodesPerBrief` episodes of every brief, drawing from `random`. */
function meanReturn(env: FormulationEnv, pool: BriefPool, policy: (state: Float32Array, random: Random) => number, random: Random, episodesPerBrief: number): number {
  const briefs = asPrepared(env, pool);
  let sum = 0;
  for (const context of briefs) for (let i = 0; i < episodesPerBrief; i++) sum += env.episode(context, policy, random).reward.total;
  return sum / (briefs.length * episodesPerBrief);
}

/** Mean return of a greedy policy over the briefs, with fixed seeds. */
export function greedyReturn(net: Mlp, env: FormulationEnv, briefs: BriefPool, episodesPerBrief = 5, seed = 12345): number {
  return meanReturn(env, briefs, (state) => greedy(net, state), new Random(seed), episodesPerBrief);
}

/** A mean with its 95 % confidence interval (Student's t over the items: briefs, or seeds). */
export interface MeanInterval {
  readonly mean: number;
  /** Half-width of the 95 % interval: t(0.975, n − 1) × sd ÷ √n. */
  readonly ci95: number;
  readonly n: number;
}

/** The mean of `values` with its 95 % t-interval (the items are few: t, not z). */
export function meanInterval(values: readonly number[]): MeanInterval {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / Math.max(n, 1);
  if (n < 2) return { mean, ci95: Number.NaN, n };
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
  return { mean, ci95: jstat.jStat.studentt.inv(0.975, n - 1) * Math.sqrt(variance / n), n };
}

/** Greedy return of a policy on each brief (a greedy episode is deterministic: one per brief), with the mean and its interval. */
export function briefReturns(net: Mlp, env: FormulationEnv, briefs: BriefPool): MeanInterval & { readonly perBrief: readonly number[] } {
  const random = new Random(1);
  const perBrief = [...asPrepared(env, briefs)].map((context) => env.episode(context, (state) => greedy(net, state), random).reward.total);
  return { ...meanInterval(perBrief), perBrief };
}

export interface Evaluation {
  readonly mean: number;
  /** Half-width of the 95 % confidence interval of the mean (Student's t over the seeds). */
  readonly ci95: number;
  readonly seeds: number;
  readonly episodes: number;
  readonly perSeed: readonly number[];
}

/**
 * Mean return of a policy sampling its actions (a greedy policy is deterministic, so seeds would
 * not vary it), over fixed seeds 1..seeds: each seed plays `episodesPerBrief` episodes of every brief.
 */
export function evaluatePolicy(net: Mlp, env: FormulationEnv, briefs: BriefPool, seeds = 10, episodesPerBrief = 5): Evaluation {
  if (seeds < 2) throw new RangeError('a confidence interval needs at least 2 seeds');
  const sample = (state: Float32Array, random: Random) => random.categorical(policyProbs(net, state));
  const perSeed = Array.from({ length: seeds }, (_, k) => meanReturn(env, briefs, sample, new Random(k + 1), episodesPerBrief));
  const { mean, ci95 } = meanInterval(perSeed);
  return { mean, ci95, seeds, episodes: seeds * briefs.length * episodesPerBrief, perSeed };
}


/** How a policy (or none: the composer alone) does on briefs, as a perfumer would judge it. */
export interface Judgement {
  readonly reward: MeanInterval;
  /** Share of the briefs whose formula has the brief's character (character.ts: the criterion). */
  readonly characterRate: number;
  /** Mean % of the served concentrate the policy's picks make up (the rest is the composer's repairs). */
  readonly policySharePct: number;
  readonly perBrief: ReadonlyArray<{ readonly reward: number; readonly hasCharacter: boolean; readonly policySharePct: number }>;
}

/**
 * Judges a policy on briefs: each brief's formula as served (greedy picks → composer; `policy` null:
 * the composer alone, no picks), its reward, whether it has the brief's character, and how much of
 * it the policy picked. `random` drives a sampling policy; greedy ones ignore it.
 */
export function judge(env: FormulationEnv, briefs: BriefPool, policy: ((state: Float32Array, random: Random) => number) | null, random = new Random(1)): Judgement {
  const perBrief = [...asPrepared(env, briefs)].map((context) => {
    const composition = policy === null ? env.compose(context, new Map()) : env.episode(context, policy, random).composition;
    const reward = env.reward(context, composition).total;
    const policySharePct = composition.lines.reduce((sum, l) => sum + (l.added ? 0 : l.pct), 0);
    return { reward, hasCharacter: env.character(context, composition).hasCharacter, policySharePct };
  });
  const n = Math.max(1, perBrief.length);
  return {
    reward: meanInterval(perBrief.map((b) => b.reward)),
    characterRate: perBrief.filter((b) => b.hasCharacter).length / n,
    policySharePct: perBrief.reduce((sum, b) => sum + b.policySharePct, 0) / n,
    perBrief,
  };
}
