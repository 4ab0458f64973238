import { catalogue } from '../../metrics/index.ts';
import { thresholdsTable, type ThresholdRow } from '../thresholds.ts';
import { rowExpr } from './promql.ts';

/**
 * The Grafana dashboard of the operations guide, as plain typed JSON (no SDK: the dashboard
 * model is stable JSON and a dependency would only wrap it). Five rows — LLM performance, RL
 * training, regulatory compliance, Cloud Hub, system health — whose threshold lines come from the
 * thresholds table and whose units are set.
 */
export interface Panel {
  readonly title: string;
  readonly expr: string;
  readonly legend: string;
  /** Grafana unit id: ms, s, bytes, percent, percentunit, reqps, ops, short. */
  readonly unit: string;
  /** Draw the warning and critical bounds of this thresholds-table row. */
  readonly thresholds?: string;
  readonly description?: string;
}

export interface DashboardRow {
  readonly title: string;
  readonly panels: readonly Panel[];
}

const row = (id: string): ThresholdRow => {
  const found = thresholdsTable.find((r) => r.id === id);
  if (found === undefined) throw new Error(`no thresholds row ${id}`);
  return found;
};
const n = (key: keyof typeof catalogue) => catalogue[key].name;

export const DASHBOARD_ROWS: readonly DashboardRow[] = [
  {
    title: 'LLM performance',
    panels: [
      { title: 'Brief latency p95 by mode and model', expr: rowExpr(row('llm_brief_latency_p95')), legend: '{{mode}} / {{model}}', unit: 'ms', thresholds: 'llm_brief_latency_p95' },
      { title: 'Mode downshift (1 = active)', expr: n('llmDownshiftActive'), legend: '{{mode}}', unit: 'short' },
      { title: 'Briefs answered by the local fallback (share, 5 min)', expr: rowExpr(row('llm_local_share')), legend: 'local fallback', unit: 'percentunit', thresholds: 'llm_local_share' },
      { title: 'Slot fallbacks per second', expr: `sum by (from_model, reason) (rate(${n('llmFallbackTotal')}[5m]))`, legend: '{{from_model}}: {{reason}}', unit: 'ops' },
      { title: 'Hybrid loop: share of steps per mode', expr: n('hybridSwitchRatio'), legend: '{{mode}}', unit: 'percentunit' },
      { title: 'Hybrid loop switches per second', expr: 'from_mode_to_mode:hybrid_switch:rate15m', legend: '{{from_mode}} → {{to_mode}}', unit: 'ops' },
    ],
  },
  {
    title: 'RL training',
    panels: [
      { title: 'Reward moving average (100 episodes)', expr: rowExpr(row('rl_reward_ma_100')), legend: '{{algorithm}}', unit: 'short', thresholds: 'rl_reward_ma_100' },
      { title: 'Reward moving average (1000 episodes)', expr: `${n('rlRewardMa')}{window="1000"}`, legend: '{{algorithm}}', unit: 'short' },
      { title: 'PPO clip fraction', expr: rowExpr(row('rl_clip_frac')), legend: '{{algorithm}}', unit: 'percentunit', thresholds: 'rl_clip_frac' },
      { title: 'Distillation KL(teacher ‖ student)', expr: n('rlDistillKl'), legend: '{{teacher}} → {{student}}', unit: 'short' },
      { title: 'Shadow: lift retention, live (student ÷ teacher, over the composer alone)', expr: rowExpr(row('shadow_reward_retention')), legend: '{{stage}}', unit: 'short', thresholds: 'shadow_reward_retention' },
      { title: 'Shadow: speedup (teacher ÷ student latency, median ratio)', expr: n('shadowSpeedupRatio'), legend: '{{stage}} {{source}}', unit: 'short' },
      { title: 'Shadow: KL(teacher ‖ student) p95, live', expr: `histogram_quantile(0.95, sum by (stage, le) (rate(${n('shadowKlDivergence')}_bucket{source="live"}[15m])))`, legend: '{{stage}}', unit: 'short' },
      { title: 'Shadow: comparisons per second by stage and source', expr: `sum by (stage, source) (rate(${n('shadowComparisonsTotal')}[5m]))`, legend: '{{stage}} {{source}}', unit: 'ops' },
      { title: 'Shadow: comparisons dropped in the last hour', expr: rowExpr(row('shadow_dropped_per_hour')), legend: 'dropped', unit: 'short', thresholds: 'shadow_dropped_per_hour' },
    ],
  },
  {
    title: 'Regulatory compliance',
    panels: [
      { title: 'IFRA violations, last 24 h', expr: rowExpr(row('ifra_violations_per_day')), legend: 'violations', unit: 'short', thresholds: 'ifra_violations_per_day' },
      { title: 'Violations by ingredient, last 24 h', expr: 'topk(10, ingredient:ifra_violations:increase1d)', legend: '{{ingredient}} ({{violation_type}}, {{source}})', unit: 'short' },
      { title: 'Compliance rate by check type (1 h)', expr: n('ifraComplianceRate'), legend: '{{check_type}}', unit: 'percentunit' },
      { title: 'Allergens found, last hour', expr: 'topk(10, allergen:allergen_hits:increase1h)', legend: '{{allergen}} ({{severity}})', unit: 'short' },
    ],
  },
  {
    title: 'Cloud Hub',
    panels: [
      { title: 'Operations per second', expr: n('ipfsStoreRate'), legend: '{{operation}}', unit: 'ops' },
      { title: 'Restore latency p95', expr: rowExpr(row('ipfs_restore_latency_p95')), legend: '{{data_type}}', unit: 's', thresholds: 'ipfs_restore_latency_p95' },
      { title: 'CID errors per second', expr: 'error_type:ipfs_cid_errors:rate5m', legend: '{{error_type}}', unit: 'ops' },
      { title: 'Redis metadata latency p95', expr: 'operation:redis_metadata_latency_seconds:p95_5m', legend: '{{operation}}', unit: 's' },
    ],
  },
  {
    title: 'System health',
    panels: [
      { title: 'Requests per second', expr: n('systemRps'), legend: '{{service}}', unit: 'reqps' },
      { title: 'Error rate by component (4xx excluded)', expr: rowExpr(row('system_error_rate')), legend: '{{component}}', unit: 'percentunit', thresholds: 'system_error_rate' },
      { title: 'Worker CPU', expr: n('workerCpuPercent'), legend: '{{worker_id}}', unit: 'percent' },
      { title: 'Worker GPU memory', expr: rowExpr(row('worker_vram')), legend: '{{worker_id}} / {{model}}', unit: 'decbytes', thresholds: 'worker_vram' },
      { title: 'Request latency p95 by instance (customer routes)', expr: `histogram_quantile(0.95, sum by (instance, le) (rate(${n('systemRequestDurationSeconds')}_bucket{component!~"metrics|health|ops"}[5m])))`, legend: '{{instance}}', unit: 's' },
      { title: 'Automated remediation: actions in the last hour', expr: `sum by (runbook, outcome) (increase(${n('remediationActionsTotal')}[1h]))`, legend: '{{runbook}}: {{outcome}}', unit: 'short' },
    ],
  },
];

