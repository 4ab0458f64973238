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
    }
  /**
   * Events over operations in the last `windowSeconds`, per group of `by` labels, summed across
   * instances (`sum(rate(num)) / sum(rate(den))`, never a sum of per-instance ratios); the worst
   * group counts. A group with fewer than `minDenominator` operations in the window has no value:
   * three failures of the first five requests are not an incident.
   */
  | {
      readonly kind: 'ratio';
      readonly windowSeconds: number;
      readonly denominator: CatalogueKey;
      readonly by: readonly string[];
      readonly minDenominator: number;
      /** Numerator series filters (the row's metric). */
      readonly match?: Readonly<Record<string, string>>;
      readonly exclude?: Readonly<Record<string, readonly string[]>>;
    };

export type ThresholdUnit = 'ms' | 'seconds' | 'ratio' | 'bytes' | 'reward' | 'fraction' | 'count' | 'per_day' | 'per_hour';

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
  /** `guide`: a threshold of the operations guide; `ours`: one we added beside them (and say so). */
  readonly origin: 'guide' | 'ours';
  readonly metric: CatalogueKey;
  readonly measure: Measure;
  readonly unit: ThresholdUnit;
  /** Which way is bad: `above` means larger values are worse. */
  readonly direction: 'above' | 'below';
  /** The guide's normal band (a value outside it but short of `warning` is still OK). */
  readonly normal: { readonly min?: number; readonly max?: number };
  /** null: the row has no warning, only a critical alert (the guide's IFRAViolation: any served violation pages). */
  readonly warning: number | null;
  readonly critical: number;
  readonly alert: ThresholdAlert;
}

const TWO_MINUTES = 120;
const FIVE_MINUTES = 300;
const ONE_DAY = 86_400;
const ONE_HOUR = 3_600;
/**
 * The guide says "GB" for VRAM. We read it as 10^9 bytes: a 24 GB card holds
 * 24 GiB ≈ 25.8e9 bytes, so the critical 25 GB is reachable on it, which it would
 * not be in GiB.
 */
const GB = 1e9;

/**
 * Violations in formulas the service itself proposed (source="served") over a window: a customer
 * checking a bad formula is not an incident. The companion counter says the checks ran.
 */
function servedViolations(windowSeconds: number): Measure {
  return { kind: 'increase', windowSeconds, producedWith: 'ifraChecksTotal', match: { source: 'served' } };
}

export const thresholdsTable: readonly ThresholdRow[] = [
  {
    id: 'llm_brief_latency_p95',
    origin: 'guide',
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
    origin: 'guide',
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
    origin: 'guide',
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
    // The guide's own alert: a formula the service served broke the regulation. Counted from the
    // per-instance sum of the violation series, so the first violation of a new ingredient counts.
    id: 'ifra_violations_served',
    origin: 'guide',
    title: 'ifra_violations_total, served, last 5 minutes (the guide\'s IFRAViolation)',
    metric: 'ifraViolationsTotal',
    measure: servedViolations(FIVE_MINUTES),
    unit: 'count',
    direction: 'above',
    normal: { max: 0 },
    warning: null,
    critical: 0,
    alert: {
      name: 'IFRAViolation',
      for: '1m',
      summary: '{{ $value | humanize }} IFRA violations in formulas served in the last 5 minutes',
      description: 'A formula the service served breaks an IFRA Standard or an EU prohibition (source="served"; customers\' own checks are source="check" and page no one). Strict regulation mode stops it at once; then find which ingredients (ifra_violations_total by ingredient) and roll back the policy that proposes them.',
      runbook: { warning: 'regulation-strict', critical: 'regulation-strict' },
    },
  },
  {
    id: 'ifra_violations_per_day',
    origin: 'guide',
    title: 'ifra_violations_total',
    metric: 'ifraViolationsTotal',
    measure: servedViolations(ONE_DAY),
    unit: 'per_day',
    direction: 'above',
    normal: { max: 0 },
    // "> 1/day": two or more violations in 24 h (counts are whole: one violation is not past the bound).
    warning: 1,
    critical: 5,
    alert: {
      name: 'IFRAViolationsPerDay',
      for: '0m',
      summary: '{{ $value | humanize }} IFRA violations in formulas served in the last 24 h',
      description: 'Formulas the service served broke IFRA Standards or EU prohibitions more often than the guide allows in a day (source="served"). Check which ingredients (ifra_violations_total by ingredient) and roll back the policy that proposes them; past the critical bound stop serving formulas.',
      runbook: { warning: 'rollback', critical: 'emergency-stop' },
    },
  },
  {
    id: 'ipfs_restore_latency_p95',
    origin: 'guide',
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
    origin: 'guide',
    title: 'system_error_rate',
    metric: 'systemErrorsTotal',
    // Errors over operations per component, summed across instances before dividing. A 4xx is the
    // caller's mistake, counted but not held against the service. Ours: the 2-minute window and the
    // 2-minute hold (a jump to 6 % fires within 4 minutes), and the 50 operations a window must hold.
    measure: { kind: 'ratio', windowSeconds: TWO_MINUTES, denominator: 'systemOperationsTotal', by: ['component'], minDenominator: 50, exclude: { error_type: ['client_error'] } },
    unit: 'ratio',
    direction: 'above',
    normal: { max: 0.01 },
    warning: 0.03,
    critical: 0.05,
    alert: {
      name: 'HighErrorRate',
      for: '2m',
      summary: 'Error rate of {{ $labels.component }} is {{ $value | humanizePercentage }}',
      description: 'Server errors, timeouts and unavailability (4xx excluded) over operations of the component, across instances, over 2 minutes with at least 50 operations, are above the threshold. Check health; if a release caused it, roll back.',
      runbook: { warning: 'health-check', critical: 'rollback' },
    },
  },
  {
    id: 'worker_vram',
    origin: 'guide',
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
      summary: 'The LLM server {{ $labels.worker_id }} holds {{ $value | humanize }}B of GPU memory',
      description: 'worker_vram_bytes — the GPU memory of the LLM server behind the slot (its processes, from nvidia-smi on the service host) — is above the threshold (GB = 10^9 bytes). Restart that slot\'s server (restart-workers --model SLOT: the deployment\'s processes of role llm) to release fragmented memory.',
      runbook: { warning: 'restart-workers', critical: 'restart-workers' },
    },
  },
  {
    id: 'shadow_reward_retention',
    origin: 'ours',
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
    origin: 'ours',
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
  {
    // Ours: the local model is the last resort; when it answers many briefs, the LLM slots are down,
    // even though every brief is fast and 200.
    id: 'llm_local_share',
    origin: 'ours',
    title: 'briefs answered by the local fallback model (share, 5 min)',
    metric: 'llmBriefsTotal',
    measure: { kind: 'ratio', windowSeconds: FIVE_MINUTES, denominator: 'llmBriefsTotal', by: [], minDenominator: 20, match: { model: 'local', fallback: 'true' } },
    unit: 'ratio',
    direction: 'above',
    normal: { max: 0.01 },
    warning: 0.1,
    critical: 0.5,
    alert: {
      name: 'LLMFallbackServing',
      for: '5m',
      summary: 'The local fallback model answered {{ $value | humanizePercentage }} of briefs over 5 minutes',
      description: 'Briefs of modes that have LLM slots are answered by the local model because their slots failed, timed out or have open breakers (llm_fallback_total by from_model and reason says which). Customers get fast, plain briefs and no error, so nothing else pages: check the LLM servers behind the slots.',
      runbook: { warning: 'health-check', critical: 'health-check' },
    },
  },
];
