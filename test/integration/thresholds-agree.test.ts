import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { createMetrics } from '../../src/metrics/index.ts';
import { observability, ThresholdEvaluator } from '../../src/ops/index.ts';
import { requireBinary } from '../helpers/servers.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TICK_SECONDS = 5;

/** Replays a scenario's events into one registry (what one process serving all of it would count) and evaluates the row. */
async function inProcess(c: observability.CounterScenario) {
  const start = 1_800_000_000_000;
  const clock = { now: start };
  const metrics = createMetrics({ defaultMetrics: false, now: () => clock.now });
  const evaluator = new ThresholdEvaluator(metrics, { now: () => clock.now, rows: [c.row] });
  const events = [...c.events].sort((a, b) => a.atSeconds - b.atSeconds);
  let next = 0;
  for (let t = 0; t <= c.evalSeconds; t += TICK_SECONDS) {
    clock.now = start + t * 1000;
    while (next < events.length && events[next]!.atSeconds <= t) {
      const e = events[next++]!;
      (metrics[e.metric] as unknown as { inc(labels: Record<string, string>, amount: number): void }).inc(e.labels, e.amount);
    }
    await evaluator.sample();
  }
  return (await evaluator.evaluate()).rows[0]!;
}

describe('the in-process verdict and Prometheus agree on counter rows (irregular series)', () => {
  const scenarios = observability.counterScenarios();

  it('covers every counter row with new series, resets, two instances, the bound itself and too little volume', () => {
    const names = scenarios.map((c) => `${c.row.id}: ${c.name}`);
    for (const id of ['ifra_violations_served', 'ifra_violations_per_day', 'shadow_dropped_per_hour', 'system_error_rate', 'llm_local_share']) assert.ok(names.some((n) => n.startsWith(`${id}:`)), id);
    assert.ok(names.some((n) => /ifra_violations_per_day: .*on a new series appearing at 1/.test(n)));
    assert.ok(names.some((n) => /ifra_violations_per_day: .*restart/.test(n)));
    assert.ok(names.some((n) => /ifra_violations_per_day: 1 event: at the warning bound, quiet/.test(n)));
    assert.ok(names.some((n) => /system_error_rate: two instances at 2 % each: quiet/.test(n)));
    assert.ok(names.some((n) => /system_error_rate: one instance at 6 %: past critical/.test(n)));
  });

  for (const c of scenarios) {
    it(`in process: ${c.row.id}: ${c.name} → ${c.status}${c.value === null ? '' : ` (${c.value})`}`, async () => {
      const verdict = await inProcess(c);
      assert.equal(verdict.status, c.status, verdict.detail);
      if (c.value === null) assert.equal(verdict.value, null);
      else assert.ok(Math.abs(verdict.value! - c.value) < 1e-9, `${verdict.value} ≠ ${c.value} (${verdict.detail})`);
    });
  }

  it('Prometheus (promtool, the generated rules) gives the same values and fires exactly the alerts of those verdicts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fai-agree-'));
    try {
      await writeFile(join(dir, 'tests.yml'), stringify({ rule_files: [join(ROOT, 'deploy/prometheus/rules.yml')], evaluation_interval: '1m', tests: scenarios.map(observability.counterTest) }, { lineWidth: 0 }));
      const result = spawnSync(requireBinary('promtool', 'prometheus'), ['test', 'rules', 'tests.yml'], { cwd: dir, encoding: 'utf8' });
      assert.equal(result.status, 0, result.stdout + result.stderr);
      assert.match(result.stdout, /SUCCESS/);
      // The firing alerts follow the verdict: CRITICAL fires both bounds, WARNING the warning only, OK and NO_DATA nothing.
      for (const c of scenarios) {
        const fired = observability.counterTest(c).alert_rule_test[0]!.exp_alerts.map((a) => a.exp_labels.severity).sort();
        const want = { CRITICAL: c.row.warning === null ? ['critical'] : ['critical', 'warning'], WARNING: ['warning'], OK: [], NO_DATA: [] }[c.status];
        assert.deepEqual(fired, want, `${c.row.id}: ${c.name}`);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

