import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { observability } from '../../src/ops/index.ts';
import { requireBinary } from '../helpers/servers.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const run = (binary: string, args: string[], cwd = ROOT) => spawnSync(binary, args, { cwd, encoding: 'utf8' });

describe('generated rules with the real promtool', () => {
  it('promtool check rules accepts the rule file', () => {
    const result = run(requireBinary('promtool', 'prometheus'), ['check', 'rules', 'deploy/prometheus/rules.yml']);
    assert.equal(result.status, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /SUCCESS: \d+ rules found/);
  });

  it('promtool test rules passes a test for every alert: fires after `for`, quiet below, resolves', () => {
    const result = run(requireBinary('promtool', 'prometheus'), ['test', 'rules', 'rules.test.yml'], join(ROOT, 'deploy/prometheus'));
    assert.equal(result.status, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /SUCCESS/);
    const tested = new Set((observability.ruleTestFile('rules.yml').tests as observability.PromtoolTest[]).flatMap((t) => t.alert_rule_test.map((a) => a.alertname)));
    const alerts = new Set(observability.allRules().filter((r) => 'alert' in r).map((r) => (r as observability.AlertingRule).alert));
    assert.deepEqual([...alerts].filter((a) => !tested.has(a)), [], 'every alert has a unit test');
  });

  it('promtool check config accepts a Prometheus config with the generated rules', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fai-promcfg-'));
    try {
      const config = observability.prometheusConfig({ targets: ['127.0.0.1:8000'], alertmanager: '127.0.0.1:9093', ruleFiles: [join(ROOT, 'deploy/prometheus/rules.yml')] });
      await writeFile(join(dir, 'prometheus.yml'), stringify(config));
      const result = run(requireBinary('promtool', 'prometheus'), ['check', 'config', join(dir, 'prometheus.yml')]);
      assert.equal(result.status, 0, result.stdout + result.stderr);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('generated Alertmanager config with the real amtool', () => {
  let amtool: string;
  before(() => {
    amtool = requireBinary('amtool', 'prometheus-alertmanager');
  });
  const routes = (...labels: string[]) => run(amtool, ['config', 'routes', 'test', '--config.file=deploy/alertmanager/alertmanager.yml', ...labels]).stdout.trim();

  it('amtool check-config accepts it', () => {
    const result = run(amtool, ['check-config', 'deploy/alertmanager/alertmanager.yml']);
    assert.equal(result.status, 0, result.stdout + result.stderr);
  });

  it('routes critical alerts to the critical receiver and warnings to the warning one', () => {
    assert.equal(routes('alertname=FragranceAITargetDown', 'severity=critical', 'runbook=health-check'), 'automation,team-critical', 'the absent alert names a runbook too');
    assert.equal(routes('alertname=Unknown', 'severity=critical'), 'team-critical');
    assert.equal(routes('alertname=Unknown', 'severity=warning'), 'team-warning');
  });

  it('sends a training alert (HighClipFraction) to whoever trains, and never to the automation webhook or the production pager', () => {
    const clip = (observability.allRules().filter((r) => 'alert' in r) as observability.AlertingRule[]).filter((r) => r.alert === 'HighClipFraction');
    assert.equal(clip.length, 2);
    for (const row of clip) {
      assert.equal(row.labels.audience, 'training');
      assert.equal(routes(`alertname=${row.alert}`, `severity=${row.labels.severity}`, `runbook=${row.labels.runbook}`, 'audience=training'), 'team-training');
    }
  });

  it('sends every other alert that names a runbook to the automation webhook as well', () => {
    for (const row of (observability.allRules().filter((r) => 'alert' in r && r.labels.audience !== 'training') as observability.AlertingRule[]).slice(0, 20)) {
      const receivers = routes(`alertname=${row.alert}`, `severity=${row.labels.severity}`, `runbook=${row.labels.runbook}`).split(',');
      assert.deepEqual(receivers, ['automation', row.labels.severity === 'critical' ? 'team-critical' : 'team-warning'], row.alert);
    }
  });
});
