import {
  catalogue,
  readHistogram,
  readSamples,
  type HistogramSeries,
  type Labels,
  type Metrics,
  type Sample,
} from '../metrics/index.ts';
import { histogramQuantile } from './histogram-quantile.ts';
import { thresholdsTable, type Measure, type ThresholdRow } from './thresholds.ts';

export type ThresholdStatus = 'OK' | 'WARNING' | 'CRITICAL' | 'NO_DATA';

export interface RowVerdict {
  readonly id: string;
  readonly title: string;
  readonly metric: string;
  readonly status: ThresholdStatus;
  /** The measured value in the row's unit, or null when the metric has no data. */
  readonly value: number | null;
  readonly unit: ThresholdRow['unit'];
  /** Labels of the worst series or group, when the value comes from one. */
  readonly labels: Labels | null;
  /** Whether the value lies in the guide's normal band (null without data). */
  readonly inNormalRange: boolean | null;
  readonly direction: ThresholdRow['direction'];
  readonly normal: ThresholdRow['normal'];
  readonly warning: number | null;
  readonly critical: number;
  /** Seconds the value was measured over (windowed measures only). */
  readonly windowSeconds: number | null;
  readonly detail: string;
}

export interface ThresholdReport {
  readonly status: ThresholdStatus;
  readonly rows: readonly RowVerdict[];
  readonly timestamp: string;
}

const SEVERITY: Record<ThresholdStatus, number> = { NO_DATA: 0, OK: 1, WARNING: 2, CRITICAL: 3 };

/** Worst of a set of statuses; NO_DATA only when every row lacks data. */
export function worstStatus(statuses: Iterable<ThresholdStatus>): ThresholdStatus {
  let worst: ThresholdStatus = 'NO_DATA';
  for (const status of statuses) if (SEVERITY[status] > SEVERITY[worst]) worst = status;
  return worst;
}

export function classify(row: ThresholdRow, value: number): ThresholdStatus {
  if (row.direction === 'above') {
    if (value > row.critical) return 'CRITICAL';
    if (row.warning !== null && value > row.warning) return 'WARNING';
  } else {
    if (value < row.critical) return 'CRITICAL';
    if (row.warning !== null && value < row.warning) return 'WARNING';
  }
  return 'OK';
}

function inNormalRange(row: ThresholdRow, value: number): boolean {
  const { min, max } = row.normal;
  if (min !== undefined && value < min) return false;
  // The guide writes "< 2000 ms" for most rows and "0" for the violation count: max is inclusive only when it is 0.
  if (max !== undefined && (max === 0 ? value > 0 : value >= max)) return false;
  return true;
}

function groupKey(labels: Labels, names: readonly string[]): { key: string; labels: Labels } {
  const picked: Record<string, string> = {};
  for (const name of names) picked[name] = labels[name] ?? '';
  return { key: JSON.stringify(picked), labels: picked };
}

/** Cumulative bucket counts per group, summed like `sum by (le, …)`. */
type HistogramSnapshot = Map<string, { labels: Labels; buckets: Array<{ le: number; count: number }> }>;

function groupHistogram(series: readonly HistogramSeries[], by: readonly string[]): HistogramSnapshot {
  const groups: HistogramSnapshot = new Map();
  for (const s of series) {
    const { key, labels } = groupKey(s.labels, by);
    const group = groups.get(key);
    if (group === undefined) {
      groups.set(key, { labels, buckets: s.buckets.map((b) => ({ ...b })) });
    } else {
      s.buckets.forEach((b, i) => {
        group.buckets[i]!.count += b.count;
      });
    }
  }
  return groups;
}

function subtractHistogram(current: HistogramSnapshot, baseline: HistogramSnapshot | undefined): HistogramSnapshot {
  if (baseline === undefined) return current;
  const out: HistogramSnapshot = new Map();
  for (const [key, group] of current) {
    const before = baseline.get(key);
    out.set(key, {
      labels: group.labels,
      buckets: group.buckets.map((b, i) => ({ le: b.le, count: b.count - (before?.buckets[i]?.count ?? 0) })),
    });
  }
  return out;
}

function sumSamples(samples: readonly Sample[]): number {
  return samples.reduce((total, s) => total + s.value, 0);
}

/** The samples `match` keeps and `exclude` does not drop. */
function filtered(samples: readonly Sample[], match: Readonly<Record<string, string>> | undefined, exclude: Readonly<Record<string, readonly string[]>> | undefined): Sample[] {
  return samples.filter((s) => {
    for (const [name, value] of Object.entries(match ?? {})) if (s.labels[name] !== value) return false;
    for (const [name, values] of Object.entries(exclude ?? {})) if (values.includes(s.labels[name] ?? '')) return false;
    return true;
  });
}

