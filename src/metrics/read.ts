import type { Registry } from 'prom-client';
import type { MetricDef } from './definitions.ts';

export type Labels = Readonly<Record<string, string>>;

export interface Sample {
  readonly labels: Labels;
  readonly value: number;
}

export interface HistogramSeries {
  readonly labels: Labels;
  /** Cumulative counts per upper edge, ascending, ending with +Inf. */
  readonly buckets: ReadonlyArray<{ readonly le: number; readonly count: number }>;
  readonly count: number;
  readonly sum: number;
}

async function readValues(registry: Registry, def: MetricDef) {
  const metric = registry.getSingleMetric(def.name);
  if (metric === undefined) throw new Error(`metric ${def.name} is not registered`);
  // get() runs the metric's collect(), so window gauges and sampled gauges are current.
  return (await metric.get()).values;
}

function stringLabels(labels: Record<string, string | number | undefined>, omit?: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(labels)) if (name !== omit && value !== undefined) out[name] = String(value);
  return out;
}

/** Current samples of a counter or gauge. */
export async function readSamples(registry: Registry, def: MetricDef): Promise<Sample[]> {
  if (def.type === 'histogram') throw new TypeError(`${def.name} is a histogram: use readHistogram`);
  return (await readValues(registry, def)).map((v) => ({ labels: stringLabels(v.labels), value: v.value }));
}

/** Current cumulative buckets, count and sum of every series of a histogram. */
export async function readHistogram(registry: Registry, def: MetricDef): Promise<HistogramSeries[]> {
  if (def.type !== 'histogram') throw new TypeError(`${def.name} is not a histogram`);
  const series = new Map<string, { labels: Labels; buckets: Array<{ le: number; count: number }>; count: number; sum: number }>();
  for (const value of await readValues(registry, def)) {
    const labels = stringLabels(value.labels, 'le');
    const key = JSON.stringify(labels);
    let entry = series.get(key);
    if (entry === undefined) {
      entry = { labels, buckets: [], count: 0, sum: 0 };
      series.set(key, entry);
    }
    const name = (value as { metricName?: string }).metricName ?? '';
    if (name.endsWith('_bucket')) {
      const le = value.labels.le;
      entry.buckets.push({ le: le === '+Inf' ? Infinity : Number(le), count: value.value });
    } else if (name.endsWith('_count')) {
      entry.count = value.value;
    } else if (name.endsWith('_sum')) {
      entry.sum = value.value;
    }
  }
  for (const entry of series.values()) entry.buckets.sort((a, b) => a.le - b.le);
  return [...series.values()];
}
