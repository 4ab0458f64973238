import { catalogue, type HistogramDef } from '../../metrics/index.ts';
import { histogramQuantile } from '../histogram-quantile.ts';
import { thresholdsTable, type ThresholdRow } from '../thresholds.ts';
import { recordName, SERVICE_JOB } from './promql.ts';
import { allRules, type AlertingRule } from './rules.ts';

/**
 * `promtool test rules` unit tests for every alert, generated from the same thresholds table as
 * the alerts: for each row, a value past the critical bound (warning and critical fire after
 * `for`), one between the bounds (only the warning fires), one in the normal band (nothing fires),
 * and one that crosses back (the alert resolves). Expected annotations are expanded here with the
 * template functions Prometheus uses (humanize, humanizePercentage, $labels).
 */
const MINUTES = 60;
const TARGET = { job: SERVICE_JOB, instance: 'fragrance-ai:8000' };

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

/** One sample per minute from t = 0 to t = MINUTES, from a function of the minute. */
function values(at: (minute: number) => number): string {
  return Array.from({ length: MINUTES + 1 }, (_, t) => String(at(t))).join(' ');
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
  if (m.kind === 'increase') {
    // A counter starting at 0 with a sample at the evaluation time: Prometheus' increase() is exact.
    const labels: Labels = { ...TARGET };
    for (const [name] of Object.entries(def.labels)) labels[name] = defaultLabel(name);
    Object.assign(labels, m.match ?? {});
    const input = [{ series: seriesText(def.name, labels), values: values(at) }];
    // A series the match leaves out, far past the bounds, proves it is left out (customers' checks page no one).
    for (const [name, value] of Object.entries(m.match ?? {})) {
      const other = (def.labels as Record<string, { values?: readonly string[] }>)[name]?.values?.find((v) => v !== value);
      if (other !== undefined) input.push({ series: seriesText(def.name, { ...labels, [name]: other }), values: values(() => row.critical * 10) });
    }
    return { input, value: at(MINUTES), labels: { job: TARGET.job } };
  }
  throw new Error('quantile scenarios use histogramScenario');
}

function defaultLabel(name: string): string {
  const defaults: Labels = { mode: 'fast', model: 'qwen', algorithm: 'ppo', window: '100', job_id: 'served', data_type: 'recipe', component: 'hub', error_type: 'timeout', worker_id: 'gpu-worker-1', stage: 'production', ingredient: 'citronellal', violation_type: 'over_limit' };
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
    tests.push({ name: `${row.alert.name}: ${name}`, interval: '1m', input_series: input, alert_rule_test: [{ eval_time: evalTime, alertname: row.alert.name, exp_alerts: alerts }], ...(exprTests ? { promql_expr_test: exprTests } : {}) });

  if (row.measure.kind === 'quantile') {
    // Quantile rows are all `above` rows: latencies.
    const critEdge = bucketBetween(row, row.critical, Infinity);
    const warnEdge = bucketBetween(row, row.warning, row.critical);
    const normalEdge = bucketBetween(row, 0, row.normal.max ?? row.warning);
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

  const b = bands(row);
  for (const [name, value, severities] of [
    ['past critical, both fire', b.critical, [warningRule, criticalRule]],
    ['between the bounds, only the warning fires', b.warning, [warningRule]],
    ['in the normal band, quiet', b.normal, []],
  ] as const) {
    if (row.measure.kind === 'increase') {
      // `value` events over the first minutes (one a minute when few, ten equal steps when many), then
      // none: the increase over the row's window stays `value` from then on.
      const s = scenario(row, (t) => (value <= 10 ? Math.min(t, value) : (Math.min(t, 10) * value) / 10));
      add(name, s.input, `${MINUTES}m`, severities.map((rule) => expected(rule, value, s.labels)));
    } else {
      const s = scenario(row, () => value);
      add(name, s.input, evalAt, severities.map((rule) => expected(rule, value, s.labels)));
    }
  }
  if (row.measure.kind === 'gauge') {
    const s = scenario(row, (t) => (t <= 20 ? b.critical : b.normal));
    add('recovers into the normal band, resolves', s.input, resolveEval, []);
  }
  return tests;
}

function absenceTests(): PromtoolTest[] {
  const up = (value: number) => ({ series: seriesText('up', TARGET), values: values(() => value) });
  const cpu = { series: seriesText(catalogue.workerCpuPercent.name, { ...TARGET, worker_id: 'api' }), values: values(() => 12) };
  const rule = (name: string) => alertsOf(name)[0]!;
  const downshift = (mode: string, at: (minute: number) => number) => ({ series: seriesText(catalogue.llmDownshiftActive.name, { ...TARGET, mode }), values: values(at) });
  const test = (name: string, alertname: string, input: InputSeries[], evalTime: string, alerts: ExpectedAlert[]): PromtoolTest => ({
    name,
    interval: '1m',
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
