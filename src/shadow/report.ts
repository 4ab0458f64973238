import { z } from 'zod';
import { ErrorCodes, FaiError } from '../errors/index.ts';
import { Random } from '../learning/index.ts';
import type { Comparison } from './log.ts';

const num = () => z.number().finite();
const Interval = z.object({ low: num(), high: num() }).strict();

/**
 * `shadow_evaluation_results.json`: the operations guide's shape (`summary`, `details`) plus what the
 * original never had — intervals that resample briefs (a brief compared twice is one piece of
 * evidence, not two), a non-inferiority verdict on what the student keeps of the teacher's **lift
 * over the composer alone** (the reward the composer's repairs earn whatever the model does is not
 * the model's), at a stated margin and confidence, and the number of distinct briefs it needs.
 */
export const ReportSchema = z
  .object({
    generated_at: z.string(),
    stages: z.array(z.string()),
    summary: z
      .object({
        total_comparisons: z.number().int().min(2),
        /** Distinct briefs (as the environment reads them) among the comparisons: the sample size. */
        distinct_briefs: z.number().int().min(1),
        latency: z
          .object({ teacher_avg_ms: num(), student_avg_ms: num(), production_avg_ms: num(), teacher_p95_ms: num(), student_p95_ms: num(), speedup_ratio: num() })
          .strict(),
        reward: z
          .object({
            teacher_avg: num(),
            student_avg: num(),
            production_avg: num(),
            /** What the composer alone makes of the same briefs. */
            baseline_avg: num(),
            teacher_lift_avg: num(),
            student_lift_avg: num(),
            /** Σ(student − baseline) ÷ Σ(teacher − baseline): what the student keeps of the teacher's lift; null when the teacher adds nothing over the composer alone (no lift to keep). */
            retention_rate: num().nullable(),
            /** Student mean reward ÷ teacher mean reward (the guide's older figure, dominated by what the composer earns). */
            reward_ratio: num(),
          })
          .strict(),
        kl_divergence: z.object({ avg: num(), p95: num() }).strict(),
        cosine_similarity: z.object({ avg: num(), production_teacher_avg: num(), production_student_avg: num() }).strict(),
        /** Per-comparison speedups (teacher ÷ student latency): their mean, median, extremes. */
        speedup: z.object({ avg: num(), median: num(), min: num(), max: num() }).strict(),
      })
      .strict(),
    intervals: z
      .object({
        method: z.enum(['brief bootstrap, percentile', 'delta method over briefs (normal)']),
        resamples: z.number().int().min(0),
        confidence: num(),
        seed: z.number().int(),
        retention_rate: Interval.nullable(),
        /** Ratio of mean latencies (teacher ÷ student). */
        speedup_ratio: Interval,
        /** Median of the per-comparison speedups. */
        speedup_median: Interval,
      })
      .strict(),
    verdict: z
      .object({
        question: z.string(),
        margin: num(),
        confidence: num(),
        /** One-sided lower confidence bound of the retention rate (null with no teacher lift). */
        retention_lower_bound: num().nullable(),
        student_non_inferior: z.boolean(),
        /** Distinct briefs needed to show non-inferiority at this margin with `power`, at the observed retention and spread; null when the retention is not above the margin. */
        required_sample_size: z.number().int().positive().nullable(),
        power: num(),
        explanation: z.string(),
      })
      .strict(),
    /** The comparisons this report was built from, stored in the Cloud Hub (data type shadow, JSON lines): `fai shadow report --from-hub CID` rebuilds it. */
    inputs: z.object({ cid: z.string(), comparisons: z.number().int().min(2) }).strict().optional(),
    details: z.array(
      z
        .object({
          id: z.string(),
          at: z.string(),
          stage: z.string(),
          source: z.string(),
          request_id: z.string().optional(),
          brief_key: z.string(),
          first: z.enum(['teacher', 'student']),
          latency_ms: z.object({ production: num(), teacher: num(), student: num() }).strict(),
          reward: z.object({ production: num(), teacher: num(), student: num(), baseline: num() }).strict(),
          kl_divergence: num(),
          cosine_similarity: num(),
          speedup: num(),
        })
        .strict(),
    ),
  })
  .strict();
export type ShadowReport = z.infer<typeof ReportSchema>;

