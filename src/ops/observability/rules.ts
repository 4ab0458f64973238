import { catalogue } from '../../metrics/index.ts';
import { thresholdsTable, type RunbookName, type ThresholdRow } from '../thresholds.ts';
import { breachExpr, exactIncrease, instanceSumExpr, instanceSumRecord, measureExpr, recordName, SERVICE_JOB } from './promql.ts';

/**
 * Prometheus recording and alerting rules, generated from the metric catalogue and the thresholds
 * table. Nothing here is written by hand twice: change a threshold in thresholds.ts, regenerate,
 * and the alerts, their unit tests and the dashboards follow.
 */
export interface RecordingRule {
  readonly record: string;
  readonly expr: string;
}

export interface AlertingRule {
  readonly alert: string;
  readonly expr: string;
  readonly for: string;
  readonly labels: { readonly severity: 'warning' | 'critical'; readonly runbook: RunbookName; readonly [name: string]: string };
  readonly annotations: { readonly summary: string; readonly description: string; readonly runbook_url: string };
}

export interface RuleGroup {
  readonly name: string;
  readonly interval?: string;
  readonly rules: ReadonlyArray<RecordingRule | AlertingRule>;
}

/** Where the runbooks are documented; an alert links to its runbook's section. */
export const RUNBOOK_DOC = 'docs/runbooks.md';

export function runbookUrl(runbook: RunbookName): string {
  return `${RUNBOOK_DOC}#${runbook}`;
}

const name = (key: keyof typeof catalogue) => catalogue[key].name;

/** Recording rules for what alerts and panels need beyond the thresholds rows. */
export function dashboardRecordingRules(): RecordingRule[] {
  return [
    { record: 'service:system_requests:rate1m', expr: `sum by (service) (rate(${name('systemRequestsTotal')}[1m]))` },
    { record: 'component:system_errors:rate5m', expr: `sum by (component, error_type) (rate(${name('systemErrorsTotal')}[5m]))` },
    { record: 'operation:ipfs_operations:rate1m', expr: `sum by (operation) (rate(${name('ipfsOperationsTotal')}[1m]))` },
    { record: 'error_type:ipfs_cid_errors:rate5m', expr: `sum by (error_type) (rate(${name('ipfsCidErrorsTotal')}[5m]))` },
    {
      record: 'operation:redis_metadata_latency_seconds:p95_5m',
      expr: `histogram_quantile(0.95, sum by (le, operation) (rate(${name('redisMetadataLatencySeconds')}_bucket[5m])))`,
    },
    {
      record: 'check_type:ifra_checks:pass_ratio_rate1h',
      expr: `sum by (check_type) (rate(${name('ifraChecksPassedTotal')}[1h])) / sum by (check_type) (rate(${name('ifraChecksTotal')}[1h]))`,
    },
    { record: 'from_mode_to_mode:hybrid_switch:rate15m', expr: `sum by (from_mode, to_mode) (rate(${name('hybridSwitchTotal')}[15m]))` },
  ];
}

/**
 * Per-series counts over a day or an hour, for the dashboard's top-10 tables: a range over thousands
 * of series (every ingredient's violations) is costly, so these are evaluated every 5 minutes, not
 * with every scrape. Exact counts: a new ingredient's first violation counts (promql.ts).
 */
export const SLOW_RULES_INTERVAL = '5m';

export function slowRecordingRules(): RecordingRule[] {
  return [
    { record: 'ingredient:ifra_violations:increase1d', expr: `sum by (ingredient, violation_type, source) (${exactIncrease(name('ifraViolationsTotal'), '1d')})` },
    { record: 'allergen:allergen_hits:increase1h', expr: `sum by (allergen, severity) (${exactIncrease(name('allergenHitsTotal'), '1h')})` },
  ];
}

export function thresholdRecordingRules(rows: readonly ThresholdRow[] = thresholdsTable): RecordingRule[] {
  const rules: RecordingRule[] = [];
  // The per-instance sums increase rows count from come first (two rows may share one).
  for (const row of rows) {
    if (row.measure.kind !== 'increase') continue;
    const record = instanceSumRecord(row);
    if (!rules.some((rule) => rule.record === record)) rules.push({ record, expr: instanceSumExpr(row) });
  }
  for (const row of rows) {
    const record = recordName(row);
    if (record !== null) rules.push({ record, expr: measureExpr(row) });
  }
  return rules;
}

