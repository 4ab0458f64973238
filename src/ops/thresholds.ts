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
  /** Increase of a counter (all series summed) over the last `windowSeconds`. */
  | { readonly kind: 'increase'; readonly windowSeconds: number };

export type ThresholdUnit = 'ms' | 'seconds' | 'ratio' | 'bytes' | 'reward' | 'fraction' | 'per_day';

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
}

const FIVE_MINUTES = 300;
const ONE_DAY = 86_400;
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
  },
  {
    id: 'rl_reward_ma_100',
    title: 'rl_reward_ma (window 100)',
    metric: 'rlRewardMa',
    measure: { kind: 'gauge', match: { window: '100' } },
    unit: 'reward',
    direction: 'below',
    normal: { min: 18, max: 25 },
    warning: 15,
    critical: 10,
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
  },
  {
    id: 'ifra_violations_per_day',
    title: 'ifra_violations_total',
    metric: 'ifraViolationsTotal',
    measure: { kind: 'increase', windowSeconds: ONE_DAY },
    unit: 'per_day',
    direction: 'above',
    normal: { max: 0 },
    warning: 1,
    critical: 5,
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
  },
];
