import { catalogue, type CatalogueKey, type HistogramDef } from '../../metrics/index.ts';
import { classify } from '../evaluate-thresholds.ts';
import { histogramQuantile } from '../histogram-quantile.ts';
import { thresholdsTable, type ThresholdRow } from '../thresholds.ts';
import { recordName, SERVICE_JOB } from './promql.ts';
import { allRules, type AlertingRule } from './rules.ts';

/**
 * `promtool test rules` unit tests for every alert, generated from the same thresholds table as
 * the alerts. Series are scraped every 25 s while rules are evaluated every minute, so samples lie
 * off the evaluation grid as they do in production (where `increase()` extrapolates). Gauge and
 * quantile rows: a value past the critical bound (warning and critical fire after `for`), one
 * between the bounds (only the warning fires), one in the normal band (nothing fires), and one that
 * crosses back (the alert resolves). Counter rows (counts and ratios) are scenarios of events
 * (`counterScenarios`): series that appear mid-test at 1, counter resets, two instances, the bound
 * itself ("> N" is more than N); the in-process evaluator is run on the same events by a test
 * (test/ops/thresholds-agree.test.ts) and must reach the same value and verdict. Expected
 * annotations are expanded here with the template functions Prometheus uses.
 */
const MINUTES = 60;
/** Seconds between scrapes in the tests: 25 s against a 1-minute evaluation interval. */
export const SCRAPE_SECONDS = 25;
const INSTANCES = ['fragrance-ai-1:8000', 'fragrance-ai-2:8000'] as const;
const TARGET = { job: SERVICE_JOB, instance: INSTANCES[0] };

type Labels = Record<string, string>;
interface InputSeries {
  series: string;
  values: string;
}
interface ExpectedAlert {
  exp_labels: Labels;
  exp_annotations: Labels;
}
interface AlertTest {
  eval_time: string;
  alertname: string;
  exp_alerts: ExpectedAlert[];
}
interface ExprTest {
  expr: string;
  eval_time: string;
  exp_samples: Array<{ labels: string; value: number }>;
}
export interface PromtoolTest {
  name: string;
  interval: string;
  input_series: InputSeries[];
  alert_rule_test: AlertTest[];
  promql_expr_test?: ExprTest[];
}

function seriesText(name: string, labels: Labels): string {
  return `${name}{${Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',')}}`;
}

/** A scrape's sample: a number, no sample (`_`), or Prometheus' staleness marker (the target restarted). */
type SampleText = number | undefined | 'stale';

/** One sample per scrape from t = 0 to t = `seconds`, from a function of the time in minutes. */
function values(at: (minute: number) => SampleText, seconds = MINUTES * 60): string {
  const out: string[] = [];
  for (let t = 0; t <= seconds; t += SCRAPE_SECONDS) {
    const v = at(t / 60);
    out.push(v === undefined ? '_' : String(v));
  }
  return out.join(' ');
}

