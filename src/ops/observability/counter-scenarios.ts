import { catalogue, type CatalogueKey } from '../../metrics/index.ts';
import { classify } from '../evaluate-thresholds.ts';
import { thresholdsTable, type ThresholdRow } from '../thresholds.ts';
import { recordName, SERVICE_JOB } from './promql.ts';
import { alertsOf, defaultLabel, expected, INSTANCES, minutes, SCRAPE_SECONDS, seriesText, values, type InputSeries, type Labels, type PromtoolTest, type SampleText } from './promtool-series.ts';

/*
 * Counter rows (counts and ratios) as scenarios of events, shared with the in-process evaluator's test
 * (test/ops/thresholds-agree.test.ts): the same events must reach the same value and verdict there.
 */

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

