import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Config } from '../../src/config/index.ts';
import { configHash, encodeCheckpoint, FormulationEnv, greedy, Mlp, PpoTrainer, Random, TRAINING_BRIEFS } from '../../src/learning/index.ts';
import { localBrief } from '../../src/llm/index.ts';
import { catalogue, readSamples } from '../../src/metrics/index.ts';
import { createApp, type App } from '../../src/server/index.ts';
import { testConfig } from '../helpers/config.ts';

const TEXT = '여름 바다 느낌, 상큼하고 가벼운 향. 바닐라는 싫어요';
let config: Config;
let policyCid: string;
let recipeCid: string;
let trained: Mlp;
let env: FormulationEnv;
const apps: App[] = [];

async function appWith(extra: Record<string, string>): Promise<App> {
  const app = createApp({ ...config, ...testConfig(extra), hubDir: config.hubDir });
  await app.server.ready();
  apps.push(app);
  return app;
}
const post = (app: App, payload: unknown) =>
  app.server.inject({ method: 'POST', url: '/v1/formulas', headers: { 'content-type': 'application/json' }, payload: typeof payload === 'string' ? payload : JSON.stringify(payload) });

before(async () => {
  env = new FormulationEnv();
  const trainer = new PpoTrainer({ env, briefs: TRAINING_BRIEFS.map(localBrief), seed: 5 });
  trainer.train(64);
  trained = trainer.policy;
  config = testConfig();
  const storing = createApp(config);
  await storing.server.ready();
  const bytes = encodeCheckpoint(trained, { algorithm: 'ppo', configHash: configHash({ seed: 5 }), evaluationReturn: trainer.evaluate() });
  const stored = await storing.server.inject({ method: 'POST', url: '/v1/hub/checkpoints', headers: { 'content-type': 'application/octet-stream' }, payload: Buffer.from(bytes) });
  assert.equal(stored.statusCode, 201, stored.body);
  policyCid = stored.json().cid;
  recipeCid = (await storing.server.inject({ method: 'POST', url: '/v1/hub/recipes', headers: { 'content-type': 'application/json' }, payload: '{"name":"x"}' })).json().cid;
  await storing.close();
});
after(async () => {
  for (const app of apps) await app.close();
});

describe('POST /v1/formulas', () => {
  it('answers 503 naming FORMULA_POLICY_CID when no production policy is set', async () => {
    const app = await appWith({});
    const response = await post(app, { text: TEXT });
    assert.equal(response.statusCode, 503);
    assert.match(response.json().error.message, /FORMULA_POLICY_CID/);
  });

  it('turns words into a formula with the pinned policy, its compliance result and reward breakdown', async () => {
    const app = await appWith({ FORMULA_POLICY_CID: policyCid });
    const response = await post(app, { text: TEXT });
    assert.equal(response.statusCode, 200, response.body);
    const body = response.json();
    assert.equal(body.policy.cid, policyCid);
    assert.equal(body.policy.algorithm, 'ppo');
    assert.ok(body.formula.length >= 1);
    const sum = body.formula.reduce((a: number, line: { concentrationPct: number }) => a + line.concentrationPct, 0);
    assert.ok(Math.abs(sum - 100) < 0.01, `concentrations sum to ${sum}`);
    assert.ok(['pass', 'warning', 'unknown', 'fail'].includes(body.compliance.verdict));
    // The served formula is the trained policy's greedy formula for that brief, scored by the environment's reward.
    const expected = env.episode(body.brief, (state) => greedy(trained, state), new Random(1));
    assert.deepEqual(body.reward, expected.reward);
    assert.deepEqual(body.formula.map((l: { cas: string }) => l.cas), [...expected.units.keys()].map((i) => env.palette[i]!.cas));
    // The compliance check ran through the service's checker (its metrics moved).
    const checks = await readSamples(app.metrics.registry, catalogue.ifraChecksTotal);
    assert.ok(checks.reduce((a, s) => a + s.value, 0) >= 1);
    // A structured brief gives the same formula as the words it came from; the same request, the same answer.
    const fromBrief = (await post(app, { brief: body.brief })).json();
    assert.deepEqual(fromBrief.formula, body.formula);
    assert.deepEqual((await post(app, { text: TEXT })).json().formula, body.formula);
  });

  it('names what is wrong with bad input (400), never a 500', async () => {
    const app = await appWith({ FORMULA_POLICY_CID: policyCid });
    for (const payload of [{}, { text: '' }, { text: 42 }, { brief: { productCategory: 'EDP' } }, { text: 'amber', brief: {} }, { text: 'amber', extra: 1 }, '{"text": ', '[]']) {
      const response = await post(app, payload);
      assert.equal(response.statusCode, 400, `${JSON.stringify(payload)} → ${response.body}`);
      assert.ok(response.json().error.message.length > 0);
    }
    const huge = await post(app, { text: 'x'.repeat(70_000) });
    assert.equal(huge.statusCode, 413);
  });

  it('answers 503 rather than an empty formula when the policy removes everything it adds', async () => {
    // A policy that always lowers material 0: its greedy episode ends with no material at all.
    const lowering = new Mlp([env.stateSize, 4, env.actions], new Random(1));
    for (const w of lowering.weights) w.fill(0);
    lowering.biases.at(-1)![env.palette.length] = 10;
    const holder = await appWith({});
    const stored = await holder.server.inject({
      method: 'POST',
      url: '/v1/hub/checkpoints',
      headers: { 'content-type': 'application/octet-stream' },
      payload: Buffer.from(encodeCheckpoint(lowering, { algorithm: 'ppo', configHash: configHash({}), evaluationReturn: 0 })),
    });
    const app = await appWith({ FORMULA_POLICY_CID: stored.json().cid });
    const response = await post(app, { text: TEXT });
    assert.equal(response.statusCode, 503, response.body);
    assert.match(response.json().error.message, /empty formula/);
  });

  it('answers 503 naming the CID when the configured policy is not a checkpoint or not in the hub', async () => {
    const notCheckpoint = await appWith({ FORMULA_POLICY_CID: recipeCid });
    const first = await post(notCheckpoint, { text: TEXT });
    assert.equal(first.statusCode, 503, first.body);
    assert.match(first.json().error.message, new RegExp(recipeCid));
    const missing = await appWith({ FORMULA_POLICY_CID: 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy' });
    assert.equal((await post(missing, { text: TEXT })).statusCode, 503);
  });
});
