import { SERVICE_JOB } from './promql.ts';
import { allRules, type AlertingRule } from './rules.ts';

/**
 * The pieces every generated promtool test is made of: the scrape grid, series text and sample values
 * as promtool reads them, and the alerts a rule is expected to fire with their annotations expanded
 * as Prometheus expands them (rule-tests.ts for gauges and quantiles, counter-scenarios.ts for counts).
 */

/** How many minutes a test's series run. */
export const MINUTES = 60;
/** Seconds between scrapes in the tests: 25 s against a 1-minute evaluation interval. */
export const SCRAPE_SECONDS = 25;
export const INSTANCES = ['fragrance-ai-1:8000', 'fragrance-ai-2:8000'] as const;
export const TARGET = { job: SERVICE_JOB, instance: INSTANCES[0] };

export type Labels = Record<string, string>;
export interface InputSeries {
  series: string;
  values: string;
}
export interface ExpectedAlert {
  exp_labels: Labels;
  exp_annotations: Labels;
}
export interface AlertTest {
  eval_time: string;
  alertname: string;
  exp_alerts: ExpectedAlert[];
}
export interface ExprTest {
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

export function seriesText(name: string, labels: Labels): string {
  return `${name}{${Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',')}}`;
}

/** A scrape's sample: a number, no sample (`_`), or Prometheus' staleness marker (the target restarted). */
export type SampleText = number | undefined | 'stale';

/** One sample per scrape from t = 0 to t = `seconds`, from a function of the time in minutes. */
export function values(at: (minute: number) => SampleText, seconds = MINUTES * 60): string {
  const out: string[] = [];
  for (let t = 0; t <= seconds; t += SCRAPE_SECONDS) {
    const v = at(t / 60);
    out.push(v === undefined ? '_' : String(v));
  }
  return out.join(' ');
}

/** Go's %.4g: four significant digits, trailing zeros dropped. */
export function formatG4(v: number): string {
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

export function alertsOf(name: string): AlertingRule[] {
  return allRules().filter((rule): rule is AlertingRule => 'alert' in rule && rule.alert === name);
}

export function expected(rule: AlertingRule, value: number, labels: Labels): ExpectedAlert {
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

/** The value a test gives a label the row does not fix. */
export function defaultLabel(name: string): string {
  const defaults: Labels = { mode: 'balanced', model: 'qwen', fallback: 'false', reason: 'queue_full', algorithm: 'ppo', window: '100', job_id: 'served', data_type: 'recipe', component: 'hub', error_type: 'timeout', worker_id: 'gpu-worker-1', stage: 'production', ingredient: 'citronellal', violation_type: 'over_limit' };
  return defaults[name] ?? 'test';
}

/** A Prometheus duration (`5m`, `1h`) in minutes. */
export function minutes(duration: string): number {
  const match = /^(\d+)([smhd])$/.exec(duration);
  if (!match) throw new Error(`duration ${duration}`);
  const n = Number(match[1]);
  return { s: n / 60, m: n, h: n * 60, d: n * 1440 }[match[2] as 's' | 'm' | 'h' | 'd'];
}