export interface ReportOptions {
  /** Non-inferiority margin on the retention rate (student ÷ teacher reward). */
  margin?: number;
  /** Confidence of the verdict (one-sided) and of the two-sided intervals. */
  confidence?: number;
  resamples?: number;
  seed?: number;
  /** Power the required sample size is computed for. */
  power?: number;
  now?: () => Date;
}

/** The least or greatest value, by a loop: Math.min(...values) throws a RangeError past ~125k arguments, and a full log holds ~270k. */
export function extreme(values: readonly number[], which: 'min' | 'max'): number {
  let out = which === 'min' ? Infinity : -Infinity;
  for (const v of values) if (which === 'min' ? v < out : v > out) out = v;
  return out;
}
/** Nearest-rank percentile (p in [0, 1]) of unsorted values. */
export function percentile(values: ArrayLike<number>, p: number): number {
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}
/** Inverse of the standard normal CDF (Acklam's rational approximation, |error| < 1.2e-9): no library of the field is needed for one function. */
export function normalQuantile(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  if (p > 1 - low) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
}

const round = (value: number, digits = 4) => Math.round(value * 10 ** digits) / 10 ** digits;

/** Above this many distinct briefs the intervals come from the delta method, not the bootstrap: it is linear, and as exact there. */
export const BOOTSTRAP_MAX_BRIEFS = 5_000;

/**
 * Builds the report from comparisons, in time linear in their number.
 *
 * Comparisons of one brief (one briefKey) are one unit of evidence: their rewards and latencies are
 * averaged per brief first, and every interval resamples briefs — `resamples` times from a fixed
 * seed — so repeating a brief never narrows an interval. Past BOOTSTRAP_MAX_BRIEFS briefs the
 * intervals come from the delta method instead (normal, over the same per-brief sums).
 *
 * Retention is what the student keeps of the teacher's lift over the composer alone:
 * R = Σ(sᵢ − bᵢ) ÷ Σ(tᵢ − bᵢ) over briefs (bᵢ the composer alone's reward). The student is
 * non-inferior when the one-sided lower bound of R at `confidence` is at least `margin`. The number
 * of distinct briefs that needs: n = ((z₁₋α + z_power) · σ / (R − margin))², σ the spread of the
 * linearised per-brief retention (lᵢˢ − R·lᵢᵗ) ÷ mean(lᵗ) — the delta method for a ratio of means.
 * Speedup: the ratio of mean latencies and the median of per-comparison ratios, each with its interval.
 */