/** Per group of `by` labels: the numerator's and the denominator's cumulative counts. */
type RatioSnapshot = Map<string, { labels: Labels; numerator: number; denominator: number }>;

function groupRatio(numerator: readonly Sample[], denominator: readonly Sample[], by: readonly string[]): RatioSnapshot {
  const groups: RatioSnapshot = new Map();
  const add = (samples: readonly Sample[], field: 'numerator' | 'denominator') => {
    for (const sample of samples) {
      const { key, labels } = groupKey(sample.labels, by);
      const group = groups.get(key) ?? { labels, numerator: 0, denominator: 0 };
      group[field] += sample.value;
      groups.set(key, group);
    }
  };
  add(numerator, 'numerator');
  add(denominator, 'denominator');
  return groups;
}

function selectGauge(samples: readonly Sample[], measure: Extract<Measure, { kind: 'gauge' }>): Sample[] {
  const kept = filtered(samples, measure.match, measure.exclude);
  if (measure.sumBy === undefined) return kept;
  const groups = new Map<string, { labels: Labels; value: number }>();
  for (const s of kept) {
    const { key, labels } = groupKey(s.labels, measure.sumBy);
    const group = groups.get(key) ?? { labels, value: 0 };
    group.value += s.value;
    groups.set(key, group);
  }
  return [...groups.values()];
}

/** A snapshot of what a windowed row needs, taken at `atMs`. */
type Snapshot = { atMs: number; value: HistogramSnapshot | RatioSnapshot | number };

/**
 * Evaluates the thresholds table against the live values of one metrics
 * registry. Windowed rows (quantiles, increases) are measured against snapshots
 * the evaluator takes on a timer, like Prometheus' `rate` over a range: the
 * value covers the last window, or the time since the service started when it
 * has run for less.
 */
export class ThresholdEvaluator {
  private readonly metrics: Metrics;
  private readonly rows: readonly ThresholdRow[];
  private readonly now: () => number;
  private readonly history = new Map<string, Snapshot[]>();
  private timer: NodeJS.Timeout | undefined;

  constructor(metrics: Metrics, options: { rows?: readonly ThresholdRow[]; now?: () => number } = {}) {
    this.metrics = metrics;
    this.rows = options.rows ?? thresholdsTable;
    this.now = options.now ?? Date.now;
  }

  /** Snapshot interval for a window: 1/60 of it, at least 5 s. */
  static intervalMs(windowSeconds: number): number {
    return Math.max(5_000, (windowSeconds * 1000) / 60);
  }

