import { catalogue } from '../../metrics/index.ts';
import type { ThresholdRow } from '../thresholds.ts';

/** The job name Prometheus scrapes the service under (deploy/prometheus/prometheus.yml). */
export const SERVICE_JOB = 'fragrance-ai';

/** 300 → "5m", 86400 → "1d", 3600 → "1h". */
export function duration(seconds: number): string {
  if (seconds % 86_400 === 0) return `${seconds / 86_400}d`;
  if (seconds % 3_600 === 0) return `${seconds / 3_600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

function selector(metric: string, match: Readonly<Record<string, string>> = {}, exclude: Readonly<Record<string, readonly string[]>> = {}): string {
  const matchers = [
    ...Object.entries(match).map(([name, value]) => `${name}="${value}"`),
    ...Object.entries(exclude).map(([name, values]) => `${name}!~"${values.join('|')}"`),
  ];
  return matchers.length === 0 ? metric : `${metric}{${matchers.join(',')}}`;
}

/**
 * The exact increase of counter series over `window`, per series, where `increase()` alone is wrong
 * twice: a series born in the window (the first violation of an ingredient, at 1) shows it no step,
 * and its extrapolation makes one event read 1.003 ("> 1" fires on one). So:
 * - a series that was there a window ago and did not reset: now − then (exact);
 * - a series born in the window (counters start at 0): its value now (exact);
 * - a series that reset (a restart) or is gone: `increase()`, rounded to whole events.
 * `offset` finds a series only if it had a sample in the 5 minutes before the window's start, so a
 * target that was down then is read as born in the window.
 */
export function exactIncrease(series: string, window: string): string {
  return `(((${series} - ${series} offset ${window}) or (${series} unless ${series} offset ${window})) unless (resets(${series}[${window}]) > 0)) or round(increase(${series}[${window}]))`;
}

/** The per-instance sum of an increase row's counter series: recorded, so it exists (at 0) from the first scrape. */
export function instanceSumRecord(row: ThresholdRow): string {
  const m = row.measure;
  if (m.kind !== 'increase') throw new Error(`${row.id} is not an increase row`);
  const base = catalogue[row.metric].name.replace(/_total$/, '');
  return `job_instance:${[base, ...Object.values(m.match ?? {})].join('_')}:sum`;
}

/**
 * The recorded per-instance sum: the counter's series summed per instance, or 0 for every scraped
 * instance that has none yet. Its first step (0 → 1) is what `increase` needs to see.
 */
export function instanceSumExpr(row: ThresholdRow): string {
  const m = row.measure;
  if (m.kind !== 'increase') throw new Error(`${row.id} is not an increase row`);
  return `sum by (job, instance) (${selector(catalogue[row.metric].name, m.match)}) or on (job, instance) (0 * up{job="${SERVICE_JOB}"})`;
}

/** The PromQL that measures a thresholds-table row, the same way the in-process evaluator does. */
export function measureExpr(row: ThresholdRow): string {
  const name = catalogue[row.metric].name;
  const m = row.measure;
  switch (m.kind) {
    case 'quantile':
      return `histogram_quantile(${m.quantile}, sum by (le, ${m.by.join(', ')}) (rate(${name}_bucket[${duration(m.windowSeconds)}])))`;
    case 'increase':
      // Whole events over the window, summed across instances, from the recorded per-instance sums.
      return `sum by (job) (${exactIncrease(instanceSumRecord(row), duration(m.windowSeconds))})`;
    case 'ratio': {
      // Summed across instances before dividing; groups with too few operations in the window are left out.
      const by = `by (${['job', ...m.by].join(', ')})`;
      const window = duration(m.windowSeconds);
      const denominator = catalogue[m.denominator].name;
      return `(sum ${by} (rate(${selector(name, m.match, m.exclude)}[${window}])) / sum ${by} (rate(${denominator}[${window}]))) and on (${['job', ...m.by].join(', ')}) (sum ${by} (increase(${denominator}[${window}])) >= ${m.minDenominator})`;
    }
    case 'gauge': {
      const series = selector(name, m.match, m.exclude);
      return m.sumBy === undefined ? series : `sum by (${m.sumBy.join(', ')}) (${series})`;
    }
  }
}

/**
 * The recording rule that holds a row's measure, in `level:metric:operations` style, or null when
 * the row reads a raw gauge (nothing to precompute).
 */
export function recordName(row: ThresholdRow): string | null {
  const name = catalogue[row.metric].name;
  const m = row.measure;
  switch (m.kind) {
    case 'quantile':
      return `${m.by.join('_')}:${name}:p${Math.round(m.quantile * 100)}_${duration(m.windowSeconds)}`;
    case 'increase':
      return `${instanceSumRecord(row).replace(/^job_instance:/, 'job:').replace(/:sum$/, '')}:increase${duration(m.windowSeconds)}`;
    case 'ratio':
      return `${['job', ...m.by].join('_')}:${name.replace(/_total$/, '')}${Object.values(m.match ?? {}).map((v) => `_${v}`).join('')}:ratio_${duration(m.windowSeconds)}`;
    case 'gauge':
      return m.sumBy === undefined ? null : `${m.sumBy.join('_')}:${name}:sum`;
  }
}

/** The expression alerts and panels use for a row: its recording rule when it has one. */
export function rowExpr(row: ThresholdRow): string {
  return recordName(row) ?? measureExpr(row);
}

/** `expr > 3000` or `expr < 15`, by the row's direction. */
export function breachExpr(row: ThresholdRow, bound: number): string {
  return `${rowExpr(row)} ${row.direction === 'above' ? '>' : '<'} ${bound}`;
}

const PROMQL_WORDS = new Set([
  'sum', 'min', 'max', 'avg', 'count', 'topk', 'bottomk', 'quantile', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right',
  'and', 'or', 'unless', 'bool', 'offset', 'rate', 'irate', 'increase', 'delta', 'histogram_quantile', 'absent', 'absent_over_time',
  'max_over_time', 'min_over_time', 'avg_over_time', 'clamp_min', 'clamp_max', 'vector', 'scalar', 'time', 'le', 'inf', 'nan',
  'resets', 'round',
]);

/**
 * The metric names an expression reads (identifiers outside label matchers, groupings, strings and
 * durations that are not PromQL words). Used to prove every rule and panel names a known metric.
 */
export function metricNamesIn(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\boffset\s+\w+/g, '');
  const names = new Set<string>();
  for (const match of stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const word = match[0];
    const after = stripped.slice(match.index! + word.length).trimStart();
    if (PROMQL_WORDS.has(word.toLowerCase()) || after.startsWith('(')) continue;
    names.add(word);
  }
  return [...names];
}
