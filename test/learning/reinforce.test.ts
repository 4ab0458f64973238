import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FormulationEnv, ReinforceTrainer, ReturnAverages, TRAINING_BRIEFS } from '../../src/learning/index.ts';
import { localBrief } from '../../src/llm/index.ts';
import { catalogue, createMetrics, readSamples } from '../../src/metrics/index.ts';

describe('REINFORCE with a baseline', () => {
  it('raises the mean return within 800 episodes (seed 7), and feeds rl_reward_ma for both windows', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const trainer = new ReinforceTrainer({ env: new FormulationEnv(), briefs: TRAINING_BRIEFS.slice(0, 4).map(localBrief), seed: 7, metrics });
    const first = trainer.train(100).ma100;
    const last = trainer.train(700).ma100;
    assert.ok(last > first + 3, `MA100 ${first.toFixed(2)} → ${last.toFixed(2)}`);
    const ma = Object.fromEntries((await readSamples(metrics.registry, catalogue.rlRewardMa)).map((s) => [s.labels.window, s.value]));
    assert.equal(ma['100'], trainer.averages.ma100);
    assert.equal(ma['1000'], trainer.averages.ma1000);
  });

  it('gives the same result for the same seed', () => {
    const run = () => new ReinforceTrainer({ env: new FormulationEnv(), briefs: [localBrief('woody sandalwood and cedar')], seed: 3 }).train(32).ma100;
    assert.equal(run(), run());
  });
});

describe('ReturnAverages', () => {
  it('averages the last 100 and 1000 returns', () => {
    const averages = new ReturnAverages();
    for (let i = 1; i <= 1500; i++) averages.push(i);
    assert.equal(averages.ma100, (1401 + 1500) / 2);
    assert.equal(averages.ma1000, (501 + 1500) / 2);
    for (let i = 1501; i <= 2600; i++) averages.push(i);
    assert.equal(averages.count, 2600, 'counts every episode, past the kept window');
    assert.equal(averages.ma100, (2501 + 2600) / 2);
  });
});