export function buildReport(comparisons: readonly Comparison[], options: ReportOptions = {}): ShadowReport {
  if (comparisons.length < 2) {
    throw new FaiError(ErrorCodes.VALIDATION, `a report needs at least 2 comparisons; there ${comparisons.length === 1 ? 'is 1' : `are ${comparisons.length}`} (run fai shadow run, or let the service shadow some traffic)`, { field: 'comparisons' });
  }
  const margin = options.margin ?? 0.92;
  const confidence = options.confidence ?? 0.95;
  const resamples = options.resamples ?? 2000;
  const seed = options.seed ?? 1;
  const power = options.power ?? 0.8;
  const n = comparisons.length;

  // Per brief: the means of its comparisons (a greedy model answers a brief the same way each time).
  const groups = new Map<string, { count: number; teacher: number; student: number; baseline: number; teacherMs: number; studentMs: number }>();
  for (const c of comparisons) {
    let g = groups.get(c.briefKey);
    if (g === undefined) groups.set(c.briefKey, (g = { count: 0, teacher: 0, student: 0, baseline: 0, teacherMs: 0, studentMs: 0 }));
    g.count++;
    g.teacher += c.teacher.reward;
    g.student += c.student.reward;
    g.baseline += c.baseline;
    g.teacherMs += c.teacher.latencyMs;
    g.studentMs += c.student.latencyMs;
  }
  const briefs = [...groups.values()].map((g) => ({ lt: (g.teacher - g.baseline) / g.count, ls: (g.student - g.baseline) / g.count, tMs: g.teacherMs / g.count, sMs: g.studentMs / g.count }));
  const m = briefs.length;
  const lt = Float64Array.from(briefs, (b) => b.lt);
  const ls = Float64Array.from(briefs, (b) => b.ls);
  const tMs = Float64Array.from(briefs, (b) => b.tMs);
  const sMs = Float64Array.from(briefs, (b) => b.sMs);
  const sum = (values: ArrayLike<number>) => {
    let total = 0;
    for (let i = 0; i < values.length; i++) total += values[i]!;
    return total;
  };
  const liftT = sum(lt);
  // A teacher that adds nothing over the composer alone leaves no lift to keep: the retention is undefined, the student not shown non-inferior.
  const noLift = liftT <= 0;
  const retention = noLift ? Number.NaN : sum(ls) / liftT;
  const speedupRatio = sum(tMs) / sum(sMs);
  const speedups = comparisons.map((c) => c.speedup);
  const speedupMedian = percentile(speedups, 0.5);

  const alpha = 1 - confidence;
  const ltMean = liftT / m;
  const linearised = Float64Array.from(briefs, (b) => (noLift ? 0 : (b.ls - retention * b.lt) / ltMean));
  const linMean = sum(linearised) / m;
  let squares = 0;
  for (const d of linearised) squares += (d - linMean) ** 2;
  const spread = Math.sqrt(squares / Math.max(1, m - 1));
  let intervals: ShadowReport['intervals'];
  let lowerBound: number;
  if (m <= BOOTSTRAP_MAX_BRIEFS) {
    const random = new Random(seed);
    const bootRetention = new Float64Array(resamples);
    const bootSpeedup = new Float64Array(resamples);
    const bootMedian = new Float64Array(resamples);
    // Per-brief speedups (the median's unit is the brief too).
    const briefSpeedup = Float64Array.from(briefs, (b) => b.tMs / Math.max(b.sMs, 1e-9));
    const draw = new Float64Array(m);
    for (let r = 0; r < resamples; r++) {
      let st = 0;
      let ss = 0;
      let sT = 0;
      let sS = 0;
      for (let k = 0; k < m; k++) {
        const i = random.int(m);
        st += lt[i]!;
        ss += ls[i]!;
        sT += tMs[i]!;
        sS += sMs[i]!;
        draw[k] = briefSpeedup[i]!;
      }
      bootRetention[r] = st === 0 ? 0 : ss / st;
      bootSpeedup[r] = sT / sS;
      bootMedian[r] = median(draw);
    }
    const interval = (values: Float64Array) => ({ low: round(percentile(values, alpha / 2)), high: round(percentile(values, 1 - alpha / 2)) });
    lowerBound = percentile(bootRetention, alpha);
    intervals = { method: 'brief bootstrap, percentile', resamples, confidence, seed, retention_rate: interval(bootRetention), speedup_ratio: interval(bootSpeedup), speedup_median: interval(bootMedian) };
  } else {
    const z2 = normalQuantile(1 - alpha / 2);
    const se = spread / Math.sqrt(m);
    // The speedup ratio by the same delta method; the median by the order statistics of a binomial.
    const sMean = sum(sMs) / m;
    const linSpeed = Float64Array.from(briefs, (b) => (b.tMs - speedupRatio * b.sMs) / sMean);
    let sq = 0;
    for (const d of linSpeed) sq += d * d;
    const seSpeed = Math.sqrt(sq / Math.max(1, m - 1)) / Math.sqrt(m);
    const sorted = Float64Array.from(speedups).sort();
    const rank = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(p)))]!;
    const half = (z2 * Math.sqrt(sorted.length)) / 2;
    lowerBound = retention - normalQuantile(confidence) * se;
    intervals = {
      method: 'delta method over briefs (normal)',
      resamples: 0,
      confidence,
      seed,
      retention_rate: { low: round(retention - z2 * se), high: round(retention + z2 * se) },
      speedup_ratio: { low: round(speedupRatio - z2 * seSpeed), high: round(speedupRatio + z2 * seSpeed) },
      speedup_median: { low: round(rank(sorted.length / 2 - half)), high: round(rank(sorted.length / 2 + half)) },
    };
  }
  const gap = retention - margin;
  const required = !noLift && gap > 0 ? Math.max(2, Math.ceil((((normalQuantile(confidence) + normalQuantile(power)) * spread) / gap) ** 2)) : null;
  const nonInferior = !noLift && lowerBound >= margin;
  const explanation = noLift
    ? `the teacher adds nothing over the composer alone (mean lift ${round(ltMean)}): there is no lift for the student to keep, so it is not shown non-inferior — train the teacher longer, or pin a better one`
    : required === null
      ? `the student keeps ${round(retention)} of the teacher's lift over the composer alone, not above the margin ${margin}: no number of briefs would show it non-inferior`
      : nonInferior
        ? `over ${m} distinct briefs the ${confidence * 100} % lower bound of the retained lift, ${round(lowerBound)}, is at least ${margin}: the student is non-inferior`
        : `the ${confidence * 100} % lower bound of the retained lift, ${round(lowerBound)}, is below ${margin} over ${m} distinct briefs; about ${required} distinct briefs would show non-inferiority at ${power * 100} % power if the retention stays ${round(retention)}`;

  const kls = comparisons.map((c) => c.klDivergence);
  const meanOf = (values: readonly number[]) => sum(values) / values.length;
  const tAvg = meanOf(comparisons.map((c) => c.teacher.reward));
  const sAvg = meanOf(comparisons.map((c) => c.student.reward));
  return {
    generated_at: (options.now?.() ?? new Date()).toISOString(),
    stages: [...new Set(comparisons.map((c) => c.stage))],
    summary: {
      total_comparisons: n,
      distinct_briefs: m,
      latency: {
        teacher_avg_ms: round(meanOf(comparisons.map((c) => c.teacher.latencyMs))),
        student_avg_ms: round(meanOf(comparisons.map((c) => c.student.latencyMs))),
        production_avg_ms: round(meanOf(comparisons.map((c) => c.production.latencyMs))),
        teacher_p95_ms: round(percentile(comparisons.map((c) => c.teacher.latencyMs), 0.95)),
        student_p95_ms: round(percentile(comparisons.map((c) => c.student.latencyMs), 0.95)),
        speedup_ratio: round(speedupRatio),
      },
      reward: {
        teacher_avg: round(tAvg),
        student_avg: round(sAvg),
        production_avg: round(meanOf(comparisons.map((c) => c.production.reward))),
        baseline_avg: round(meanOf(comparisons.map((c) => c.baseline))),
        teacher_lift_avg: round(ltMean),
        student_lift_avg: round(sum(ls) / m),
        retention_rate: noLift ? null : round(retention),
        reward_ratio: round(tAvg === 0 ? 0 : sAvg / tAvg),
      },
      kl_divergence: { avg: round(meanOf(kls)), p95: round(percentile(kls, 0.95)) },
      cosine_similarity: {
        avg: round(meanOf(comparisons.map((c) => c.cosineSimilarity))),
        production_teacher_avg: round(meanOf(comparisons.map((c) => c.productionCosine.teacher))),
        production_student_avg: round(meanOf(comparisons.map((c) => c.productionCosine.student))),
      },
      speedup: { avg: round(meanOf(speedups)), median: round(speedupMedian), min: round(extreme(speedups, 'min')), max: round(extreme(speedups, 'max')) },
    },
    intervals: noLift ? { ...intervals, retention_rate: null } : intervals,
    verdict: {
      question: `does the student keep at least ${margin} of the teacher's lift over the composer alone (non-inferiority, one-sided, ${confidence * 100} % confidence, briefs as the unit)?`,
      margin,
      confidence,
      retention_lower_bound: noLift ? null : round(lowerBound),
      student_non_inferior: nonInferior,
      required_sample_size: required,
      power,
      explanation,
    },
    details: comparisons.map((c) => ({
      id: c.id,
      at: c.at,
      stage: c.stage,
      source: c.source,
      ...(c.requestId === undefined ? {} : { request_id: c.requestId }),
      brief_key: c.briefKey,
      first: c.first,
      latency_ms: { production: c.production.latencyMs, teacher: c.teacher.latencyMs, student: c.student.latencyMs },
      reward: { production: c.production.reward, teacher: c.teacher.reward, student: c.student.reward, baseline: c.baseline },
      kl_divergence: c.klDivergence,
      cosine_similarity: c.cosineSimilarity,
      speedup: c.speedup,
    })),
  };
}

/** The median of a sample (sorted in place: callers pass a scratch array). */
function median(values: Float64Array): number {
  values.sort();
  const mid = values.length >> 1;
  return values.length % 2 === 1 ? values[mid]! : (values[mid - 1]! + values[mid]!) / 2;
}

/** The JSON Schema of the report file, generated from the schema the code validates with. */
export function reportJsonSchema(): Record<string, unknown> {
  return { title: 'shadow_evaluation_results.json', ...z.toJSONSchema(ReportSchema) };
}
