import { z } from 'zod';
import { ErrorCodes, FaiError } from '../errors/index.ts';
import { Random } from '../learning/index.ts';
import type { Comparison } from './log.ts';

const num = () => z.number().finite();
const Interval = z.object({ low: num(), high: num() }).strict();

/**
 * `shadow_evaluation_results.json`: the operations guide's shape (`summary`, `details`) plus what the
 * original never had — paired bootstrap intervals for retention and speedup, a non-inferiority
 * verdict at a stated margin and confidence, and the sample size that verdict needs.
 */
export const ReportSchema = z
  .object({
    generated_at: z.string(),
    stages: z.array(z.string()),
    summary: z
      .object({
        total_comparisons: z.number().int().min(2),
        latency: z
          .object({ teacher_avg_ms: num(), student_avg_ms: num(), production_avg_ms: num(), teacher_p95_ms: num(), student_p95_ms: num(), speedup_ratio: num() })
          .strict(),
        reward: z.object({ teacher_avg: num(), student_avg: num(), production_avg: num(), retention_rate: num() }).strict(),
        kl_divergence: z.object({ avg: num(), p95: num() }).strict(),
        cosine_similarity: z.object({ avg: num() }).strict(),
        speedup: z.object({ avg: num(), min: num(), max: num() }).strict(),
      })
      .strict(),
    intervals: z
      .object({
        method: z.literal('paired bootstrap, percentile'),
        resamples: z.number().int().positive(),
        confidence: num(),
        seed: z.number().int(),
        /** Student mean reward ÷ teacher mean reward. */
        retention_rate: Interval,
        /** Teacher mean latency ÷ student mean latency. */
        speedup_ratio: Interval,
      })
      .strict(),
    verdict: z
      .object({
        question: z.string(),
        margin: num(),
        confidence: num(),
        /** One-sided lower confidence bound of the retention rate. */
        retention_lower_bound: num(),
        student_non_inferior: z.boolean(),
        /** Comparisons needed to show non-inferiority at this margin with `power`, at the observed retention and spread; null when the retention is not above the margin. */
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
          latency_ms: z.object({ production: num(), teacher: num(), student: num() }).strict(),
          reward: z.object({ production: num(), teacher: num(), student: num() }).strict(),
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

const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;
/** The least or greatest value, by a loop: Math.min(...values) throws a RangeError past ~125k arguments, and a full log holds ~270k. */
export function extreme(values: readonly number[], which: 'min' | 'max'): number {
  let out = which === 'min' ? Infinity : -Infinity;
  for (const v of values) if (which === 'min' ? v < out : v > out) out = v;
  return out;
}
/** Nearest-rank percentile (p in [0, 1]) of unsorted values. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
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

/**
 * Builds the report from comparisons. Retention is the ratio of mean rewards (student ÷ teacher),
 * speedup ratio the ratio of mean latencies (teacher ÷ student); their intervals resample the
 * comparisons as pairs (each keeps its teacher and student together), `resamples` times from a fixed
 * seed, so the same comparisons give the same report. The verdict: the student is non-inferior when
 * the one-sided lower bound of the retention at `confidence` is at least `margin`. The sample size
 * it needs: n = ((z₁₋α + z_power) · σ / (R − margin))², σ the spread of the linearised per-pair
 * retention (sᵢ − R·tᵢ) / t̄ — the delta method for a ratio of means.
 */
export function buildReport(comparisons: readonly Comparison[], options: ReportOptions = {}): ShadowReport {
  if (comparisons.length < 2) {
    throw new FaiError(ErrorCodes.VALIDATION, `a report needs at least 2 comparisons; there ${comparisons.length === 1 ? 'is 1' : `are ${comparisons.length}`} (run fai shadow run, or let the service shadow some traffic)`, { field: 'comparisons' });
  }
  if (comparisons.reduce((a, c) => a + c.teacher.reward, 0) <= 0) {
    throw new FaiError(ErrorCodes.VALIDATION, 'the teacher\'s mean reward is not positive: a retention rate (student ÷ teacher) means nothing here', { field: 'comparisons' });
  }
  const margin = options.margin ?? 0.92;
  const confidence = options.confidence ?? 0.95;
  const resamples = options.resamples ?? 2000;
  const seed = options.seed ?? 1;
  const power = options.power ?? 0.8;
  const n = comparisons.length;
  const t = comparisons.map((c) => c.teacher.reward);
  const s = comparisons.map((c) => c.student.reward);
  const tMs = comparisons.map((c) => c.teacher.latencyMs);
  const sMs = comparisons.map((c) => c.student.latencyMs);
  const retentionOf = (idx: readonly number[]) => idx.reduce((a, i) => a + s[i]!, 0) / idx.reduce((a, i) => a + t[i]!, 0);
  const speedupOf = (idx: readonly number[]) => idx.reduce((a, i) => a + tMs[i]!, 0) / idx.reduce((a, i) => a + sMs[i]!, 0);
  const all = comparisons.map((_, i) => i);
  const retention = retentionOf(all);
  const speedupRatio = speedupOf(all);

  const random = new Random(seed);
  const bootRetention: number[] = [];
  const bootSpeedup: number[] = [];
  for (let r = 0; r < resamples; r++) {
    const idx = Array.from({ length: n }, () => random.int(n));
    bootRetention.push(retentionOf(idx));
    bootSpeedup.push(speedupOf(idx));
  }
  const alpha = 1 - confidence;
  const interval = (values: number[]) => ({ low: round(percentile(values, alpha / 2)), high: round(percentile(values, 1 - alpha / 2)) });
  const lowerBound = percentile(bootRetention, alpha);

  const tMean = mean(t);
  const linearised = comparisons.map((_, i) => (s[i]! - retention * t[i]!) / tMean);
  const spread = Math.sqrt(linearised.reduce((a, d) => a + (d - mean(linearised)) ** 2, 0) / (n - 1));
  const gap = retention - margin;
  const required = gap > 0 ? Math.max(2, Math.ceil((((normalQuantile(confidence) + normalQuantile(power)) * spread) / gap) ** 2)) : null;
  const nonInferior = lowerBound >= margin;
  const explanation =
    required === null
      ? `the observed retention ${round(retention)} is not above the margin ${margin}: no number of comparisons would show the student non-inferior`
      : nonInferior
        ? `with ${n} comparisons the ${confidence * 100} % lower bound of the retention, ${round(lowerBound)}, is at least ${margin}: the student is non-inferior`
        : `the ${confidence * 100} % lower bound of the retention, ${round(lowerBound)}, is below ${margin} with ${n} comparisons; about ${required} would show non-inferiority at ${power * 100} % power if the retention stays ${round(retention)}`;

  const kls = comparisons.map((c) => c.klDivergence);
  const speedups = comparisons.map((c) => c.speedup);
  return {
    generated_at: (options.now?.() ?? new Date()).toISOString(),
    stages: [...new Set(comparisons.map((c) => c.stage))],
    summary: {
      total_comparisons: n,
      latency: {
        teacher_avg_ms: round(mean(tMs)),
        student_avg_ms: round(mean(sMs)),
        production_avg_ms: round(mean(comparisons.map((c) => c.production.latencyMs))),
        teacher_p95_ms: round(percentile(tMs, 0.95)),
        student_p95_ms: round(percentile(sMs, 0.95)),
        speedup_ratio: round(speedupRatio),
      },
      reward: { teacher_avg: round(tMean), student_avg: round(mean(s)), production_avg: round(mean(comparisons.map((c) => c.production.reward))), retention_rate: round(retention) },
      kl_divergence: { avg: round(mean(kls)), p95: round(percentile(kls, 0.95)) },
      cosine_similarity: { avg: round(mean(comparisons.map((c) => c.cosineSimilarity))) },
      speedup: { avg: round(mean(speedups)), min: round(extreme(speedups, 'min')), max: round(extreme(speedups, 'max')) },
    },
    intervals: { method: 'paired bootstrap, percentile', resamples, confidence, seed, retention_rate: interval(bootRetention), speedup_ratio: interval(bootSpeedup) },
    verdict: {
      question: `is the student's reward at least ${margin} × the teacher's (non-inferiority, one-sided, ${confidence * 100} % confidence)?`,
      margin,
      confidence,
      retention_lower_bound: round(lowerBound),
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
      latency_ms: { production: c.production.latencyMs, teacher: c.teacher.latencyMs, student: c.student.latencyMs },
      reward: { production: c.production.reward, teacher: c.teacher.reward, student: c.student.reward },
      kl_divergence: c.klDivergence,
      cosine_similarity: c.cosineSimilarity,
      speedup: c.speedup,
    })),
  };
}

/** The JSON Schema of the report file, generated from the schema the code validates with. */
export function reportJsonSchema(): Record<string, unknown> {
  return { title: 'shadow_evaluation_results.json', ...z.toJSONSchema(ReportSchema) };
}
