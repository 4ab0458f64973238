import type { CatalogueKey } from '../metrics/index.ts';

/**
 * The operations guide's thresholds table (DESIGN.md), as data. Alert rules,
 * dashboards and the health verdict are derived from these rows; change a
 * number here and everything derived follows.
 */

/** How a row turns a metric's series into the one number it compares. */
export type Measure =
  /** Quantile of a histogram over the last `windowSeconds`, per group of `by` labels; the worst group counts. */
  | { readonly kind: 'quantile'; readonly quantile: number; readonly windowSeconds: number; readonly by: readonly string[] }
  /**
   * Current value of a gauge; series are filtered by `match` / `exclude`, summed
   * per group of `sumBy` labels when given, and the worst series or group counts.
   */
  | {
      readonly kind: 'gauge';
      readonly match?: Readonly<Record<string, string>>;
      readonly exclude?: Readonly<Record<string, readonly string[]>>;
      readonly sumBy?: readonly string[];
    }
  /**
   * Increase of a counter (all series summed) over the last `windowSeconds`. A counter that has
   * no series yet reads 0 once `producedWith` (a counter of the same code path) has series: the
   * path ran and found nothing to count.
   */
  | {
      readonly kind: 'increase';
      readonly windowSeconds: number;
      readonly producedWith?: CatalogueKey;
      /** Only series with these label values count (e.g. violations the service itself proposed). */
      readonly match?: Readonly<Record<string, string>>;
    };

export type ThresholdUnit = 'ms' | 'seconds' | 'ratio' | 'bytes' | 'reward' | 'fraction' | 'per_day' | 'per_hour';

/** The runbooks of the operations guide (automated by the runbook capability). */
export const RUNBOOKS = [
  'downshift',
  'rollback',
  'pin-update',
  'canary-promote',
  'emergency-stop',
  'restart-workers',
  'clear-cache',
  'health-check',
  'metrics-check',
  'shadow-eval',
  'regulation-strict',
] as const;
export type RunbookName = (typeof RUNBOOKS)[number];

export interface ThresholdAlert {
  /** Alert name; the warning and the critical alert of a row share it and differ by `severity`. */
  readonly name: string;
  /** How long the condition must hold before the alert fires, in Prometheus duration syntax. */
  readonly for: string;
  /** One line for people, with {{ $value }} and {{ $labels.x }} as Alertmanager templates allow. */
  readonly summary: string;
  readonly description: string;
  readonly runbook: { readonly warning: RunbookName; readonly critical: RunbookName };
  /**
   * Who the alert is for: `operations` (the default) — the people on call, and the automation
   * webhook when it names a runbook; `training` — whoever runs training jobs, and never the
   * automation: a training metric says nothing about the policy that serves.
   */
  readonly audience?: 'operations' | 'training';
}

export interface ThresholdRow {
  readonly id: string;
  /** The row as the operations guide names it. */
  readonly title: string;
  readonly metric: CatalogueKey;
  readonly measure: Measure;
  readonly unit: ThresholdUnit;
  /** Which way is bad: `above` means larger values are worse. */
  readonly direction: 'above' | 'below';
  /** The guide's normal band (a value outside it but short of `warning` is still OK). */
  readonly normal: { readonly min?: number; readonly max?: number };
  readonly warning: number;
  readonly critical: number;
  readonly alert: ThresholdAlert;
}

const FIVE_MINUTES = 300;
const ONE_DAY = 86_400;
const ONE_HOUR = 3_600;
/**
 * The guide says "GB" for VRAM. We read it as 10^9 bytes: a 24 GB card holds
 * 24 GiB ≈ 25.8e9 bytes, so the critical 25 GB is reachable on it, which it would
 * not be in GiB.
 */
const GB = 1e9;