/** Grafana threshold steps: green below the warning bound, orange past it, red past the critical one. */
function thresholdSteps(id: string | undefined): unknown {
  if (id === undefined) return { mode: 'absolute', steps: [{ color: 'green', value: null }] };
  const r = row(id);
  // The VRAM row is in bytes, the error rate a ratio: both already in the panel's unit.
  const warning = r.warning ?? r.critical;
  return r.direction === 'above'
    ? { mode: 'absolute', steps: [{ color: 'green', value: null }, ...(r.warning === null ? [] : [{ color: 'orange', value: warning }]), { color: 'red', value: r.critical }] }
    : { mode: 'absolute', steps: [{ color: 'red', value: null }, { color: 'orange', value: r.critical }, { color: 'green', value: warning }] };
}

export const DATASOURCE_UID = 'prometheus';

/** The dashboard JSON, laid out on Grafana's 24-column grid, four panels per line. */
export function dashboardJson(): Record<string, unknown> {
  const panels: unknown[] = [];
  let y = 0;
  let id = 1;
  for (const section of DASHBOARD_ROWS) {
    panels.push({ id: id++, type: 'row', title: section.title, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y }, panels: [] });
    y += 1;
    const width = Math.floor(24 / section.panels.length);
    section.panels.forEach((panel, i) => {
      panels.push({
        id: id++,
        type: 'timeseries',
        title: panel.title,
        datasource: { type: 'prometheus', uid: DATASOURCE_UID },
        gridPos: { h: 8, w: width, x: i * width, y },
        fieldConfig: {
          defaults: {
            unit: panel.unit,
            thresholds: thresholdSteps(panel.thresholds),
            custom: { thresholdsStyle: { mode: panel.thresholds === undefined ? 'off' : 'line+area' } },
          },
          overrides: [],
        },
        options: { legend: { displayMode: 'list', placement: 'bottom' }, tooltip: { mode: 'multi' } },
        targets: [{ refId: 'A', datasource: { type: 'prometheus', uid: DATASOURCE_UID }, expr: panel.expr, legendFormat: panel.legend }],
      });
    });
    y += 8;
  }
  return {
    uid: 'fragrance-ai-operations',
    title: 'Fragrance AI — operations',
    tags: ['fragrance-ai', 'generated'],
    timezone: 'browser',
    schemaVersion: 39,
    version: 1,
    refresh: '30s',
    time: { from: 'now-6h', to: 'now' },
    panels,
  };
}

export function allPanels(): Panel[] {
  return DASHBOARD_ROWS.flatMap((section) => [...section.panels]);
}
