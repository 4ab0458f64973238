import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { catalogueEntries, type HistogramDef } from '../../src/metrics/index.ts';
import { observability, RUNBOOKS, thresholdsTable } from '../../src/ops/index.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const { allPanels, allRules, dashboardJson, DASHBOARD_ROWS, generate, humanize, metricNamesIn, expandTemplate } = observability;

/** Every name a rule or panel may read: catalogue metrics (with histogram series suffixes), recorded series, `up`. */
function knownNames(): Set<string> {
  const names = new Set<string>(['up']);
  for (const [, def] of catalogueEntries()) {
    names.add(def.name);
    if (def.type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${(def as HistogramDef).name}${suffix}`);
  }
  for (const rule of allRules()) if ('record' in rule) names.add(rule.record);
  return names;
}

describe('observability as code', () => {
  it('has checked-in files identical to a fresh generation', async () => {
    const { stale } = await generate(ROOT, true);
    assert.deepEqual(stale, [], 'run `make generate` and commit deploy/');
  });

  it('names only metrics of the catalogue (or recorded series) in every rule and panel', () => {
    const known = knownNames();
    for (const rule of allRules()) {
      for (const name of metricNamesIn(rule.expr)) assert.ok(known.has(name), `${'record' in rule ? rule.record : rule.alert}: unknown metric ${name}`);
    }
    for (const panel of allPanels()) for (const name of metricNamesIn(panel.expr)) assert.ok(known.has(name), `panel "${panel.title}": unknown metric ${name}`);
  });

  it('catches a rule that names a metric the catalogue lacks', () => {
    assert.deepEqual(metricNamesIn('sum by (le) (rate(llm_brief_latency_seconds_bucket{mode="fast"}[5m])) > 3'), ['llm_brief_latency_seconds_bucket']);
    assert.ok(!knownNames().has('llm_brief_latency_seconds_bucket'));
  });

  it('gives every alert a severity, a summary, a description and a runbook that the runbook page documents', () => {
    const page = readFileSync(`${ROOT}/docs/runbooks.md`, 'utf8');
    const alerts = allRules().filter((rule) => 'alert' in rule);
    assert.ok(alerts.length >= 2 * thresholdsTable.length + 3);
    for (const rule of alerts) {
      assert.ok('alert' in rule);
      assert.ok(['warning', 'critical'].includes(rule.labels.severity), rule.alert);
      assert.ok(rule.annotations.summary.length > 10 && rule.annotations.description.length > 20, rule.alert);
      assert.ok((RUNBOOKS as readonly string[]).includes(rule.labels.runbook), `${rule.alert}: runbook ${rule.labels.runbook}`);
      assert.equal(rule.annotations.runbook_url, `docs/runbooks.md#${rule.labels.runbook}`);
      assert.match(page, new RegExp(`^## ${rule.labels.runbook}$`, 'm'), `docs/runbooks.md documents ${rule.labels.runbook}`);
    }
  });

  it('has the guide four alerts and a warning (where the row has one) and a critical alert for every thresholds row', () => {
    const alerts = allRules().filter((rule) => 'alert' in rule) as observability.AlertingRule[];
    for (const name of ['HighLLMLatency', 'IFRAViolation', 'HighWorkerVRAM', 'LowRewardMA']) assert.ok(alerts.some((a) => a.alert === name), name);
    for (const row of thresholdsTable) {
      const mine = alerts.filter((a) => a.labels.threshold_row === row.id).map((a) => [a.labels.severity, a.expr]);
      assert.deepEqual(mine.map(([severity]) => severity).sort(), row.warning === null ? ['critical'] : ['critical', 'warning'], row.id);
      assert.ok(mine.some(([s, e]) => s === 'critical' && e!.endsWith(` ${row.critical}`)), `${row.id} critical bound`);
    }
    assert.ok(alerts.some((a) => a.alert === 'FragranceAITargetDown'), 'an absent-data alert for the target');
  });

  it('lays out the dashboard in the guide five rows, with units and the table thresholds drawn', () => {
    assert.deepEqual(DASHBOARD_ROWS.map((r) => r.title), ['LLM performance', 'RL training', 'Regulatory compliance', 'Cloud Hub', 'System health']);
    const json = dashboardJson() as { panels: Array<{ type: string; title: string; fieldConfig?: { defaults: { unit: string; thresholds: { steps: Array<{ value: number | null }> } } } }> };
    const latency = json.panels.find((p) => p.title === 'Brief latency p95 by mode and model')!;
    assert.equal(latency.fieldConfig?.defaults.unit, 'ms');
    assert.deepEqual(latency.fieldConfig?.defaults.thresholds.steps.map((s) => s.value), [null, 3000, 5000]);
    const vram = json.panels.find((p) => p.title === 'Worker GPU memory')!;
    // decbytes (10³): the bounds are 22×10⁹ and 25×10⁹ bytes, and the axis must read them as 22 GB, not 20.5 GiB.
    assert.deepEqual([vram.fieldConfig?.defaults.unit, vram.fieldConfig?.defaults.thresholds.steps.map((s) => s.value)], ['decbytes', [null, 22e9, 25e9]]);
    for (const panel of json.panels.filter((p) => p.type === 'timeseries')) assert.ok(panel.fieldConfig?.defaults.unit, `${panel.title} has a unit`);
  });

  it('expands annotation templates as Prometheus does', () => {
    assert.equal(humanize(7375), '7.375k');
    assert.equal(humanize(0.45), '450m');
    assert.equal(humanize(23e9), '23G');
    assert.equal(humanize(12), '12');
    assert.equal(humanize(0), '0');
    assert.equal(expandTemplate('{{ $value | humanizePercentage }} on {{ $labels.component }}', 0.04, { component: 'hub' }), '4% on hub');
    assert.throws(() => expandTemplate('{{ $value | printf "%.2f" }}', 1, {}), /not one the rule-test generator can expand/);
  });
});
