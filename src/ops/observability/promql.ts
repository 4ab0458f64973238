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

/** The PromQL that measures a thresholds-table row, the same way the in-process evaluator does. */
export function measureExpr(row: ThresholdRow): string {
  const name = catalogue[row.metric].name;
  const m = row.measure;
  switch (m.kind) {
    case 'quantile':
      return `histogram_quantile(${m.quantile}, sum by (le, ${m.by.join(', ')}) (rate(${name}_bucket[${duration(m.windowSeconds)}])))`;
    case 'increase':
      // A counter whose code path ran (producedWith has series) and counted nothing reads 0, not "no data":
      // the same rule as the in-process evaluator.
      return m.producedWith === undefined
        ? `sum by (job) (increase(${selector(name, m.match)}[${duration(m.windowSeconds)}]))`
        : `sum by (job) (increase(${selector(name, m.match)}[${duration(m.windowSeconds)}])) or sum by (job) (0 * increase(${catalogue[m.producedWith].name}[${duration(m.windowSeconds)}]))`;
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
  if (m.kind === 'quantile') return `${m.by.join('_')}:${name}:p${Math.round(m.quantile * 100)}_${duration(m.windowSeconds)}`;
  if (m.kind === 'increase') return `job:${name.replace(/_total$/, '')}:increase${duration(m.windowSeconds)}`;
  if (m.sumBy !== undefined) return `${m.sumBy.join('_')}:${name}:sum`;
  return null;
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
    .replace(/\[[^\]]*\]/g, '');
  const names = new Set<string>();
  for (const match of stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const word = match[0];
    const after = stripped.slice(match.index! + word.length).trimStart();
    if (PROMQL_WORDS.has(word.toLowerCase()) || after.startsWith('(')) continue;
    names.add(word);
  }
  return [...names];
}
