import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMetrics } from '../../src/metrics/index.ts';
import { classify, thresholdsTable, ThresholdEvaluator, type RowVerdict } from '../../src/ops/index.ts';

function setup() {
  const clock = { now: 1_700_000_000_000 };
  const metrics = createMetrics({ defaultMetrics: false, now: () => clock.now });
  const evaluator = new ThresholdEvaluator(metrics, { now: () => clock.now });
  const row = async (id: string): Promise<RowVerdict> => {
    const found = (await evaluator.evaluate()).rows.find((r) => r.id === id);
    assert.ok(found, id);
    return found;
  };
  return { clock, metrics, evaluator, row };
}

describe('thresholds table', () => {
  it('holds the operations guide rows with their numbers', () => {
    const byId = Object.fromEntries(thresholdsTable.map((r) => [r.id, r]));
    assert.deepEqual(
      thresholdsTable.map((r) => r.title),
      [
        'llm_brief_elapsed_ms p95',
        'rl_reward_ma (window 100)',
        'rl_clip_frac',
        "ifra_violations_total, served, last 5 minutes (the guide's IFRAViolation)",
        'ifra_violations_total',
        'ipfs restore latency',
        'system_error_rate',
        'worker VRAM',
        'shadow reward retention (student ÷ teacher, of the lift over the composer alone)',
        'shadow comparisons dropped per hour',
        'briefs answered by the local fallback model (share, 5 min)',
      ],
    );
    assert.deepEqual(thresholdsTable.filter((r) => r.origin === 'ours').map((r) => r.id), ['shadow_reward_retention', 'shadow_dropped_per_hour', 'llm_local_share']);
    // The guide's IFRAViolation: any served violation in 5 minutes is critical; it has no warning bound.
    assert.deepEqual([byId.ifra_violations_served?.warning, byId.ifra_violations_served?.critical, byId.ifra_violations_served?.alert.for], [null, 0, '1m']);
    assert.deepEqual([byId.llm_brief_latency_p95?.warning, byId.llm_brief_latency_p95?.critical], [3000, 5000]);
    assert.deepEqual([byId.rl_reward_ma_100?.warning, byId.rl_reward_ma_100?.critical, byId.rl_reward_ma_100?.direction], [15, 10, 'below']);
    assert.deepEqual([byId.rl_clip_frac?.warning, byId.rl_clip_frac?.critical], [0.4, 0.6]);
    assert.deepEqual([byId.ifra_violations_per_day?.warning, byId.ifra_violations_per_day?.critical], [1, 5]);
    assert.deepEqual([byId.ipfs_restore_latency_p95?.warning, byId.ipfs_restore_latency_p95?.critical], [1, 2]);
    assert.deepEqual([byId.system_error_rate?.warning, byId.system_error_rate?.critical], [0.03, 0.05]);
    assert.deepEqual([byId.worker_vram?.warning, byId.worker_vram?.critical], [22e9, 25e9]);
    // Ours beside the guide's: the non-inferiority margin of the shadow evaluation, and shedding.
    assert.deepEqual([byId.shadow_reward_retention?.warning, byId.shadow_reward_retention?.critical, byId.shadow_reward_retention?.direction], [0.92, 0.85, 'below']);
    assert.deepEqual([byId.shadow_dropped_per_hour?.warning, byId.shadow_dropped_per_hour?.critical], [100, 1000]);
  });

  it('classifies strictly past a bound: equal to the warning value is still OK', () => {
    const latency = thresholdsTable.find((r) => r.id === 'llm_brief_latency_p95')!;
    assert.equal(classify(latency, 3000), 'OK');
    assert.equal(classify(latency, 3000.1), 'WARNING');
    assert.equal(classify(latency, 5000), 'WARNING');
    assert.equal(classify(latency, 5001), 'CRITICAL');
    const reward = thresholdsTable.find((r) => r.id === 'rl_reward_ma_100')!;
    assert.equal(classify(reward, 15), 'OK');
    assert.equal(classify(reward, 14.9), 'WARNING');
    assert.equal(classify(reward, 9.9), 'CRITICAL');
  });
});

