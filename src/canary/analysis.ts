import { differenceInterval, fisherGreater, mannWhitneyBinned, type MannWhitney } from './stats.ts';

/**
 * Automated canary analysis: canary against stable on the same window, from what each instance
 * counted itself (docs/operations.md, "Canary analysis").
 *
 * - Errors (5xx answers): Fisher's exact test, one-sided, for "the canary errs more" → rollback; and
 *   Newcombe's interval for the difference of error ratios, whose upper bound must be below
 *   `errorMargin` → promote.
 * - Latency (the request-duration histograms): Mann–Whitney U on the binned samples. AUC = P(canary
 *   slower) + ½P(tie); its lower bound above 0.5 + `latencyMargin` → rollback, its upper bound below
 *   0.5 + `latencyMargin` → promote.
 * - Shadow comparisons, when the canary has them: a reward retention below `retentionMargin` → rollback.
 *
 * Each bound is one-sided at alpha / looks (Bonferroni over the looks a run may take), so over a
 * whole run the chance of promoting a canary that is worse by a margin — the false-promotion
 * rate — is at most `alpha` (and the chance of rolling back one that is no worse is too).
 */
export interface Criteria {
  /** False-promotion rate over the whole run. */
  readonly alpha: number;
  /** How many analyses the run may make (Bonferroni). `fai canary analyze` alone: 1. */
  readonly looks: number;
  /** Error ratio difference (canary − stable) a promotion must rule out, e.g. 0.02 = 2 points. */
  readonly errorMargin: number;
  /** AUC above 0.5 a promotion must rule out, e.g. 0.1: "the canary slower in 60 % of pairs". */
  readonly latencyMargin: number;
  /** Requests each instance must have answered before a promotion. */
  readonly minSamples: number;
  /** Shadow reward retention below which the canary is rolled back (the shadow margin). */
  readonly retentionMargin: number;
}

export const DEFAULT_CRITERIA: Criteria = { alpha: 0.05, looks: 1, errorMargin: 0.02, latencyMargin: 0.1, minSamples: 200, retentionMargin: 0.92 };

/** What one instance answered in the window. */
export interface InstanceWindow {
  readonly address: string;
  readonly requests: number;
  readonly errors: number;
  /** Request durations per bin (not cumulative), bins bounded by `le`. */
  readonly latencyBins: readonly number[];
  /** The shadow evaluation's reward retention on this instance, when it ran comparisons. */
  readonly shadowRetention: number | null;
}

export type Verdict = 'promote' | 'continue' | 'rollback';

export interface Analysis {
  readonly verdict: Verdict;
  /** One sentence per test: what it showed. */
  readonly reasons: readonly string[];
  readonly criteria: Criteria;
  readonly window: { readonly from: string; readonly to: string };
  readonly stable: InstanceWindow;
  readonly canary: InstanceWindow;
  readonly le: readonly number[];
  readonly evidence: {
    readonly perLookAlpha: number;
    readonly errors: { readonly canaryRatio: number; readonly stableRatio: number; readonly difference: number; readonly differenceHigh: number; readonly differenceLow: number; readonly fisherP: number };
    readonly latency: Omit<MannWhitney, 'u'> & { readonly canaryP50Le: number | null; readonly stableP50Le: number | null };
  };
}

const pct = (x: number) => `${(x * 100).toFixed(2)} %`;

/** The bin edge at or below which half of the samples fall (the histogram's median bucket). */
function medianLe(bins: readonly number[], le: readonly number[]): number | null {
  const total = bins.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  let seen = 0;
  for (let i = 0; i < bins.length; i++) {
    seen += bins[i]!;
    if (seen >= total / 2) return le[i]!;
  }
  return le.at(-1) ?? null;
}

export function judge(stable: InstanceWindow, canary: InstanceWindow, le: readonly number[], window: { from: string; to: string }, criteria: Criteria = DEFAULT_CRITERIA): Analysis {
  const a = criteria.alpha / criteria.looks;
  const c = { events: canary.errors, total: canary.requests };
  const s = { events: stable.errors, total: stable.requests };
  const canaryRatio = c.total === 0 ? 0 : c.events / c.total;
  const stableRatio = s.total === 0 ? 0 : s.events / s.total;
  const fisherP = fisherGreater(c, s);
  const diff = differenceInterval(c, s, a);
  const mw = mannWhitneyBinned(canary.latencyBins, stable.latencyBins, a);
  const bound = 0.5 + criteria.latencyMargin;

  const rollback: string[] = [];
  const notYet: string[] = [];
  const fine: string[] = [];
  if (fisherP < a) rollback.push(`errors: canary ${pct(canaryRatio)} vs stable ${pct(stableRatio)}, more than chance allows (Fisher one-sided p = ${fisherP.toPrecision(3)} < ${a.toPrecision(3)})`);
  else if (diff.high < criteria.errorMargin) fine.push(`errors: canary − stable = ${pct(diff.estimate)}, upper bound ${pct(diff.high)} < margin ${pct(criteria.errorMargin)}`);
  else notYet.push(`errors: upper bound of canary − stable is ${pct(diff.high)}, not yet below the margin ${pct(criteria.errorMargin)}`);

  if (mw.low > bound) rollback.push(`latency: canary slower than stable in ${pct(mw.auc)} of pairs (lower bound ${mw.low.toFixed(3)} > ${bound.toFixed(2)}; Mann–Whitney p = ${mw.pSlower.toPrecision(3)})`);
  else if (mw.high < bound) fine.push(`latency: AUC ${mw.auc.toFixed(3)}, upper bound ${mw.high.toFixed(3)} < ${bound.toFixed(2)}`);
  else notYet.push(`latency: AUC ${mw.auc.toFixed(3)} with upper bound ${mw.high.toFixed(3)}, not yet below ${bound.toFixed(2)}`);

  if (canary.shadowRetention !== null) {
    if (canary.shadowRetention < criteria.retentionMargin) rollback.push(`shadow: reward retention ${canary.shadowRetention.toFixed(3)} < ${criteria.retentionMargin}`);
    else fine.push(`shadow: reward retention ${canary.shadowRetention.toFixed(3)} ≥ ${criteria.retentionMargin}`);
  }
  const fewer = (Object.entries({ canary, stable }) as Array<[string, InstanceWindow]>).filter(([, i]) => i.requests < criteria.minSamples);
  if (fewer.length > 0) notYet.push(`samples: ${fewer.map(([name, i]) => `${name} ${i.requests}`).join(', ')} of the ${criteria.minSamples} needed`);

  const verdict: Verdict = rollback.length > 0 ? 'rollback' : notYet.length > 0 ? 'continue' : 'promote';
  return {
    verdict,
    reasons: [...rollback, ...notYet, ...fine],
    criteria,
    window,
    stable,
    canary,
    le,
    evidence: {
      perLookAlpha: a,
      errors: { canaryRatio, stableRatio, difference: diff.estimate, differenceLow: diff.low, differenceHigh: diff.high, fisherP },
      latency: { canaryCount: mw.canaryCount, stableCount: mw.stableCount, auc: mw.auc, pSlower: mw.pSlower, low: mw.low, high: mw.high, canaryP50Le: medianLe(canary.latencyBins, le), stableP50Le: medianLe(stable.latencyBins, le) },
    },
  };
}
