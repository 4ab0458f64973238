import { performance } from 'node:perf_hooks';
import { Counter, Gauge, Registry, collectDefaultMetrics, type Metric } from 'prom-client';
import { catalogueEntries, type Catalogue, type CatalogueKey } from './catalogue.ts';
import type { CounterDef, GaugeDef, WindowGaugeDef } from './definitions.ts';
import { HistogramHandle } from './histogram.ts';
import { LabelSetBound, labelKey, SeriesIndex, type LabelValues } from './labels.ts';
import { SlidingWindow, type WindowSeries } from './sliding-window.ts';
import { assertFinite } from './values.ts';

type LabelNames<D> = D extends { labels: infer L } ? keyof L & string : never;


/**
 * A counter whose series live in a Map keyed by the bounded label values and are
 * handed to prom-client at scrape time. prom-client's own `inc` hashes and
 * validates the label object on every call (≈ 0.5 µs); this path costs a Set and
 * a Map lookup, which matters where one request moves dozens of series (a
 * compliance check counts every allergen it finds).
 */
/** One series of a counter, found once: `inc` on it costs an addition (and one per sliding window fed). */
export interface CounterSeries {
  /** Adds `amount` (1); `at`: the time of the event on the metrics' clock (`Metrics.now`), for a caller that has read it already. */
  inc(amount?: number, at?: number): void;
}

interface CounterEntry {
  readonly labels: Record<string, string>;
  readonly key: string;
  /** `{name="value",…}` as the exposition format writes it: escaped once, when the series is created. */
  readonly labelText: string;
  value: number;
  /** The entry's series in each window the counter feeds, in `windows` order (filled on first increment). */
  windowSeries: WindowSeries[] | undefined;
}

/** Metrics whose exposition text we write ourselves (with the format prom-client writes), by metric object. */
const RENDERERS = new WeakMap<object, () => string | Promise<string>>();

