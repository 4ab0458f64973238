import { catalogue, type HistogramDef } from '../../metrics/index.ts';
import { histogramQuantile } from '../histogram-quantile.ts';
import { thresholdsTable, type ThresholdRow } from '../thresholds.ts';
import { counterScenarios, counterTest } from './counter-scenarios.ts';
import { recordName } from './promql.ts';
import { alertsOf, expected, MINUTES, SCRAPE_SECONDS, seriesText, TARGET, values, minutes, defaultLabel, type ExpectedAlert, type ExprTest, type InputSeries, type Labels, type PromtoolTest } from './promtool-series.ts';
import type { AlertingRule } from './rules.ts';

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
