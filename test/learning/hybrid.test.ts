import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FormulationEnv, HybridLoop, PpoTrainer, Random, TRAINING_BRIEFS } from '../../src/learning/index.ts';
import { localBrief } from '../../src/llm/index.ts';
import { catalogue, createMetrics, readSamples } from '../../src/metrics/index.ts';

describe('hybrid loop (exploitation by PPO, exploration by evolutionary search)', () => {
  it('switches on a reward plateau, searches, improves on the policy, and moves both hybrid metrics', async () => {
    const env = new FormulationEnv();
    const briefs = TRAINING_BRIEFS.slice(0, 3).map(localBrief);
    const metrics = createMetrics({ defaultMetrics: false });
    const ppo = new PpoTrainer({ env, briefs, seed: 7, metrics });
    // A plateau bound no learner meets: the loop must switch at the second check.
    const loop = new HybridLoop({ ppo, env, briefs, seed: 7, metrics, plateauEpisodes: 64, plateauGain: 1_000, explorationGenerations: 2, population: 12 });
    const policyBefore = briefs.map((b) => env.episode(b, (s) => ppo.act(s, new Random(1), true), new Random(1)).reward.total);
    loop.train(192);
    assert.ok(loop.switches.length >= 2, JSON.stringify(loop.switches));
    assert.deepEqual(loop.switches.slice(0, 2).map((s) => `${s.from}→${s.to}`), ['exploitation→exploration', 'exploration→exploitation']);
    for (const [index, elite] of loop.elites) assert.ok(elite.reward >= policyBefore[index]!, `search kept or beat the policy for brief ${index}`);
    const totals = Object.fromEntries((await readSamples(metrics.registry, catalogue.hybridSwitchTotal)).map((s) => [`${s.labels.from_mode}→${s.labels.to_mode}`, s.value]));
    assert.ok(totals['exploitation→exploration']! >= 1 && totals['exploration→exploitation']! >= 1);
    const ratio = Object.fromEntries((await readSamples(metrics.registry, catalogue.hybridSwitchRatio)).map((s) => [s.labels.mode, s.value]));
    assert.ok(ratio.exploration! > 0 && ratio.exploitation! > 0);
    assert.ok(Math.abs(ratio.exploration! + ratio.exploitation! - 1) < 1e-9);
  });

  it('stays in exploitation while the reward keeps rising', () => {
    const env = new FormulationEnv();
    const briefs = TRAINING_BRIEFS.slice(0, 2).map(localBrief);
    const loop = new HybridLoop({ ppo: new PpoTrainer({ env, briefs, seed: 7 }), env, briefs, seed: 7, plateauEpisodes: 64, plateauGain: -1_000 });
    loop.train(128);
    assert.deepEqual(loop.switches, []);
  });
});
