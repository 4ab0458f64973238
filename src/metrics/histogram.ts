import type { Metric, MetricObjectWithValues, MetricValueWithName, Registry } from 'prom-client';
import type { HistogramDef } from './definitions.ts';
import { LabelSetBound, SeriesIndex, type LabelValues } from './labels.ts';
import { assertFinite } from './values.ts';

/** One series of a histogram, found once: `observe` on it costs a bucket search and three additions. */
export interface HistogramObserver {
  observe(value: number): void;
}

interface HistogramEntry {
  readonly labels: Record<string, string>;
  /** Observations per bucket, not cumulative: one per upper edge, then +Inf. */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}


/**
 * A histogram whose series live in our own index (as the counters' do, registry.ts) and are handed
 * to prom-client's registry in the shape its Histogram gives (`get`, `getForPromString`: the same
 * exposition text, the same JSON). prom-client's `observe` validates and hashes the label object,
 * builds a closure and turns the bucket's edge into a property name on every call (≈ 650 ns here);
 * the request accounting observes one duration per request, so a series found once (`seriesOf`)
 * costs a bucket search instead. Written here because prom-client has no bound histogram series.
 */
export class HistogramHandle<N extends string> {
  readonly def: HistogramDef;
  private readonly series: SeriesIndex<HistogramEntry>;
  private readonly upper: Float64Array;

  constructor(def: HistogramDef, registry: Registry) {
    this.def = def;
    const bounds = new LabelSetBound(def.labels);
    const upper = (this.upper = Float64Array.from([...def.buckets].sort((a, b) => a - b)));
    this.series = new SeriesIndex(bounds, (labels): HistogramEntry => ({ labels, counts: new Float64Array(upper.length + 1), sum: 0, count: 0 }));
    // Like prom-client's: a histogram without labels has its one series from the start.
    if (bounds.names.length === 0) this.series.get({});
    registry.registerMetric(this.promMetric(bounds.names) as unknown as Metric);
  }

  observe(labels: LabelValues<N>, value: number): void {
    assertFinite(this.def, value);
    this.add(this.series.get(labels), value);
  }

  /** The series of `labels` (bounded once, now): for a hot path that observes the same series every time. */
  seriesOf(labels: LabelValues<N>): HistogramObserver {
    const entry = this.series.get(labels);
    return {
      observe: (value) => {
        assertFinite(this.def, value);
        this.add(entry, value);
      },
    };
  }

  private add(entry: HistogramEntry, value: number): void {
    // prom-client's rule: the first edge the value is at or below; above them all, +Inf.
    const upper = this.upper;
    let bucket = 0;
    while (bucket < upper.length && value > upper[bucket]!) bucket++;
    entry.counts[bucket]!++;
    entry.sum += value;
    entry.count++;
  }

  /** The values as prom-client's Histogram lists them: each series' cumulative buckets (le first, then its labels), +Inf, sum, count. */
  private values(splay: boolean): MetricValueWithName<string>[] {
    const name = this.def.name;
    const values: Array<MetricValueWithName<string> & { sharedLabels?: Record<string, string>; exemplar: null | undefined }> = [];
    // prom-client's buckets carry `exemplar: null` (none kept), its sum and count `exemplar: undefined`.
    const withLabels = (own: Record<string, string | number>, shared: Record<string, string>, value: number, metricName: string, exemplar: null | undefined) =>
      values.push(splay ? { labels: { ...own, ...shared }, value, metricName, exemplar } : { labels: own, sharedLabels: shared, value, metricName, exemplar });
    for (const entry of this.series.all) {
      let cumulative = 0;
      for (let i = 0; i < this.upper.length; i++) {
        cumulative += entry.counts[i]!;
        withLabels({ le: this.upper[i]! }, entry.labels, cumulative, `${name}_bucket`, null);
      }
      withLabels({ le: '+Inf' }, entry.labels, entry.count, `${name}_bucket`, null);
      withLabels({}, entry.labels, entry.sum, `${name}_sum`, undefined);
      withLabels({}, entry.labels, entry.count, `${name}_count`, undefined);
    }
    return values;
  }

  /** What prom-client's registry reads of a metric: name, help, type, labels, values, and reset. */
  private promMetric(labelNames: readonly string[]): object {
    const read = (splay: boolean): Omit<MetricObjectWithValues<MetricValueWithName<string>>, 'collect' | 'type'> & { type: 'histogram' } => ({
      name: this.def.name,
      help: this.def.help,
      type: 'histogram',
      values: this.values(splay),
      aggregator: 'sum',
    });
    return {
      name: this.def.name,
      help: this.def.help,
      type: 'histogram',
      aggregator: 'sum',
      labelNames,
      get: async () => read(true),
      getForPromString: async () => read(false),
      // Every series back to zero; the series stay, so an observer found before still counts.
      reset: () => {
        for (const entry of this.series.all) {
          entry.counts.fill(0);
          entry.sum = 0;
          entry.count = 0;
        }
      },
    };
  }
}