  /** Takes the snapshots windowed rows need, on a timer that does not keep the process alive. */
  start(tickMs = 5_000): void {
    if (this.timer !== undefined) return;
    void this.sample();
    this.timer = setInterval(() => void this.sample(), tickMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Takes a snapshot for every windowed row whose interval has passed. */
  async sample(): Promise<void> {
    const atMs = this.now();
    for (const row of this.rows) {
      if (row.measure.kind === 'gauge') continue;
      const snapshots = this.history.get(row.id) ?? [];
      const latest = snapshots[snapshots.length - 1];
      if (latest !== undefined && atMs - latest.atMs < ThresholdEvaluator.intervalMs(row.measure.windowSeconds)) continue;
      snapshots.push({ atMs, value: await this.cumulative(row) });
      // Keep one snapshot at or before the window's start, and everything after it.
      const windowStart = atMs - row.measure.windowSeconds * 1000;
      while (snapshots.length > 1 && snapshots[1]!.atMs <= windowStart) snapshots.shift();
      this.history.set(row.id, snapshots);
    }
  }

  async evaluate(): Promise<ThresholdReport> {
    const rows: RowVerdict[] = [];
    for (const row of this.rows) rows.push(await this.evaluateRow(row));
    return { status: worstStatus(rows.map((r) => r.status)), rows, timestamp: new Date(this.now()).toISOString() };
  }

  private async cumulative(row: ThresholdRow): Promise<HistogramSnapshot | RatioSnapshot | number> {
    const def = catalogue[row.metric];
    if (row.measure.kind === 'quantile') return groupHistogram(await readHistogram(this.metrics.registry, def), row.measure.by);
    if (row.measure.kind === 'ratio') {
      const numerator = filtered(await readSamples(this.metrics.registry, def), row.measure.match, row.measure.exclude);
      return groupRatio(numerator, await readSamples(this.metrics.registry, catalogue[row.measure.denominator]), row.measure.by);
    }
    return sumSamples(filtered(await readSamples(this.metrics.registry, def), row.measure.kind === 'increase' ? row.measure.match : undefined, undefined));
  }

  /** The newest snapshot at or before the window's start, else the oldest one (the service is younger than the window). */
  private baseline(row: ThresholdRow, windowSeconds: number): Snapshot | undefined {
    const snapshots = this.history.get(row.id) ?? [];
    const windowStart = this.now() - windowSeconds * 1000;
    let chosen: Snapshot | undefined = snapshots[0];
    for (const s of snapshots) if (s.atMs <= windowStart) chosen = s;
    return chosen;
  }

  private async evaluateRow(row: ThresholdRow): Promise<RowVerdict> {
    const def = catalogue[row.metric];
    const base = {
      id: row.id,
      title: row.title,
      metric: def.name,
      unit: row.unit,
      direction: row.direction,
      normal: row.normal,
      warning: row.warning,
      critical: row.critical,
    };
    const verdict = (value: number | null, labels: Labels | null, windowSeconds: number | null, detail: string): RowVerdict =>
      value === null
        ? { ...base, status: 'NO_DATA', value, labels, inNormalRange: null, windowSeconds, detail }
        : { ...base, status: classify(row, value), value, labels, inNormalRange: inNormalRange(row, value), windowSeconds, detail };
    const measure = row.measure;

    if (measure.kind === 'gauge') {
      const candidates = selectGauge(await readSamples(this.metrics.registry, def), measure);
      if (candidates.length === 0) return verdict(null, null, null, `no series of ${def.name}`);
      const worst = candidates.reduce((a, b) => ((row.direction === 'above' ? b.value > a.value : b.value < a.value) ? b : a));
      return verdict(worst.value, worst.labels, null, `worst of ${candidates.length} series`);
    }

    const baseline = this.baseline(row, measure.windowSeconds);
    const coveredSeconds = baseline === undefined ? null : (this.now() - baseline.atMs) / 1000;
    const since = coveredSeconds === null ? 'since the service started' : `over the last ${Math.round(coveredSeconds)} s`;

    if (measure.kind === 'increase') {
      const series = filtered(await readSamples(this.metrics.registry, def), measure.match, undefined);
      // Counts are whole events: a counter that has no series yet, or only series at 0, counted nothing.
      const increase = sumSamples(series) - ((baseline?.value as number | undefined) ?? 0);
      if (increase === 0) {
        // A real 0 once the code path ran: the counter counted before, or its companion counter moved.
        // Otherwise there is no data, and we say so rather than report 0.
        const companion = measure.producedWith === undefined ? undefined : catalogue[measure.producedWith];
        const companionMoved = companion !== undefined && sumSamples(await readSamples(this.metrics.registry, companion)) > 0;
        const ran = sumSamples(series) > 0 || companionMoved || (companion === undefined && series.length > 0);
        if (!ran) return verdict(null, null, measure.windowSeconds, `no ${def.name} yet${companion === undefined ? '' : `: ${companion.name} has counted nothing`}`);
        return verdict(0, null, measure.windowSeconds, companionMoved ? `0 ${since} (${companion!.name} shows the checks ran)` : `0 ${since}`);
      }
      return verdict(increase, null, measure.windowSeconds, `${increase} ${since}`);
    }

    if (measure.kind === 'ratio') {
      const current = (await this.cumulative(row)) as RatioSnapshot;
      const before = baseline?.value as RatioSnapshot | undefined;
      let worst: { value: number; labels: Labels; denominator: number } | null = null;
      let thin = 0;
      for (const [key, group] of current) {
        const denominator = group.denominator - (before?.get(key)?.denominator ?? 0);
        const numerator = group.numerator - (before?.get(key)?.numerator ?? 0);
        if (denominator <= 0) continue;
        if (denominator < measure.minDenominator) {
          thin += 1;
          continue;
        }
        const value = numerator / denominator;
        if (worst === null || (row.direction === 'above' ? value > worst.value : value < worst.value)) worst = { value, labels: group.labels, denominator };
      }
      const denominatorName = catalogue[measure.denominator].name;
      if (worst === null)
        return verdict(null, null, measure.windowSeconds, thin > 0 ? `fewer than ${measure.minDenominator} ${denominatorName} ${since}` : `no ${denominatorName} ${since}`);
      return verdict(worst.value, worst.labels, measure.windowSeconds, `${def.name} / ${denominatorName} ${since} (${worst.denominator} of them)`);
    }

    const current = (await this.cumulative(row)) as HistogramSnapshot;
    const window = subtractHistogram(current, baseline?.value as HistogramSnapshot | undefined);
    let worst: { value: number; labels: Labels } | null = null;
    for (const group of window.values()) {
      const value = histogramQuantile(measure.quantile, group.buckets);
      if (value === null) continue;
      if (worst === null || (row.direction === 'above' ? value > worst.value : value < worst.value)) worst = { value, labels: group.labels };
    }
    if (worst === null) return verdict(null, null, measure.windowSeconds, `no observations of ${def.name} ${since}`);
    return verdict(worst.value, worst.labels, measure.windowSeconds, `p${Math.round(measure.quantile * 100)} ${since}, worst of ${window.size} groups`);
  }
}
