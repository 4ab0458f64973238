import { z } from 'zod';

/**
 * The metrics training writes. The service's `Metrics` satisfies it; so does a MetricRelay, which
 * training uses where it runs away from the service's registry (a worker thread, a `fai worker`
 * process on another machine) and whose updates the service applies to its own /metrics.
 */
export interface LearningMetrics {
  readonly rlRewardMa: { set(labels: { algorithm: string; window: string; source: string; job_id: string }, value: number): void };
  readonly rlClipFrac: { set(labels: { algorithm: string; job_id: string }, value: number): void };
  readonly hybridSwitchTotal: { inc(labels: { from_mode: string; to_mode: string }, amount?: number): void };
  readonly hybridSwitchRatio: { set(labels: { mode: string; job_id: string }, value: number): void };
}

/** The `job_id` of series written outside the job system (a `fai train` run, a test); a job's updates carry its own id (applyMetricUpdates). */
export const LOCAL_JOB = 'local';

const GAUGES = ['rlRewardMa', 'rlClipFrac', 'hybridSwitchRatio'] as const;
const COUNTERS = ['hybridSwitchTotal'] as const;

/** One coalesced change: a gauge's latest value, or a counter's increase since the last drain. */
export const MetricUpdateSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('set'), metric: z.enum(GAUGES), labels: z.record(z.string(), z.string().max(64)), value: z.number().finite() }).strict(),
  z.object({ op: z.literal('inc'), metric: z.enum(COUNTERS), labels: z.record(z.string(), z.string().max(64)), value: z.number().finite().nonnegative() }).strict(),
]);
export type MetricUpdate = z.infer<typeof MetricUpdateSchema>;

/**
 * Records training's metric writes as updates, coalesced per series between drains: thousands of
 * rl_reward_ma writes a second become one `set` per series, and the switches one `inc` by their count.
 */
export class MetricRelay implements LearningMetrics {
  private pending = new Map<string, MetricUpdate>();
  readonly rlRewardMa = this.gauge('rlRewardMa');
  readonly rlClipFrac = this.gauge('rlClipFrac');
  readonly hybridSwitchRatio = this.gauge('hybridSwitchRatio');
  readonly hybridSwitchTotal = {
    inc: (labels: Record<string, string>, amount = 1) => {
      const key = `hybridSwitchTotal${JSON.stringify(labels)}`;
      const existing = this.pending.get(key);
      if (existing !== undefined) existing.value += amount;
      else this.pending.set(key, { op: 'inc', metric: 'hybridSwitchTotal', labels: { ...labels }, value: amount });
    },
  };

  private gauge(metric: (typeof GAUGES)[number]) {
    return {
      set: (labels: Record<string, string>, value: number) => {
        this.pending.set(`${metric}${JSON.stringify(labels)}`, { op: 'set', metric, labels: { ...labels }, value });
      },
    };
  }

  /** The updates since the last drain. */
  drain(): MetricUpdate[] {
    const out = [...this.pending.values()];
    this.pending = new Map();
    return out;
  }
}

/**
 * Applies relayed updates to a registry; updates that fail validation (from another machine) are
 * counted and skipped. With `jobId`, the training series are the job's own (`job_id`), so concurrent
 * jobs never overwrite each other and each clears only its own when it ends (clearTrainingSeries).
 */
export function applyMetricUpdates(metrics: LearningMetrics, updates: unknown, jobId?: string): { applied: number; rejected: number } {
  let applied = 0;
  let rejected = 0;
  for (const raw of Array.isArray(updates) ? updates : []) {
    const parsed = MetricUpdateSchema.safeParse(raw);
    if (!parsed.success) {
      rejected++;
      continue;
    }
    const update = parsed.data;
    if (jobId !== undefined && update.op === 'set' && 'job_id' in update.labels) update.labels.job_id = jobId;
    try {
      if (update.op === 'inc') metrics.hybridSwitchTotal.inc(update.labels as { from_mode: string; to_mode: string }, update.value);
      else (metrics[update.metric] as { set(labels: Record<string, string>, value: number): void }).set(update.labels, update.value);
      applied++;
    } catch {
      // Wrong label names for the metric: the registry refuses them; nothing half-applied.
      rejected++;
    }
  }
  return { applied, rejected };
}