function thresholdAlerts(rows: readonly ThresholdRow[]): AlertingRule[] {
  return rows.flatMap((row) =>
    (['warning', 'critical'] as const).flatMap((severity): AlertingRule[] => {
      const bound = row[severity];
      // A row without a warning bound (the guide's IFRAViolation) has only its critical alert.
      if (bound === null) return [];
      return [
        {
          alert: row.alert.name,
          expr: breachExpr(row, bound),
          for: row.alert.for,
          labels: { severity, runbook: row.alert.runbook[severity], threshold_row: row.id, ...(row.alert.audience === 'training' ? { audience: 'training' } : {}) },
          annotations: {
            summary: row.alert.summary,
            description: `${row.alert.description} (${severity} bound: ${row.direction === 'above' ? '>' : '<'} ${bound}${row.unit === 'ms' ? ' ms' : row.unit === 'seconds' ? ' s' : ''})`,
            runbook_url: runbookUrl(row.alert.runbook[severity]),
          },
        },
      ];
    }),
  );
}

/** How long a mode may stay downshifted before LLMDownshiftStuck fires. */
export const DOWNSHIFT_STUCK_FOR = '30m';

/** Alerts for silence that would hide a failure: the target gone, a producer stopped, a downshift that never lifts. */
function absenceAlerts(): AlertingRule[] {
  return [
    {
      alert: 'FragranceAITargetDown',
      expr: `up{job="${SERVICE_JOB}"} == 0`,
      for: '2m',
      labels: { severity: 'critical', runbook: 'health-check' },
      annotations: {
        summary: 'Prometheus cannot scrape {{ $labels.instance }}',
        description: 'The service does not answer /metrics: it is down or unreachable, and every other alert is blind.',
        runbook_url: runbookUrl('health-check'),
      },
    },
    {
      alert: 'FragranceAIMetricsAbsent',
      expr: `absent(up{job="${SERVICE_JOB}"})`,
      for: '5m',
      labels: { severity: 'critical', runbook: 'metrics-check' },
      annotations: {
        summary: 'No Fragrance AI target is being scraped',
        description: 'The scrape target disappeared from Prometheus (configuration or discovery), so no alert of this service can fire.',
        runbook_url: runbookUrl('metrics-check'),
      },
    },
    {
      // A downshift that does not lift (an alert's forced one nobody cleared, a mode that never recovers)
      // quietly serves every request of the mode from the cheaper one: the people should know.
      alert: 'LLMDownshiftStuck',
      expr: `max by (job, instance, mode) (${name('llmDownshiftActive')}) == 1`,
      for: DOWNSHIFT_STUCK_FOR,
      // No policy rule acts on it (the webhook records it and runs nothing): the people decide.
      labels: { severity: 'warning', runbook: 'downshift' },
      annotations: {
        summary: '{{ $labels.mode }} has been downshifted on {{ $labels.instance }} for over 30 minutes',
        description: 'The mode\'s requests have gone to the next cheaper mode for 30 minutes: its slots have not recovered, or a forced downshift was never lifted (fai runbook downshift --mode MODE --clear).',
        runbook_url: runbookUrl('downshift'),
      },
    },
    {
      alert: 'WorkerCpuSamplerStopped',
      expr: `up{job="${SERVICE_JOB}"} == 1 unless on (job, instance) ${name('workerCpuPercent')}`,
      for: '10m',
      labels: { severity: 'warning', runbook: 'restart-workers' },
      annotations: {
        summary: '{{ $labels.instance }} answers but reports no worker_cpu_percent',
        description: 'The process is scraped but its CPU sampler produced nothing: its metrics path is broken.',
        runbook_url: runbookUrl('restart-workers'),
      },
    },
  ];
}

export function ruleGroups(rows: readonly ThresholdRow[] = thresholdsTable): RuleGroup[] {
  return [
    { name: 'fragrance-ai.recording', rules: [...thresholdRecordingRules(rows), ...dashboardRecordingRules()] },
    { name: 'fragrance-ai.recording.slow', interval: SLOW_RULES_INTERVAL, rules: slowRecordingRules() },
    { name: 'fragrance-ai.alerts', rules: [...thresholdAlerts(rows), ...absenceAlerts()] },
  ];
}

export function allRules(): Array<RecordingRule | AlertingRule> {
  return ruleGroups().flatMap((group) => [...group.rules]);
}