/** Go's %.4g: four significant digits, trailing zeros dropped. */
function formatG4(v: number): string {
  if (v === 0) return '0';
  const exponent = Math.floor(Math.log10(Math.abs(v)));
  if (exponent < -4 || exponent >= 4) {
    const [mantissa, exp] = v.toExponential(3).split('e') as [string, string];
    const trimmed = mantissa.replace(/\.?0+$/, '');
    const e = Number(exp);
    return `${trimmed}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  return v.toPrecision(4).replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');
}

/** Prometheus' `humanize`: SI prefixes, four significant digits. */
export function humanize(v: number): string {
  if (v === 0 || !Number.isFinite(v)) return formatG4(v);
  let value = v;
  let prefix = '';
  if (Math.abs(value) >= 1) {
    for (const p of ['k', 'M', 'G', 'T', 'P', 'E', 'Z', 'Y']) {
      if (Math.abs(value) < 1000) break;
      prefix = p;
      value /= 1000;
    }
  } else {
    for (const p of ['m', 'u', 'n', 'p', 'f', 'a', 'z', 'y']) {
      if (Math.abs(value) >= 1) break;
      prefix = p;
      value *= 1000;
    }
  }
  return `${formatG4(value)}${prefix}`;
}

/** Expands the template forms our annotations use; anything else is a generator error. */
export function expandTemplate(template: string, value: number, labels: Labels): string {
  return template.replace(/\{\{\s*([^}]+?)\s*\}\}/g, (_, inner: string) => {
    const text = inner.trim();
    if (text === '$value | humanize') return humanize(value);
    if (text === '$value | humanizePercentage') return `${formatG4(value * 100)}%`;
    const label = /^\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)$/.exec(text);
    if (label) return labels[label[1]!] ?? '';
    throw new Error(`annotation template {{ ${text} }} is not one the rule-test generator can expand`);
  });
}

function alertsOf(name: string): AlertingRule[] {
  return allRules().filter((rule): rule is AlertingRule => 'alert' in rule && rule.alert === name);
}

function expected(rule: AlertingRule, value: number, labels: Labels): ExpectedAlert {
  const all = { ...labels, ...rule.labels };
  return {
    exp_labels: all,
    exp_annotations: {
      summary: expandTemplate(rule.annotations.summary, value, all),
      description: rule.annotations.description,
      runbook_url: rule.annotations.runbook_url,
    },
  };
}

/** What the row's alert expression returns for a scenario, and the labels it carries. */
interface Scenario {
  input: InputSeries[];
  value: number;
  labels: Labels;
}

/** Builds input series under which the row's measure equals `target` (or passes through the
 * given values over time: `at(t)` gives the target measure at minute t). */
function scenario(row: ThresholdRow, at: (minute: number) => number): Scenario {
  const def = catalogue[row.metric];
  const m = row.measure;
  if (m.kind === 'gauge') {
    const labels: Labels = { ...TARGET };
    for (const [name] of Object.entries(def.labels)) labels[name] = defaultLabel(name);
    Object.assign(labels, m.match ?? {});
    const input = [{ series: seriesText(def.name, labels), values: values(at) }];
    // A series the match leaves out, far past the bounds, proves it is left out (a training job's reward, an offline shadow run's retention).
    const far = row.direction === 'above' ? row.critical * 10 : row.critical / 10;
    for (const [name, value] of Object.entries(m.match ?? {})) {
      const other = (def.labels as Record<string, { values?: readonly string[] }>)[name]?.values?.find((v) => v !== value);
      if (other !== undefined) input.push({ series: seriesText(def.name, { ...labels, [name]: other }), values: values(() => far) });
    }
    if (m.exclude !== undefined) {
      // An excluded series far past the bounds proves the exclusion (4xx must not page anyone).
      const excluded = { ...labels };
      for (const [name, vals] of Object.entries(m.exclude)) excluded[name] = vals[0]!;
      input.push({ series: seriesText(def.name, excluded), values: values(() => row.critical * 10) });
    }
    const out = m.sumBy === undefined ? labels : Object.fromEntries(m.sumBy.map((name) => [name, labels[name]!]));
    return { input, value: at(MINUTES), labels: out };
  }
  throw new Error(`${row.id}: ${m.kind} rows use histogramScenario or counterScenarios`);
}

function defaultLabel(name: string): string {
  const defaults: Labels = { mode: 'balanced', model: 'qwen', fallback: 'false', reason: 'queue_full', algorithm: 'ppo', window: '100', job_id: 'served', data_type: 'recipe', component: 'hub', error_type: 'timeout', worker_id: 'gpu-worker-1', stage: 'production', ingredient: 'citronellal', violation_type: 'over_limit' };
  return defaults[name] ?? 'test';
}

/**
 * A histogram whose every observation falls in one bucket per phase: `bucketAt(t)` names the
 * upper edge of the bucket observations of minute t fall into (10 per minute). Returns the series
 * and the quantile Prometheus computes for a bucket.
 */
function histogramScenario(row: ThresholdRow, bucketAt: (minute: number) => number): { input: InputSeries[]; labels: Labels } {
  const def = catalogue[row.metric] as HistogramDef;
  const m = row.measure as Extract<ThresholdRow['measure'], { kind: 'quantile' }>;
  const labels: Labels = { ...TARGET };
  for (const name of Object.keys(def.labels)) labels[name] = defaultLabel(name);
  const edges = [...def.buckets, Infinity];
  const input = edges.map((edge) => ({
    series: seriesText(`${def.name}_bucket`, { ...labels, le: edge === Infinity ? '+Inf' : String(edge) }),
    values: (() => {
      let count = 0;
      return values((t) => {
        if (t > 0 && bucketAt(t) <= edge) count += 10;
        return count;
      });
    })(),
  }));
  return { input, labels: Object.fromEntries(m.by.map((name) => [name, labels[name]!])) };
}

/** The quantile Prometheus gives when every recent observation is in the bucket ending at `upper`. */
function quantileFor(row: ThresholdRow, upper: number): number {
  const def = catalogue[row.metric] as HistogramDef;
  const m = row.measure as Extract<ThresholdRow['measure'], { kind: 'quantile' }>;
  const buckets = [...def.buckets, Infinity].map((le) => ({ le, count: le >= upper ? 1 : 0 }));
  return histogramQuantile(m.quantile, buckets)!;
}

/** The smallest bucket edge whose quantile lies strictly inside (lo, hi). */
function bucketBetween(row: ThresholdRow, lo: number, hi: number): number {
  const def = catalogue[row.metric] as HistogramDef;
  const edge = def.buckets.find((upper) => {
    const q = quantileFor(row, upper);
    return q > lo && q < hi;
  });
  if (edge === undefined) throw new Error(`${row.id}: no bucket puts the quantile in (${lo}, ${hi})`);
  return edge;
}

/** Values inside the warning band, past critical, and normal, for a gauge or counter row. */
function bands(row: ThresholdRow): { critical: number; warning: number; normal: number } {
  if (row.warning === null) throw new Error(`${row.id}: gauge rows have a warning bound`);
  if (row.direction === 'above') {
    const normal = row.normal.max !== undefined && row.normal.max > 0 ? row.normal.max / 2 : 0;
    return { critical: row.critical + (row.critical - row.warning || row.critical), warning: (row.warning + row.critical) / 2, normal };
  }
  const normal = row.normal.min ?? row.warning * 1.5;
  return { critical: row.critical / 2, warning: (row.warning + row.critical) / 2, normal };
}

function minutes(duration: string): number {
  const match = /^(\d+)([smhd])$/.exec(duration);
  if (!match) throw new Error(`duration ${duration}`);
  const n = Number(match[1]);
  return { s: n / 60, m: n, h: n * 60, d: n * 1440 }[match[2] as 's' | 'm' | 'h' | 'd'];
}

function rowTests(row: ThresholdRow): PromtoolTest[] {
  const [warningRule, criticalRule] = ['warning', 'critical'].map((severity) => alertsOf(row.alert.name).find((r) => r.labels.severity === severity)!) as [AlertingRule, AlertingRule];
  const evalAt = `${Math.ceil(minutes(row.alert.for)) + 5}m`;
  const resolveEval = `${MINUTES}m`;
  const tests: PromtoolTest[] = [];
  const add = (name: string, input: InputSeries[], evalTime: string, alerts: ExpectedAlert[], exprTests?: ExprTest[]) =>
    tests.push({ name: `${row.alert.name}: ${name}`, interval: `${SCRAPE_SECONDS}s`, input_series: input, alert_rule_test: [{ eval_time: evalTime, alertname: row.alert.name, exp_alerts: alerts }], ...(exprTests ? { promql_expr_test: exprTests } : {}) });

  if (row.measure.kind === 'quantile') {
    // Quantile rows are all `above` rows: latencies.
    const critEdge = bucketBetween(row, row.critical, Infinity);
    const warnEdge = bucketBetween(row, row.warning!, row.critical);
    const normalEdge = bucketBetween(row, 0, row.normal.max ?? row.warning!);
    const record = recordName(row)!;
    for (const [name, edge, severities] of [
      ['past critical, both fire', critEdge, [warningRule, criticalRule]],
      ['between the bounds, only the warning fires', warnEdge, [warningRule]],
      ['in the normal band, quiet', normalEdge, []],
    ] as const) {
      const { input, labels } = histogramScenario(row, () => edge);
      const q = quantileFor(row, edge);
      add(name, input, evalAt, severities.map((rule) => expected(rule, q, labels)), [
        // Rounded to micro-units: the recorded quantile is a float whose last bit depends on the rate.
        { expr: `round(${record} * 1000000)`, eval_time: evalAt, exp_samples: [{ labels: `{${Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(',')}}`, value: Math.round(q * 1e6) }] },
      ]);
    }
    const { input } = histogramScenario(row, (t) => (t <= 20 ? critEdge : normalEdge));
    add('recovers below the bounds, resolves', input, resolveEval, []);
    return tests;
  }

  if (row.measure.kind !== 'gauge') {
    for (const c of counterScenarios().filter((c) => c.row === row)) tests.push(counterTest(c));
    return tests;
  }
  const b = bands(row);
  for (const [name, value, severities] of [
    ['past critical, both fire', b.critical, [warningRule, criticalRule]],
    ['between the bounds, only the warning fires', b.warning, [warningRule]],
    ['in the normal band, quiet', b.normal, []],
  ] as const) {
    const s = scenario(row, () => value);
    add(name, s.input, evalAt, severities.map((rule) => expected(rule, value, s.labels)));
  }
  const s = scenario(row, (t) => (t <= 20 ? b.critical : b.normal));
  add('recovers into the normal band, resolves', s.input, resolveEval, []);
  return tests;
}

// --- Counter rows: scenarios of events, shared with the in-process evaluator's test --------------

/** `amount` added to one series of `metric` on `instance` at `atSeconds`. */
export interface CounterEvent {
  readonly atSeconds: number;
  readonly instance: string;
  readonly metric: CatalogueKey;
  readonly labels: Labels;
  readonly amount: number;
}

export interface CounterScenario {
  readonly row: ThresholdRow;
  readonly name: string;
  readonly events: readonly CounterEvent[];
  /** An instance restarted (its counters back to 0) just after this time. */
  readonly restarts: ReadonlyArray<{ readonly instance: string; readonly atSeconds: number }>;
  readonly evalSeconds: number;
  /** The row's measure at `evalSeconds` (null: no value, as with too few operations for a ratio). */
  readonly value: number | null;
  /** The labels the measure carries in Prometheus (job and the row's grouping labels). */
  readonly labels: Labels;
  /** The in-process verdict the same events must give. */
  readonly status: 'OK' | 'WARNING' | 'CRITICAL' | 'NO_DATA';
}

/** True when every label of the counter lists its values: the service starts its series at 0 (metrics/registry.ts). */
function startsAtZero(metric: CatalogueKey): boolean {
  return Object.values(catalogue[metric].labels).every((spec) => 'values' in spec);
}

/** The row's status for a value, as the in-process evaluator classifies it. */
function statusFor(row: ThresholdRow, value: number | null): CounterScenario['status'] {
  return value === null ? 'NO_DATA' : classify(row, value);
}

function labelsFor(metric: CatalogueKey, overrides: Labels = {}): Labels {
  const labels: Labels = {};
  for (const name of Object.keys(catalogue[metric].labels)) labels[name] = defaultLabel(name);
  return { ...labels, ...overrides };
}

/** A value of `label` of `metric` other than `value` (an open label gets a made-up one). */
function otherValue(metric: CatalogueKey, label: string, value: string): string {
  const spec = (catalogue[metric].labels as Record<string, { values?: readonly string[] }>)[label];
  return spec?.values?.find((v) => v !== value) ?? `${value}-other`;
}

/** Scenarios for an increase row: whole events in the window, counted however their series arrive. */
function countScenarios(row: ThresholdRow): CounterScenario[] {
  const m = row.measure as Extract<ThresholdRow['measure'], { kind: 'increase' }>;
  const W = m.windowSeconds;
  // A long window is evaluated an hour in, its events between 10 and 30 minutes; a short one a few minutes after its events.
  const evalSeconds = W >= 3_600 ? 3_600 : 3_480;
  const [from, to] = W >= 3_600 ? [600, 1_800] : [evalSeconds - W * 0.8, evalSeconds - W * 0.4];
  const open = !startsAtZero(row.metric);
  const base = labelsFor(row.metric, m.match);
  const specs: Record<string, object> = catalogue[row.metric].labels;
  const openLabel = Object.keys(specs).find((name) => !('values' in specs[name]!));
  // n events over [from, to]; each on a new series (an ingredient seen for the first time) when the metric has an open label.
  const spread = (n: number, instanceOf: (i: number) => string, labels: (i: number) => Labels = (i) => (open && openLabel ? { ...base, [openLabel]: `${base[openLabel]}-${i}` } : base)): CounterEvent[] => {
    const steps = Math.min(n, 20);
    return Array.from({ length: steps }, (_, i) => ({
      atSeconds: from + 7 + ((to - from - 14) * i) / Math.max(1, steps - 1),
      instance: instanceOf(i),
      metric: row.metric,
      labels: labels(i),
      amount: Math.floor(n / steps) + (i < n % steps ? 1 : 0),
    }));
  };
  // The code path ran: its companion counter moved (the in-process verdict reads 0, not "no data").
  const ran = (instance: string): CounterEvent[] => (m.producedWith === undefined ? [] : [{ atSeconds: from - 30, instance, metric: m.producedWith, labels: labelsFor(m.producedWith), amount: 1 }]);
  const one = () => INSTANCES[0];
  const scenario = (name: string, n: number, events: CounterEvent[], restarts: CounterScenario['restarts'] = []): CounterScenario => ({
    row, name, events, restarts, evalSeconds, value: n, labels: { job: SERVICE_JOB }, status: statusFor(row, n),
  });
  const past = row.critical + 1;
  // Two events at least where they are split (between instances, or around a restart).
  const split = Math.max(past, 2);
  const events = (n: number) => `${n} event${n === 1 ? '' : 's'}`;
  const scenarios: CounterScenario[] = [
    scenario(`${events(past)}${open ? ', each on a new series appearing at 1' : ''}: past critical`, past, [...ran(INSTANCES[0]), ...spread(past, one)]),
    scenario(`${events(split)} on two instances: past critical`, split, [...ran(INSTANCES[0]), ...ran(INSTANCES[1]), ...spread(split, (i) => INSTANCES[i % 2]!)]),
    scenario(`${events(split)} with a restart between them (a counter reset): past critical`, split, [...ran(INSTANCES[0]), ...spread(split, one)], [{ instance: INSTANCES[0], atSeconds: (from + to) / 2 }]),
  ];
  if (row.warning !== null) {
    const between = row.warning + 1;
    if (between <= row.critical) scenarios.push(scenario(`${events(between)}: past the warning bound only`, between, [...ran(INSTANCES[0]), ...spread(between, one)]));
    scenarios.push(scenario(`${events(row.warning)}: at the warning bound, quiet ("> ${row.warning}" is more than ${row.warning})`, row.warning, [...ran(INSTANCES[0]), ...spread(row.warning, one)]));
  }
  // Events the row's match leaves out, far past the bounds (customers' own checks page no one).
  const leftOut = Object.entries(m.match ?? {}).map(([label, value]) => ({ ...base, [label]: otherValue(row.metric, label, value) }));
  scenarios.push(
    scenario(`no events${leftOut.length > 0 ? `, ${(row.critical + 1) * 10} the row leaves out` : ''}: quiet`, 0, [
      ...ran(INSTANCES[0]),
      ...leftOut.flatMap((labels) => spread((row.critical + 1) * 10, one, () => labels)),
    ]),
  );
  return scenarios;
}

/** Scenarios for a ratio row: events over operations, summed across instances, with a minimum volume. */
function ratioScenarios(row: ThresholdRow): CounterScenario[] {
  const m = row.measure as Extract<ThresholdRow['measure'], { kind: 'ratio' }>;
  if (row.warning === null || row.direction !== 'above') throw new Error(`${row.id}: ratio rows have a warning bound and are "above" rows`);
  const numerator = labelsFor(row.metric, m.match);
  for (const [label, values] of Object.entries(m.exclude ?? {})) numerator[label] = otherValue(row.metric, label, values[0]!);
  // Operations that are not events: the denominator's own series, or the numerator metric's series the match leaves out.
  const sameMetric = m.denominator === row.metric;
  const [flipLabel, flipValue] = Object.entries(m.match ?? {})[0] ?? ['', ''];
  const rest = sameMetric ? { ...numerator, [flipLabel]: otherValue(row.metric, flipLabel, flipValue) } : labelsFor(m.denominator, Object.fromEntries(m.by.map((l) => [l, numerator[l]!])));
  const labels = { job: SERVICE_JOB, ...Object.fromEntries(m.by.map((l) => [l, numerator[l]!])) };
  const TICK = 5;
  // Operations per 5 s tick: enough that a window holds well over the minimum, and a whole number of events at each share used.
  const perTick = Math.max(50, Math.ceil((m.minDenominator * TICK * 4) / m.windowSeconds / 10) * 10);
  const evalSeconds = 1_500;
  /** Traffic on one instance from `start` to the end: `share(t)` of each tick's operations are events. */
  const traffic = (instance: string, share: (t: number) => number, opsPerTick = perTick, every = TICK, start = 0): CounterEvent[] => {
    const events: CounterEvent[] = [];
    for (let t = start + 2; t <= evalSeconds; t += every) {
      // Zero amounts too: the service starts these series at 0, so they are in the input from the start.
      const hits = Math.round(opsPerTick * share(t));
      events.push({ atSeconds: t, instance, metric: row.metric, labels: numerator, amount: hits });
      events.push({ atSeconds: t, instance, metric: sameMetric ? row.metric : m.denominator, labels: rest, amount: sameMetric ? opsPerTick - hits : opsPerTick });
    }
    return events;
  };
  // Shares as the whole events of a tick realise them: the expected values are exactly what the events give.
  const realised = (share: number) => Math.round(perTick * share) / perTick;
  const pastCritical = realised(row.critical + (row.critical - row.warning) / 2);
  const between = realised((row.warning + row.critical) / 2);
  const normal = realised(row.normal.max ?? row.warning / 2);
  /** Below the warning bound, but past it twice over: what summing two instances' ratios would have fired on. */
  const quiet = realised((row.warning * 2) / 3);
  const pct = (v: number) => `${Math.round(v * 1000) / 10} %`;
  const scenario = (name: string, value: number | null, events: CounterEvent[], evalAt = evalSeconds): CounterScenario => ({
    row, name, events, restarts: [], evalSeconds: evalAt, value, labels, status: statusFor(row, value),
  });
  const scenarios = [
    scenario(`one instance at ${pct(pastCritical)}: past critical`, pastCritical, traffic(INSTANCES[0], () => pastCritical)),
    scenario(`two instances at ${pct(between)} each: the warning only`, between, [...traffic(INSTANCES[0], () => between), ...traffic(INSTANCES[1], () => between)]),
    scenario(`two instances at ${pct(quiet)} and ${pct(pastCritical)}: the warning (their mean, not their sum)`, (quiet + pastCritical) / 2, [
      ...traffic(INSTANCES[0], () => quiet),
      ...traffic(INSTANCES[1], () => pastCritical),
    ]),
    scenario(`two instances at ${pct(quiet)} each: quiet (summed per instance they would read ${pct(quiet * 2)})`, quiet, [...traffic(INSTANCES[0], () => quiet), ...traffic(INSTANCES[1], () => quiet)]),
    // Too few operations: one event in each of a handful of operations is not an incident.
    scenario(`most of fewer than ${m.minDenominator} operations a window are events: quiet`, null, traffic(INSTANCES[0], () => 0.5, 1, Math.ceil(m.windowSeconds / (m.minDenominator / 2)))),
    // A jump: normal for 10 minutes, then past critical; both fire within the window plus the hold.
    scenario(`a jump from ${pct(normal)} to ${pct(pastCritical)} at 10 minutes: fires by ${Math.ceil((m.windowSeconds + minutes(row.alert.for) * 60) / 60) + 1} minutes`, pastCritical, traffic(INSTANCES[0], (t) => (t < 600 ? normal : pastCritical)), 600 + m.windowSeconds + minutes(row.alert.for) * 60 + 60),
  ];
  if (m.exclude !== undefined) {
    const excluded = { ...numerator };
    for (const [label, values] of Object.entries(m.exclude)) excluded[label] = values[0]!;
    const events = traffic(INSTANCES[0], () => 0).concat(
      Array.from({ length: evalSeconds / TICK }, (_, i) => ({ atSeconds: i * TICK + 3, instance: INSTANCES[0], metric: row.metric, labels: excluded, amount: perTick / 2 })),
    );
    scenarios.push(scenario(`half the operations fail with an excluded type (${Object.values(m.exclude).flat().join(', ')}): quiet`, 0, events));
  }
  return scenarios;
}

/** Every counter row's scenarios. */
export function counterScenarios(rows: readonly ThresholdRow[] = thresholdsTable): CounterScenario[] {
  return rows.flatMap((row) => (row.measure.kind === 'increase' ? countScenarios(row) : row.measure.kind === 'ratio' ? ratioScenarios(row) : []));
}

/** The promtool input of a scenario: each series' cumulative value at every scrape, `up` for each instance. */
export function scenarioInput(c: CounterScenario): InputSeries[] {
  const instances = [...new Set([INSTANCES[0], ...c.events.map((e) => e.instance)])];
  const input: InputSeries[] = instances.map((instance) => ({ series: seriesText('up', { job: SERVICE_JOB, instance }), values: values(() => 1, c.evalSeconds) }));
  const series = new Map<string, { instance: string; metric: CatalogueKey; labels: Labels; events: CounterEvent[] }>();
  for (const e of c.events) {
    const key = `${e.instance}|${e.metric}|${JSON.stringify(e.labels)}`;
    const entry = series.get(key) ?? { instance: e.instance, metric: e.metric, labels: e.labels, events: [] };
    entry.events.push(e);
    series.set(key, entry);
  }
  for (const s of series.values()) {
    const restarts = c.restarts.filter((r) => r.instance === s.instance).map((r) => r.atSeconds);
    const zero = startsAtZero(s.metric);
    const sample = (minute: number): SampleText => {
      const t = minute * 60;
      // The process's life this scrape falls in: counters count from its start.
      const lifeStart = Math.max(0, ...restarts.filter((r) => r < t));
      const justRestarted = restarts.some((r) => r < t && r >= t - SCRAPE_SECONDS);
      const counted = s.events.filter((e) => e.atSeconds <= t && e.atSeconds > (lifeStart === 0 ? -1 : lifeStart)).reduce((sum, e) => sum + e.amount, 0);
      const exists = zero || s.events.some((e) => e.atSeconds <= t && e.atSeconds > (lifeStart === 0 ? -1 : lifeStart));
      if (exists) return counted;
      // The series went with the old process: one staleness marker, then nothing until it is counted again.
      if (justRestarted && s.events.some((e) => e.atSeconds <= lifeStart)) return 'stale';
      return undefined;
    };
    input.push({ series: seriesText(catalogue[s.metric].name, { job: SERVICE_JOB, instance: s.instance, ...s.labels }), values: values(sample, c.evalSeconds) });
  }
  return input;
}

function evalTime(seconds: number): string {
  return seconds % 60 === 0 ? `${seconds / 60}m` : `${seconds}s`;
}

/** A scenario as a promtool test: the alerts of the row's bounds the value passes, and the recorded measure. */
export function counterTest(c: CounterScenario): PromtoolTest {
  const rules = alertsOf(c.row.alert.name).filter((rule) => rule.labels.threshold_row === c.row.id);
  const firing = rules.filter((rule) => {
    const bound = c.row[rule.labels.severity];
    return c.value !== null && bound !== null && (c.row.direction === 'above' ? c.value > bound : c.value < bound);
  });
  const record = recordName(c.row)!;
  const ratio = c.row.measure.kind === 'ratio';
  const labelText = `{${Object.entries(c.labels).map(([k, v]) => `${k}="${v}"`).join(',')}}`;
  return {
    name: `${c.row.alert.name}: ${c.name}`,
    interval: `${SCRAPE_SECONDS}s`,
    input_series: scenarioInput(c),
    alert_rule_test: [{ eval_time: evalTime(c.evalSeconds), alertname: c.row.alert.name, exp_alerts: firing.map((rule) => expected(rule, c.value!, c.labels)) }],
    promql_expr_test: [
      // Ratios rounded to micro-units (the division's last bit depends on the rates); counts are whole.
      {
        expr: ratio ? `round(${record} * 1000000)` : record,
        eval_time: evalTime(c.evalSeconds),
        exp_samples: c.value === null ? [] : [{ labels: ratio ? labelText : `${record}${labelText}`, value: ratio ? Math.round(c.value * 1e6) : c.value }],
      },
    ],
  };
}

function absenceTests(): PromtoolTest[] {
  const up = (value: number) => ({ series: seriesText('up', TARGET), values: values(() => value) });
  const cpu = { series: seriesText(catalogue.workerCpuPercent.name, { ...TARGET, worker_id: 'api' }), values: values(() => 12) };
  const rule = (name: string) => alertsOf(name)[0]!;
  const downshift = (mode: string, at: (minute: number) => number) => ({ series: seriesText(catalogue.llmDownshiftActive.name, { ...TARGET, mode }), values: values(at) });
  const test = (name: string, alertname: string, input: InputSeries[], evalTime: string, alerts: ExpectedAlert[]): PromtoolTest => ({
    name,
    interval: `${SCRAPE_SECONDS}s`,
    input_series: input,
    alert_rule_test: [{ eval_time: evalTime, alertname, exp_alerts: alerts }],
  });
  return [
    test('FragranceAITargetDown: scrape failing, fires', 'FragranceAITargetDown', [up(0), cpu], '5m', [expected(rule('FragranceAITargetDown'), 0, TARGET)]),
    test('FragranceAITargetDown: scrape working, quiet', 'FragranceAITargetDown', [up(1), cpu], '5m', []),
    test('FragranceAIMetricsAbsent: no target at all, fires', 'FragranceAIMetricsAbsent', [cpu], '8m', [expected(rule('FragranceAIMetricsAbsent'), 1, { job: TARGET.job })]),
    test('FragranceAIMetricsAbsent: target present, quiet', 'FragranceAIMetricsAbsent', [up(1)], '8m', []),
    test('WorkerCpuSamplerStopped: scraped without CPU samples, fires', 'WorkerCpuSamplerStopped', [up(1)], '12m', [expected(rule('WorkerCpuSamplerStopped'), 1, TARGET)]),
    test('WorkerCpuSamplerStopped: CPU samples present, quiet', 'WorkerCpuSamplerStopped', [up(1), cpu], '12m', []),
    test('LLMDownshiftStuck: creative downshifted for 40 minutes, fires', 'LLMDownshiftStuck', [downshift('creative', () => 1), downshift('balanced', () => 0)], '40m', [expected(rule('LLMDownshiftStuck'), 1, { ...TARGET, mode: 'creative' })]),
    test('LLMDownshiftStuck: downshifted 20 minutes, then lifted, quiet', 'LLMDownshiftStuck', [downshift('creative', (t) => (t < 20 ? 1 : 0))], '40m', []),
  ];
}

/** The whole promtool test file, its rule file given relative to it. */
export function ruleTestFile(ruleFile: string): Record<string, unknown> {
  return {
    rule_files: [ruleFile],
    evaluation_interval: '1m',
    tests: [...thresholdsTable.flatMap(rowTests), ...absenceTests()],
  };
}