export const thresholdsTable: readonly ThresholdRow[] = [
  {
    id: 'llm_brief_latency_p95',
    title: 'llm_brief_elapsed_ms p95',
    metric: 'llmBriefElapsedMs',
    measure: { kind: 'quantile', quantile: 0.95, windowSeconds: FIVE_MINUTES, by: ['mode', 'model'] },
    unit: 'ms',
    direction: 'above',
    normal: { max: 2000 },
    warning: 3000,
    critical: 5000,
    alert: {
      name: 'HighLLMLatency',
      for: '5m',
      summary: 'Brief generation p95 is {{ $value | humanize }} ms for {{ $labels.mode }}/{{ $labels.model }}',
      description: 'The 95th percentile of llm_brief_elapsed_ms over 5 minutes is above the threshold. Downshift the mode to a cheaper model until latency recovers.',
      runbook: { warning: 'downshift', critical: 'downshift' },
    },
  },
  {
    id: 'rl_reward_ma_100',
    title: 'rl_reward_ma (window 100)',
    metric: 'rlRewardMa',
    // What the production policy serves; a training job's episodes (source="training") page no one.
    measure: { kind: 'gauge', match: { window: '100', source: 'served' } },
    unit: 'reward',
    direction: 'below',
    normal: { min: 18, max: 25 },
    warning: 15,
    critical: 10,
    alert: {
      name: 'LowRewardMA',
      for: '10m',
      summary: 'Reward moving average (100 episodes) is {{ $value | humanize }} for {{ $labels.algorithm }}',
      description: 'The reward of the last 100 formulas the production policy served (rl_reward_ma, source="served") fell below the threshold: the served policy has degraded. Roll the policy pin back to the last good checkpoint.',
      runbook: { warning: 'rollback', critical: 'rollback' },
    },
  },
  {
    id: 'rl_clip_frac',
    title: 'rl_clip_frac',
    metric: 'rlClipFrac',
    measure: { kind: 'gauge' },
    unit: 'fraction',
    direction: 'above',
    normal: { min: 0.05, max: 0.25 },
    warning: 0.4,
    critical: 0.6,
    alert: {
      name: 'HighClipFraction',
      for: '10m',
      summary: 'PPO clip fraction is {{ $value | humanize }} for {{ $labels.algorithm }} training',
      description: 'A running training job clips too many probability ratios: its PPO step size is too large and its training is unstable. This is the training job\'s alert, for whoever runs it (audience="training"): lower the learning rate or the episodes per update and resubmit. It says nothing about the policy that serves, so no production runbook acts on it; the checkpoint this job writes should not be pinned before fai eval shows its held-out figures.',
      runbook: { warning: 'metrics-check', critical: 'metrics-check' },
      audience: 'training',
    },
  },
  {
    id: 'ifra_violations_per_day',
    title: 'ifra_violations_total',
    metric: 'ifraViolationsTotal',
    // What the service itself proposed (served formulas): a customer checking a bad formula is not an incident.
    measure: { kind: 'increase', windowSeconds: ONE_DAY, producedWith: 'ifraChecksTotal', match: { source: 'served' } },
    unit: 'per_day',
    direction: 'above',
    normal: { max: 0 },
    warning: 1,
    critical: 5,
    alert: {
      name: 'IFRAViolation',
      for: '0m',
      summary: '{{ $value | humanize }} IFRA violations in the last 24 h',
      description: 'Formulas the service served break IFRA Standards or EU prohibitions (source="served"; customers\' own checks are counted apart as source="check"). Check which ingredients (ifra_violations_total by ingredient) and roll back the policy that proposes them; past the critical bound stop serving formulas.',
      runbook: { warning: 'rollback', critical: 'emergency-stop' },
    },
  },
  {
    id: 'ipfs_restore_latency_p95',
    title: 'ipfs restore latency',
    metric: 'ipfsRestoreLatencySeconds',
    measure: { kind: 'quantile', quantile: 0.95, windowSeconds: FIVE_MINUTES, by: ['data_type'] },
    unit: 'seconds',
    direction: 'above',
    normal: { max: 0.5 },
    warning: 1,
    critical: 2,
    alert: {
      name: 'SlowHubRestore',
      for: '5m',
      summary: 'Cloud Hub restore p95 is {{ $value | humanize }} s for {{ $labels.data_type }}',
      description: 'Restoring objects from the Cloud Hub is slow (ipfs_restore_latency_seconds p95 over 5 minutes). Check disk and Redis latency; restart the workers if they hold stale connections.',
      runbook: { warning: 'restart-workers', critical: 'restart-workers' },
    },
  },
  {
    id: 'system_error_rate',
    title: 'system_error_rate',
    metric: 'systemErrorRate',
    // A 4xx is the caller's mistake, counted but not held against the service.
    measure: { kind: 'gauge', exclude: { error_type: ['client_error'] }, sumBy: ['component'] },
    unit: 'ratio',
    direction: 'above',
    normal: { max: 0.01 },
    warning: 0.03,
    critical: 0.05,
    alert: {
      name: 'HighErrorRate',
      for: '5m',
      summary: 'Error rate of {{ $labels.component }} is {{ $value | humanizePercentage }}',
      description: 'system_error_rate (server errors, timeouts and unavailability, 4xx excluded) is above the threshold. Check health; if a release caused it, roll back.',
      runbook: { warning: 'health-check', critical: 'rollback' },
    },
  },
  {
    id: 'worker_vram',
    title: 'worker VRAM',
    metric: 'workerVramBytes',
    measure: { kind: 'gauge' },
    unit: 'bytes',
    direction: 'above',
    normal: { max: 18 * GB },
    warning: 22 * GB,
    critical: 25 * GB,
    alert: {
      name: 'HighWorkerVRAM',
      for: '5m',
      summary: 'Worker {{ $labels.worker_id }} uses {{ $value | humanize }}B of GPU memory',
      description: 'worker_vram_bytes is above the threshold (GB = 10^9 bytes). Restart the workers one at a time to release fragmented memory.',
      runbook: { warning: 'restart-workers', critical: 'restart-workers' },
    },
  },
  {
    id: 'shadow_reward_retention',
    title: 'shadow reward retention (student ÷ teacher, of the lift over the composer alone)',
    metric: 'shadowRewardRetention',
    // Live comparisons only: an offline run's figure is its report's, not production's.
    measure: { kind: 'gauge', match: { source: 'live' } },
    unit: 'fraction',
    direction: 'below',
    normal: { min: 0.95 },
    warning: 0.92,
    critical: 0.85,
    alert: {
      name: 'LowShadowRetention',
      for: '30m',
      summary: 'The student keeps {{ $value | humanizePercentage }} of the teacher\'s lift in live shadow comparisons',
      description: 'shadow_reward_retention{source="live"} — what the student keeps of the teacher\'s lift over the composer alone, over the last 100 live comparisons of the pinned pair — is below the non-inferiority margin (0.92): the distilled student no longer matches its teacher. Run the offline shadow evaluation for the interval and the verdict; if the student serves production, roll its pin back.',
      runbook: { warning: 'shadow-eval', critical: 'rollback' },
    },
  },
  {
    id: 'shadow_dropped_per_hour',
    title: 'shadow comparisons dropped per hour',
    metric: 'shadowDroppedTotal',
    measure: { kind: 'increase', windowSeconds: ONE_HOUR, producedWith: 'shadowComparisonsTotal' },
    unit: 'per_hour',
    direction: 'above',
    normal: { max: 10 },
    warning: 100,
    critical: 1000,
    alert: {
      name: 'ShadowDropsRising',
      for: '15m',
      summary: '{{ $value | humanize }} sampled requests lost their shadow comparison in the last hour',
      description: 'Shadow comparisons are shed (queue full), time out, or find no teacher or student. Customers are unaffected; the evaluation is losing its sample. Check health, then lower SHADOW_RATES or raise SHADOW_CONCURRENCY.',
      runbook: { warning: 'health-check', critical: 'health-check' },
    },
  },
];