/** The exposition format's escaping (prom-client's, for identical output): backslash and newline; in label values, quotes too. */
function escapeText(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/**
 * The exposition text of one of our metrics, as prom-client writes it: its HELP and TYPE lines (made
 * once), then `name{labels} value` for each series, from the label text the series keeps.
 */
function exposition(def: { readonly name: string; readonly help: string }, type: 'counter' | 'gauge'): (series: Iterable<{ readonly labelText: string; readonly value: number }>) => string {
  const name = def.name;
  const head = `# HELP ${escapeText(name)} ${escapeText(def.help)}\n# TYPE ${escapeText(name)} ${type}`;
  return (series) => {
    let text = head;
    for (const entry of series) text += `\n${name}${entry.labelText} ${entry.value}`;
    return text;
  };
}

function labelText(labels: Readonly<Record<string, string>>): string {
  const parts: string[] = [];
  for (const [name, value] of Object.entries(labels)) parts.push(`${name}="${escapeText(value).replace(/"/g, '\\"')}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

/**
 * prom-client's registry, rendering our counters and gauges from their series: each series' label
 * text is escaped once, when it is created, and a scrape writes `name{labels} value` for each — where
 * prom-client would reset the counter, add every series back through its label hashing, then format
 * and escape every label of every sample again (most of a scrape at the label bounds: 10,000
 * ifra_violations_total series, and 2,000 gauge series that cost prom-client about 2 µs each). Every
 * other metric (the histograms, Node's own) renders as prom-client renders it.
 */
class CatalogueRegistry extends Registry {
  // prom-client 15's per-metric renderer, which metrics() calls for each metric: not in its type declarations.
  async getMetricsAsString(metric: Metric): Promise<string> {
    const render = RENDERERS.get(metric);
    return render !== undefined && this.contentType === Registry.PROMETHEUS_CONTENT_TYPE ? render() : PROM_CLIENT_RENDER.call(this, metric);
  }
}

/** prom-client's own rendering of one metric (also what a test compares ours with). */
export const PROM_CLIENT_RENDER = (Registry.prototype as unknown as { getMetricsAsString(this: Registry, metric: Metric): Promise<string> }).getMetricsAsString;

/** Series a counter may start at 0 with: every combination of its enumerated label values. */
const MAX_ZERO_SERIES = 256;

/** Every label combination when each label lists its values (none when one is open, or there would be too many). */
function enumerated(labels: CounterDef['labels']): Array<Record<string, string>> {
  let combos: Array<Record<string, string>> = [{}];
  for (const [name, spec] of Object.entries(labels)) {
    if (!('values' in spec)) return [];
    combos = combos.flatMap((combo) => spec.values.map((value) => ({ ...combo, [name]: value })));
    if (combos.length > MAX_ZERO_SERIES) return [];
  }
  return combos;
}

export class CounterHandle<N extends string> {
  readonly def: CounterDef;
  private readonly series: SeriesIndex<CounterEntry>;
  private readonly windows: SlidingWindow[] = [];

  constructor(def: CounterDef, registry: Registry) {
    this.def = def;
    const bounds = new LabelSetBound(def.labels);
    const series = (this.series = new SeriesIndex(bounds, (labels, key): CounterEntry => ({ labels, key, labelText: labelText(labels), value: 0, windowSeries: undefined })));
    const counter = new Counter({
      name: def.name,
      help: def.help,
      labelNames: bounds.names,
      registers: [registry],
      // For readers of the metric object (get()); a scrape renders the entries directly (CatalogueRegistry).
      collect() {
        this.reset();
        for (const { labels, value } of series.all) this.inc(labels, value);
      },
    });
    // Every series whose labels are all enumerated starts at 0 when the counter is registered
    // (Prometheus' "avoid missing metrics"): a series that first appears at 1 shows rate() and
    // increase() no step, so the first error or fallback would go unseen. Counters with an open label
    // (an ingredient) cannot be enumerated; their rules count new series instead (ops/promql.ts).
    for (const labels of enumerated(def.labels)) series.get(labels);
    const render = exposition(def, 'counter');
    RENDERERS.set(counter, () => render(series.all));
  }

  inc(labels: LabelValues<N>, amount = 1): void {
    this.add(this.series.get(labels), amount);
  }

  /** The series of `labels` (bounded once, now): for a hot path that moves the same series every time. */
  seriesOf(labels: LabelValues<N>): CounterSeries {
    const entry = this.series.get(labels);
    return { inc: (amount = 1, at?: number) => this.add(entry, amount, at) };
  }

  /** Used by window gauges: every increment is also counted in `window`. */
  feed(window: SlidingWindow): void {
    this.windows.push(window);
    for (const entry of this.series.all) entry.windowSeries = undefined;
  }

  private add(entry: CounterEntry, amount: number, at?: number): void {
    // One, the amount nearly every increment adds, needs no checking.
    if (amount !== 1) {
      assertFinite(this.def, amount);
      if (amount < 0) throw new RangeError(`${this.def.name}: a counter cannot decrease (${amount})`);
    }
    entry.value += amount;
    const windows = this.windows;
    if (windows.length === 0) return;
    const windowSeries = (entry.windowSeries ??= windows.map((window) => window.seriesOf(entry.key, entry.labels)));
    for (let i = 0; i < windows.length; i++) windows[i]!.addTo(windowSeries[i]!, amount, at);
  }
}

/** One series of a gauge: its labels, their exposition text (escaped once) and its value. */
interface GaugeEntry {
  readonly labels: Record<string, string>;
  readonly labelText: string;
  value: number;
}

export class GaugeHandle<N extends string> {
  readonly def: GaugeDef;
  private readonly bounds: LabelSetBound;
  private readonly collectors: Array<() => void | Promise<void>> = [];
  /**
   * The series, by label key, in the order prom-client keeps them (first set first; one removed and
   * set again goes last). A gauge's series come and go (a job's, a worker's), so they are kept here
   * rather than in a SeriesIndex, which never drops one.
   */
  private readonly series = new Map<string, GaugeEntry>();

  constructor(def: GaugeDef, registry: Registry) {
    this.def = def;
    const bounds = (this.bounds = new LabelSetBound(def.labels));
    const collectors = this.collectors;
    const series = this.series;
    // Like prom-client's: a gauge without labels has its one series, at 0, from the start.
    if (bounds.names.length === 0) series.set('', { labels: {}, labelText: '', value: 0 });
    const gauge = new Gauge({
      name: def.name,
      help: def.help,
      labelNames: bounds.names,
      registers: [registry],
      // For readers of the metric object (get()); a scrape renders the series directly (CatalogueRegistry).
      async collect() {
        for (const collector of collectors) await collector();
        this.reset();
        for (const { labels, value } of series.values()) this.set(labels, value);
      },
    });
    const render = exposition(def, 'gauge');
    RENDERERS.set(gauge, async () => {
      for (const collector of collectors) await collector();
      return render(series.values());
    });
  }

  set(labels: LabelValues<N>, value: number): void {
    assertFinite(this.def, value);
    const bound = this.bounds.bound(labels);
    const key = labelKey(this.bounds.names, bound);
    const entry = this.series.get(key);
    if (entry !== undefined) entry.value = value;
    else this.series.set(key, { labels: bound, labelText: labelText(bound), value });
  }

  /** Drops a series, so the metric is absent rather than stale or zero. */
  remove(labels: LabelValues<N>): void {
    this.series.delete(labelKey(this.bounds.names, this.bounds.bound(labels)));
  }

  /** Runs `collector` at every scrape, before the values are read: for values sampled from the process or a device. */
  onCollect(collector: () => void | Promise<void>): void {
    this.collectors.push(collector);
  }
}

/**
 * A gauge whose value is computed at scrape time from counter events over a
 * sliding window. It has no setter: the only way to move it is to count the
 * events it describes.
 */
export class WindowGaugeHandle {
  readonly def: WindowGaugeDef;

  constructor(def: WindowGaugeDef, registry: Registry, sources: Map<string, CounterHandle<string>>, now: () => number) {
    this.def = def;
    const spec = def.window;
    const source = (key: string): CounterHandle<string> => {
      const handle = sources.get(key);
      if (handle === undefined) throw new Error(`${def.name}: window source "${key}" is not a counter in the catalogue`);
      return handle;
    };
    let collect: (gauge: Gauge<string>) => void;
    if (spec.kind === 'rate') {
      const window = new SlidingWindow(spec.seconds, now);
      source(spec.counter).feed(window);
      collect = (gauge) => {
        const seconds = window.coveredSeconds();
        for (const { labels, count } of window.totals()) gauge.set(labels, count / seconds);
      };
    } else {
      const numerator = new SlidingWindow(spec.seconds, now);
      const denominator = new SlidingWindow(spec.seconds, now);
      source(spec.numerator).feed(numerator);
      const denominatorHandle = source(spec.denominator);
      denominatorHandle.feed(denominator);
      const denominatorLabels = Object.keys(denominatorHandle.def.labels);
      const zeroSeries = zeroSeriesFor(def, denominatorLabels);
      collect = (gauge) => {
        gauge.reset();
        // Every operation series with attempts in the window gets an explicit 0 for each known error kind
        // (a real 0% rather than an absent series); the error counts then overwrite their own series.
        for (const { labels, count: attempts } of denominator.totals()) {
          if (attempts > 0) for (const extra of zeroSeries) gauge.set({ ...labels, ...extra }, 0);
        }
        for (const { labels, count } of numerator.totals()) {
          const attempts = denominator.sum(labelKey(denominatorLabels, labels));
          // No operations in the window: the ratio is undefined, so the series is absent rather than 0.
          if (attempts > 0) gauge.set(labels, count / attempts);
        }
      };
    }
    new Gauge({
      name: def.name,
      help: def.help,
      labelNames: Object.keys(def.labels),
      registers: [registry],
      collect() {
        collect(this);
      },
    });
  }
}

/**
 * The label combinations a ratio gauge has beyond its denominator's labels
 * (e.g. every `error_type`), when each of those labels has a fixed value set.
 */
function zeroSeriesFor(def: WindowGaugeDef, denominatorLabels: readonly string[]): Array<Record<string, string>> {
  let combos: Array<Record<string, string>> = [{}];
  for (const [name, spec] of Object.entries(def.labels)) {
    if (denominatorLabels.includes(name)) continue;
    if (!('values' in spec)) return [];
    combos = combos.flatMap((combo) => spec.values.map((value) => ({ ...combo, [name]: value })));
  }
  return combos;
}

type HandleFor<D> = D extends { window: unknown }
  ? WindowGaugeHandle
  : D extends { type: 'counter' }
    ? CounterHandle<LabelNames<D>>
    : D extends { type: 'histogram' }
      ? HistogramHandle<LabelNames<D>>
      : GaugeHandle<LabelNames<D>>;

export type MetricHandles = { readonly [K in CatalogueKey]: HandleFor<Catalogue[K]> };

export interface Metrics extends MetricHandles {
  readonly registry: Registry;
  /**
   * The clock the sliding windows count by, in ms (CreateMetricsOptions.now). A hot path that reads the
   * time anyway (a request's duration) reads it here and hands it to `CounterSeries.inc`: the windows
   * then read no clock of their own.
   */
  readonly now: () => number;
}

const MISNAMED_DEFAULT_GAUGES = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

export interface CreateMetricsOptions {
  /** Register prom-client's default Node process metrics (on for the service). */
  defaultMetrics?: boolean;
  /** Clock for the sliding windows, in ms (tests pass a fake one); by default `wallClock`. */
  now?: () => number;
}

const TIME_ORIGIN = performance.timeOrigin;

/**
 * Milliseconds since the epoch, to a fraction of a millisecond: the process's start (read once) plus
 * the monotonic clock. Cheaper to read than Date.now() here (about 50 against 85 ns), and precise
 * enough for a request's duration as well as a window's slot.
 */
const wallClock = (): number => TIME_ORIGIN + performance.now();

/**
 * Builds one registry holding every catalogue metric (and, by default, the Node
 * process metrics). Each process builds exactly one, in its composition root.
 */
export function createMetrics(options: CreateMetricsOptions = {}): Metrics {
  const registry = new CatalogueRegistry();
  if (options.defaultMetrics ?? true) {
    collectDefaultMetrics({ register: registry });
    // prom-client names three gauges `_total`, which Prometheus reserves for counters (promtool flags them).
    // Each is the sum of its per-`type` sibling (nodejs_active_handles{type}, …), so dropping them loses nothing.
    for (const name of MISNAMED_DEFAULT_GAUGES) registry.removeSingleMetric(name);
  }
  const now = options.now ?? wallClock;
  const handles: Record<string, unknown> = {};
  const counters = new Map<string, CounterHandle<string>>();
  const windowGauges: Array<[CatalogueKey, WindowGaugeDef]> = [];
  for (const [key, def] of catalogueEntries()) {
    if ('window' in def) {
      windowGauges.push([key, def]);
    } else if (def.type === 'counter') {
      const handle = new CounterHandle(def, registry);
      counters.set(key, handle);
      handles[key] = handle;
    } else if (def.type === 'histogram') {
      handles[key] = new HistogramHandle(def, registry);
    } else {
      handles[key] = new GaugeHandle(def, registry);
    }
  }
  for (const [key, def] of windowGauges) handles[key] = new WindowGaugeHandle(def, registry, counters, now);
  return { ...(handles as unknown as MetricHandles), registry, now };
}
