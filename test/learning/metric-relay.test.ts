import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyMetricUpdates, FormulationEnv, HybridLoop, MetricRelay, PpoTrainer, TRAINING_BRIEFS } from '../../src/learning/index.ts';
import { clearTrainingSeries } from '../../src/learning/jobs.ts';
import { localBrief } from '../../src/llm/index.ts';
import { catalogue, createMetrics, readSamples } from '../../src/metrics/index.ts';

const values = async (metrics: ReturnType<typeof createMetrics>, def: (typeof catalogue)[keyof typeof catalogue]) =>
  Object.fromEntries((await readSamples(metrics.registry, def)).map((s) => [Object.values(s.labels).join('/'), s.value]));

describe('metric relay (training away from the service registry)', () => {
  it('gives the service registry exactly what training wrote into a registry of its own', async () => {
    // The same hybrid training twice: once writing the registry directly, once through a relay drained every batch.
    const run = (metrics: ConstructorParameters<typeof PpoTrainer>[0]['metrics'], onProgress?: () => void) => {
      const env = new FormulationEnv();
      const briefs = TRAINING_BRIEFS.slice(0, 3).map(localBrief);
      const ppo = new PpoTrainer({ env, briefs, seed: 7, hidden: 16, ...(metrics === undefined ? {} : { metrics }) });
      const loop = new HybridLoop({ ppo, env, briefs, seed: 7, ...(metrics === undefined ? {} : { metrics }), plateauEpisodes: 64, plateauGain: 1_000, explorationGenerations: 2, population: 12 });
      loop.train(192, onProgress);
      return loop.switches.length;
    };
    const direct = createMetrics({ defaultMetrics: false });
    const switches = run(direct);
    assert.ok(switches >= 2);

    const relay = new MetricRelay();
    const service = createMetrics({ defaultMetrics: false });
    let drains = 0;
    run(relay, () => {
      drains++;
      applyMetricUpdates(service, relay.drain());
    });
    applyMetricUpdates(service, relay.drain());
    assert.ok(drains > 2);
    for (const def of [catalogue.rlRewardMa, catalogue.rlClipFrac, catalogue.hybridSwitchTotal, catalogue.hybridSwitchRatio]) {
      assert.deepEqual(await values(service, def), await values(direct, def), def.name);
    }
    const total = Object.values(await values(service, catalogue.hybridSwitchTotal)).reduce((a, b) => a + b, 0);
    assert.equal(total, switches, 'each switch counted once');
  });

  it('coalesces: the last value of a gauge, the sum of a counter, per series', () => {
    const relay = new MetricRelay();
    for (let i = 0; i < 1000; i++) relay.rlRewardMa.set({ algorithm: 'ppo', window: '100', source: 'training', job_id: 'local' }, i);
    relay.hybridSwitchTotal.inc({ from_mode: 'exploitation', to_mode: 'exploration' });
    relay.hybridSwitchTotal.inc({ from_mode: 'exploitation', to_mode: 'exploration' }, 2);
    assert.deepEqual(relay.drain(), [
      { op: 'set', metric: 'rlRewardMa', labels: { algorithm: 'ppo', window: '100', source: 'training', job_id: 'local' }, value: 999 },
      { op: 'inc', metric: 'hybridSwitchTotal', labels: { from_mode: 'exploitation', to_mode: 'exploration' }, value: 3 },
    ]);
    assert.deepEqual(relay.drain(), []);
  });

  it('skips updates that are not valid (they may come from another machine) and applies the rest', async () => {
    const service = createMetrics({ defaultMetrics: false });
    const result = applyMetricUpdates(service, [
      { op: 'set', metric: 'rlClipFrac', labels: { algorithm: 'ppo', job_id: 'local' }, value: 0.12 },
      { op: 'set', metric: 'systemErrorsTotal', labels: {}, value: 5 },
      { op: 'inc', metric: 'hybridSwitchTotal', labels: { from_mode: 'a', to_mode: 'b' }, value: -1 },
      { op: 'set', metric: 'rlClipFrac', labels: { algorithm: 'ppo', job_id: 'local' }, value: 'NaN' },
      { op: 'set', metric: 'rlClipFrac', labels: { wrong: 'x' }, value: 0.3 },
      'junk',
    ]);
    assert.deepEqual(result, { applied: 1, rejected: 5 });
    assert.deepEqual(await values(service, catalogue.rlClipFrac), { 'ppo/local': 0.12 });
    assert.deepEqual(applyMetricUpdates(service, 'not a list'), { applied: 0, rejected: 0 });
  });

  it('keeps each job\'s series apart (job_id): two jobs at once never overwrite each other, and each clears only its own when it ends', async () => {
    const service = createMetrics({ defaultMetrics: false });
    const relayOf = (ma: number, clip: number) => {
      const relay = new MetricRelay();
      relay.rlRewardMa.set({ algorithm: 'ppo', window: '100', source: 'training', job_id: 'local' }, ma);
      relay.rlClipFrac.set({ algorithm: 'ppo', job_id: 'local' }, clip);
      relay.hybridSwitchRatio.set({ mode: 'exploration', job_id: 'local' }, 0.2);
      return relay.drain();
    };
    applyMetricUpdates(service, relayOf(12, 0.1), 'job-a');
    applyMetricUpdates(service, relayOf(19, 0.5), 'job-b');
    assert.deepEqual(await values(service, catalogue.rlClipFrac), { 'ppo/job-a': 0.1, 'ppo/job-b': 0.5 });
    clearTrainingSeries(service, 'job-a');
    assert.deepEqual(await values(service, catalogue.rlClipFrac), { 'ppo/job-b': 0.5 });
    assert.deepEqual(await values(service, catalogue.rlRewardMa), { 'ppo/100/training/job-b': 19 });
    assert.deepEqual(await values(service, catalogue.hybridSwitchRatio), { 'exploration/job-b': 0.2 });
  });
});