describe('ThresholdEvaluator on live metrics', () => {
  it('says NO_DATA for every row before any producer ran', async () => {
    const { evaluator } = setup();
    const report = await evaluator.evaluate();
    assert.equal(report.status, 'NO_DATA');
    for (const row of report.rows) {
      assert.equal(row.status, 'NO_DATA', row.id);
      assert.equal(row.value, null);
      assert.match(row.detail, /^no /);
    }
  });

  it('judges gauges by their worst series, with the guide normal band', async () => {
    const { metrics, row } = setup();
    metrics.rlRewardMa.set({ algorithm: 'ppo', window: '100', source: 'served', job_id: 'served' }, 21);
    metrics.rlRewardMa.set({ algorithm: 'reinforce', window: '100', source: 'served', job_id: 'served' }, 12);
    metrics.rlRewardMa.set({ algorithm: 'reinforce', window: '1000', source: 'served', job_id: 'served' }, 2); // another window: not this row
    metrics.rlRewardMa.set({ algorithm: 'ppo', window: '100', source: 'training', job_id: 'job-1' }, 1); // a training job: not this row
    let reward = await row('rl_reward_ma_100');
    assert.equal(reward.status, 'WARNING');
    assert.equal(reward.value, 12);
    assert.deepEqual(reward.labels, { algorithm: 'reinforce', window: '100', source: 'served', job_id: 'served' });
    assert.equal(reward.inNormalRange, false);
    metrics.rlRewardMa.set({ algorithm: 'reinforce', window: '100', source: 'served', job_id: 'served' }, 19);
    reward = await row('rl_reward_ma_100');
    assert.deepEqual([reward.status, reward.value, reward.inNormalRange], ['OK', 19, true]);

    metrics.rlClipFrac.set({ algorithm: 'ppo', job_id: 'job-1' }, 0.61);
    assert.equal((await row('rl_clip_frac')).status, 'CRITICAL');
    metrics.workerVramBytes.set({ worker_id: 'gpu-0', model: 'qwen' }, 23e9);
    assert.equal((await row('worker_vram')).status, 'WARNING');
  });

  it('sums error types per component, leaving out client errors, for system_error_rate', async () => {
    const { metrics, row } = setup();
    metrics.systemOperationsTotal.inc({ component: 'hub' }, 100);
    metrics.systemErrorsTotal.inc({ component: 'hub', error_type: 'timeout' }, 2);
    metrics.systemErrorsTotal.inc({ component: 'hub', error_type: 'server_error' }, 2);
    metrics.systemErrorsTotal.inc({ component: 'hub', error_type: 'client_error' }, 50);
    metrics.systemOperationsTotal.inc({ component: 'llm' }, 100);
    const rate = await row('system_error_rate');
    assert.equal(rate.status, 'WARNING', '4% > 3%');
    assert.equal(rate.value, 0.04);
    assert.deepEqual(rate.labels, { component: 'hub' });
  });

  it('reports a 0% error rate (not NO_DATA) when operations succeed', async () => {
    const { metrics, row } = setup();
    metrics.systemOperationsTotal.inc({ component: 'server' }, 60);
    const rate = await row('system_error_rate');
    assert.deepEqual([rate.status, rate.value, rate.inNormalRange], ['OK', 0, true]);
  });

  it('holds no error rate against a component with fewer than 50 operations in the window', async () => {
    const { metrics, row } = setup();
    metrics.systemOperationsTotal.inc({ component: 'hub' }, 10);
    metrics.systemErrorsTotal.inc({ component: 'hub', error_type: 'server_error' }, 5);
    const rate = await row('system_error_rate');
    assert.deepEqual([rate.status, rate.value], ['NO_DATA', null]);
    assert.match(rate.detail, /fewer than 50 system_operations_total/);
  });

  it('takes the brief p95 over the last 5 minutes: old slow briefs age out', async () => {
    const { clock, metrics, evaluator, row } = setup();
    await evaluator.sample();
    for (let i = 0; i < 20; i++) metrics.llmBriefElapsedMs.observe({ mode: 'creative', model: 'llama' }, 6000);
    let latency = await row('llm_brief_latency_p95');
    assert.equal(latency.status, 'CRITICAL');
    assert.deepEqual(latency.labels, { mode: 'creative', model: 'llama' });
    // Ten minutes of fast briefs later, with the evaluator sampling as its timer would.
    for (let t = 0; t < 600; t += 5) {
      clock.now += 5_000;
      metrics.llmBriefElapsedMs.observe({ mode: 'creative', model: 'llama' }, 400);
      await evaluator.sample();
    }
    latency = await row('llm_brief_latency_p95');
    assert.equal(latency.status, 'OK');
    assert.ok(latency.value !== null && latency.value <= 500, `p95 ${latency.value} only sees the fast briefs`);
    assert.match(latency.detail, /over the last 30\d s/);
  });

  it('reads 0 violations (not NO_DATA) once compliance checks ran and found none', async () => {
    const { metrics, row } = setup();
    assert.equal((await row('ifra_violations_per_day')).status, 'NO_DATA');
    metrics.ifraChecksTotal.inc({ check_type: 'ingredient' });
    const violations = await row('ifra_violations_per_day');
    assert.deepEqual([violations.status, violations.value, violations.inNormalRange], ['OK', 0, true]);
  });

  it('counts IFRA violations per day', async () => {
    const { clock, metrics, evaluator, row } = setup();
    await evaluator.sample();
    metrics.ifraViolationsTotal.inc({ ingredient: 'oakmoss', violation_type: 'over_limit', source: 'served' }, 3);
    // Customers' own checks are counted apart and do not move the row.
    metrics.ifraViolationsTotal.inc({ ingredient: 'oakmoss', violation_type: 'over_limit', source: 'check' }, 50);
    let violations = await row('ifra_violations_per_day');
    assert.deepEqual([violations.status, violations.value], ['WARNING', 3]);
    metrics.ifraViolationsTotal.inc({ ingredient: 'lilial', violation_type: 'prohibited', source: 'served' }, 3);
    assert.equal((await row('ifra_violations_per_day')).status, 'CRITICAL');
    for (let h = 0; h < 25; h++) {
      clock.now += 3_600_000;
      await evaluator.sample();
    }
    violations = await row('ifra_violations_per_day');
    assert.deepEqual([violations.status, violations.value, violations.inNormalRange], ['OK', 0, true], 'a day later the window is clean');
  });

  it('reports the worst row as the overall status', async () => {
    const { metrics, evaluator } = setup();
    metrics.rlClipFrac.set({ algorithm: 'ppo', job_id: 'job-1' }, 0.1);
    metrics.workerVramBytes.set({ worker_id: 'g', model: 'qwen' }, 26e9);
    assert.equal((await evaluator.evaluate()).status, 'CRITICAL');
  });
});
