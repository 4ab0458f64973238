import jstat from 'jstat';
import { normalQuantile } from '../shadow/report.ts';

const { hypgeom, normal } = jstat.jStat;

/**
 * The tests the canary analysis uses (docs/operations.md, "Canary analysis"). Distribution
 * functions come from jStat; what is written here is the arithmetic of the tests on the counts
 * Prometheus gives (error counts, histogram buckets), which no library takes in that form.
 */

export interface Proportion {
  readonly events: number;
  readonly total: number;
}

/**
 * Fisher's exact test, one-sided: the probability of the canary showing at least this many of the
 * errors both instances had, if errors fell on either instance at the same rate (hypergeometric).
 * Small p: the canary errs more often than stable.
 */
export function fisherGreater(canary: Proportion, stable: Proportion): number {
  const population = canary.total + stable.total;
  const successes = canary.events + stable.events;
  if (canary.total === 0 || successes === 0) return 1;
  if (canary.events === 0) return 1;
  // P(X >= k), X ~ Hypergeometric(N, K, n), summed over the upper tail itself: 1 − cdf would lose
  // every p-value below 1e-16 to rounding, and a strong signal must still read as one.
  let tail = 0;
  for (let x = canary.events; x <= Math.min(successes, canary.total); x++) tail += hypgeom.pdf(x, population, successes, canary.total);
  return Math.min(1, tail);
}

/** Wilson score interval of one proportion at normal quantile z. */
export function wilson(p: Proportion, z: number): { low: number; high: number } {
  if (p.total === 0) return { low: 0, high: 1 };
  const n = p.total;
  const phat = p.events / n;
  const centre = (phat + (z * z) / (2 * n)) / (1 + (z * z) / n);
  const half = (z / (1 + (z * z) / n)) * Math.sqrt((phat * (1 - phat)) / n + (z * z) / (4 * n * n));
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

/**
 * Newcombe's hybrid score interval (his method 10) for the difference of two independent
 * proportions, canary − stable, with one-sided confidence 1 − alpha on each side.
 */
export function differenceInterval(canary: Proportion, stable: Proportion, alpha: number): { estimate: number; low: number; high: number } {
  const z = normalQuantile(1 - alpha);
  const p1 = canary.total === 0 ? 0 : canary.events / canary.total;
  const p2 = stable.total === 0 ? 0 : stable.events / stable.total;
  const w1 = wilson(canary, z);
  const w2 = wilson(stable, z);
  const d = p1 - p2;
  return {
    estimate: d,
    low: d - Math.sqrt((p1 - w1.low) ** 2 + (w2.high - p2) ** 2),
    high: d + Math.sqrt((w1.high - p1) ** 2 + (p2 - w2.low) ** 2),
  };
}

/** Counts per histogram bin (not cumulative), the same bins for both instances. */
export type BinCounts = readonly number[];

export interface MannWhitney {
  readonly canaryCount: number;
  readonly stableCount: number;
  /** U of the canary: pairs where the canary was slower, ties counted half. */
  readonly u: number;
  /** U ÷ (n₁·n₂): P(canary slower than stable) + ½·P(tie) — 0.5 when they are alike. */
  readonly auc: number;
  /** One-sided p-value of "the canary is slower" (normal approximation with the tie correction). */
  readonly pSlower: number;
  /** One-sided confidence bounds of the AUC (Hanley & McNeil's standard error). */
  readonly low: number;
  readonly high: number;
}

/**
 * Mann–Whitney U on binned samples (latency histograms): every observation in a bin ties with every
 * other in that bin. U, its tie-corrected variance under "no difference", and an interval for
 * U/(n₁n₂) from Hanley & McNeil (1982).
 */
export function mannWhitneyBinned(canary: BinCounts, stable: BinCounts, alpha: number): MannWhitney {
  if (canary.length !== stable.length) throw new Error('mannWhitneyBinned: the two histograms have different bins');
  const n1 = canary.reduce((a, b) => a + b, 0);
  const n2 = stable.reduce((a, b) => a + b, 0);
  if (n1 === 0 || n2 === 0) return { canaryCount: n1, stableCount: n2, u: 0, auc: 0.5, pSlower: 1, low: 0, high: 1 };
  let u = 0;
  let stableBelow = 0;
  let tieTerm = 0;
  for (let i = 0; i < canary.length; i++) {
    u += canary[i]! * (stableBelow + stable[i]! / 2);
    stableBelow += stable[i]!;
    const t = canary[i]! + stable[i]!;
    tieTerm += t ** 3 - t;
  }
  const n = n1 + n2;
  const mean = (n1 * n2) / 2;
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  const pSlower = variance <= 0 ? (u > mean ? 0 : 1) : 1 - normal.cdf((u - mean) / Math.sqrt(variance), 0, 1);
  const auc = u / (n1 * n2);
  const q1 = auc / (2 - auc);
  const q2 = (2 * auc * auc) / (1 + auc);
  const se = Math.sqrt(Math.max(0, (auc * (1 - auc) + (n1 - 1) * (q1 - auc * auc) + (n2 - 1) * (q2 - auc * auc)) / (n1 * n2)));
  const z = normalQuantile(1 - alpha);
  return { canaryCount: n1, stableCount: n2, u, auc, pSlower, low: Math.max(0, auc - z * se), high: Math.min(1, auc + z * se) };
}
