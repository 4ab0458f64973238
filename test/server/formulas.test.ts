import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Config } from '../../src/config/index.ts';
import { configHash, encodeCheckpoint, FormulationEnv, greedy, Mlp, policyNetwork, PpoTrainer, Random, SERVED_MA_MIN_FORMULAS, TRAINING_BRIEFS } from '../../src/learning/index.ts';
import { localBrief, POLICY_PIN, writePins, type PolicyPin } from '../../src/llm/index.ts';
import { catalogue, readSamples } from '../../src/metrics/index.ts';
import { createApp, type App } from '../../src/server/index.ts';
import { testConfig } from '../helpers/config.ts';
import { OPERATOR } from '../helpers/operator.ts';

const TEXT = '여름 바다 느낌, 상큼하고 가벼운 향. 바닐라는 싫어요';
let config: Config;
let policyCid: string;
let recipeCid: string;
let trained: Mlp;
let env: FormulationEnv;
const apps: App[] = [];

/** An app on the shared hub whose pins file pins `policy` (or no policy). */
async function appWith(policy?: PolicyPin): Promise<App> {
  const pinsFile = join(mkdtempSync(join(tmpdir(), 'fai-pins-')), 'model_pins.json');
  await writePins(pinsFile, { qwen: '2.5.1', ...(policy === undefined ? {} : { [POLICY_PIN]: policy }) });
  const app = createApp({ ...config, pinsFile });
  await app.server.ready();
  await app.reloadPins();
  apps.push(app);
  return app;
}
const post = (app: App, payload: unknown) =>
  app.server.inject({ method: 'POST', url: '/v1/formulas', headers: { 'content-type': 'application/json' }, payload: typeof payload === 'string' ? payload : JSON.stringify(payload) });

before(async () => {
  env = new FormulationEnv();
  const trainer = new PpoTrainer({ env, briefs: TRAINING_BRIEFS.map(localBrief), seed: 5, hidden: 32 });
  trainer.train(64);
  trained = trainer.policy;
  config = testConfig();
  const storing = createApp(config);
  await storing.server.ready();
  const bytes = encodeCheckpoint(trained, { algorithm: 'ppo', configHash: configHash({ seed: 5 }), evaluationReturn: trainer.evaluate(), world: env.world });
  const stored = await storing.server.inject({ method: 'POST', url: '/v1/hub/checkpoints', headers: { ...OPERATOR, 'content-type': 'application/octet-stream' }, payload: Buffer.from(bytes) });
  assert.equal(stored.statusCode, 201, stored.body);
  policyCid = stored.json().cid;
  recipeCid = (await storing.server.inject({ method: 'POST', url: '/v1/hub/recipes', headers: { ...OPERATOR, 'content-type': 'application/json' }, payload: '{"name":"x"}' })).json().cid;
  await storing.close();
});
after(async () => {
  for (const app of apps) await app.close();
});

describe('POST /v1/formulas', () => {
  it('answers 503 naming the formulation-policy pin when no production policy is pinned', async () => {
    const app = await appWith();
    const response = await post(app, { text: TEXT });
    assert.equal(response.statusCode, 503);
    assert.match(response.json().error.message, /formulation-policy/);
    const health = await app.server.inject({ method: 'GET', url: '/health/policy' });
    assert.equal(health.statusCode, 200);
    assert.equal(health.json().status, 'not_pinned');
  });

  it('turns words into a formula with the pinned policy, its compliance result and reward breakdown', async () => {
    const app = await appWith({ version: '1.0.0', cid: policyCid });
    const response = await post(app, { text: TEXT });
    assert.equal(response.statusCode, 200, response.body);
    const body = response.json();
    assert.equal(body.policy.cid, policyCid);
    assert.equal(body.policy.version, '1.0.0');
    assert.equal(body.policy.algorithm, 'ppo');
    assert.ok(body.formula.length >= 1);
    const sum = body.formula.reduce((a: number, line: { concentrationPct: number }) => a + line.concentrationPct, 0);
    assert.ok(Math.abs(sum - 100) < 0.01, `concentrations sum to ${sum}`);
    assert.ok(['pass', 'warning', 'unknown', 'fail'].includes(body.compliance.verdict));
    // The served formula is the trained policy's greedy picks, repaired by the composer, scored by the environment's reward.
    const context = env.prepare(body.brief);
    const episode = env.episode(context, (state) => greedy(trained, state), new Random(1));
    assert.deepEqual(body.reward, episode.reward);
    assert.deepEqual(body.formula.map((l: { cas: string }) => l.cas).sort(), episode.composition.lines.map((l) => env.palette[l.index]!.cas).sort());
    // Its character, read as a perfumer would: the on-character share, the named notes smelled, what the policy picked.
    const reading = env.character(context, episode.composition);
    assert.equal(body.character.hasCharacter, reading.hasCharacter);
    assert.equal(body.character.onCharacterPct, reading.onCharacterPct);
    const picked = episode.composition.lines.filter((l) => !l.added).reduce((a, l) => a + l.pct, 0);
    assert.ok(Math.abs(body.character.policySharePct - picked) < 0.01);
    for (const line of body.formula) assert.ok(line.role === null || ['asked', 'note', 'neighbour', 'blender'].includes(line.role));
    // The formula sheet: what a perfumer reads, and the certificate's maximum dosage beside the verdict.
    assert.ok(body.formula.length >= 6);
    for (const line of body.formula) {
      assert.ok(['top', 'heart', 'base'].includes(line.notePosition));
      assert.equal(line.productPct, Math.round(line.concentrationPct * body.sheet.dosagePct * 100) / 1e4);
      assert.ok(['policy', 'composer'].includes(line.source));
    }
    assert.ok(['pass', 'warning'].includes(body.compliance.verdict), body.compliance.verdict);
    // The sheet's label says which naturals carry each allergen, as the check counted it.
    const materials = new Set(body.formula.map((l: { material: string }) => l.material));
    for (const allergen of body.sheet.allergensToDeclare as Array<{ labelName: string; carriedBy: Array<{ material: string; productPct: number; basis: string }> }>) {
      const found = body.compliance.allergens.declare.find((a: { labelName: string }) => a.labelName === allergen.labelName);
      assert.deepEqual(allergen.carriedBy.map((c) => c.material), found.contributions.map((c: { material: string }) => c.material));
      for (const c of allergen.carriedBy) assert.ok(materials.has(c.material) && c.productPct > 0 && c.basis.endsWith(`of ${c.material}`), c.basis);
    }
    assert.equal(body.ifraMaxDosage.category, body.compliance.category);
    assert.ok(body.ifraMaxDosage.maxDosagePct === null || body.ifraMaxDosage.maxDosagePct >= body.sheet.dosagePct);
    assert.ok(body.elapsedMs > 0);
    // The compliance check ran through the service's checker (its metrics moved).
    const checks = await readSamples(app.metrics.registry, catalogue.ifraChecksTotal);
    assert.ok(checks.reduce((a, s) => a + s.value, 0) >= 1);
    // A structured brief gives the same formula as the words it came from; the same request, the same answer.
    const fromBrief = (await post(app, { brief: body.brief })).json();
    assert.deepEqual(fromBrief.formula, body.formula);
    assert.deepEqual((await post(app, { text: TEXT })).json().formula, body.formula);
    // The served rewards are what rl_reward_ma{source="served"} (and so LowRewardMA) reads — published once SERVED_MA_MIN_FORMULAS are served, all of this reward here.
    const before = (await readSamples(app.metrics.registry, catalogue.rlRewardMa)).filter((s) => s.labels.source === 'served');
    assert.deepEqual(before, [], `3 formulas are too few for an average (${SERVED_MA_MIN_FORMULAS} needed)`);
    for (let i = 3; i < SERVED_MA_MIN_FORMULAS; i++) await post(app, { brief: body.brief });
    const served = (await readSamples(app.metrics.registry, catalogue.rlRewardMa)).filter((s) => s.labels.source === 'served');
    assert.deepEqual(served.map((s) => [s.labels.algorithm, s.labels.window]).sort(), [['ppo', '100'], ['ppo', '1000']]);
    for (const series of served) assert.ok(Math.abs(series.value - body.reward.total) < 1e-9, `${series.value} vs ${body.reward.total}`);
    // The served recipe is in the hub under the CID the answer gives: customers' feedback names it.
    const recipe = await app.server.inject({ method: 'GET', url: `/v1/hub/objects/${body.recipeCid}` });
    assert.equal(recipe.statusCode, 200, recipe.body);
    assert.deepEqual(recipe.json().data.formula, body.formula.map(({ material, cas, concentrationPct }: { material: string; cas: string; concentrationPct: number }) => ({ material, cas, concentrationPct })));
    assert.deepEqual(recipe.json().data.policy, { version: '1.0.0', cid: policyCid });
  });

  it('serves a new pin from the next request after the pins are reloaded (pin-update, rollback, SIGHUP)', async () => {
    const holder = await appWith();
    const lowering = policyNetwork(env, 4, new Random(2));
    const otherCid = (
      await holder.server.inject({
        method: 'POST',
        url: '/v1/hub/checkpoints',
        headers: { ...OPERATOR, 'content-type': 'application/octet-stream' },
        payload: Buffer.from(encodeCheckpoint(lowering, { algorithm: 'reinforce', configHash: configHash({ other: true }), evaluationReturn: 1, world: env.world })),
      })
    ).json().cid;
    const pinsFile = join(mkdtempSync(join(tmpdir(), 'fai-pins-')), 'model_pins.json');
    await writePins(pinsFile, { [POLICY_PIN]: { version: '1.0.0', cid: policyCid } });
    const app = createApp({ ...config, pinsFile });
    apps.push(app);
    await app.server.ready();
    await app.reloadPins();
    assert.equal((await post(app, { text: TEXT })).json().policy.cid, policyCid);
    await writePins(pinsFile, { [POLICY_PIN]: { version: '1.1.0', cid: otherCid } });
    await app.reloadPins();
    const health = (await app.server.inject({ method: 'GET', url: '/health/policy' })).json();
    assert.deepEqual([health.status, health.version, health.cid, health.algorithm], ['loaded', '1.1.0', otherCid, 'reinforce']);
    const served = await post(app, { text: TEXT });
    if (served.statusCode === 200) assert.equal(served.json().policy.version, '1.1.0');
    else assert.match(served.json().error.message, /1\.1\.0/);
  });

  it('names what is wrong with bad input (400), never a 500', async () => {
    const app = await appWith({ version: '1.0.0', cid: policyCid });
    for (const payload of [{}, { text: '' }, { text: 42 }, { brief: { productCategory: 'EDP' } }, { text: 'amber', brief: {} }, { text: 'amber', extra: 1 }, '{"text": ', '[]', { text: 'amber', dosagePct: 0 }, { text: 'amber', dosagePct: -1 }, { text: 'amber', dosagePct: 101 }, { text: 'amber', dosagePct: 'ten' }]) {
      const response = await post(app, payload);
      assert.equal(response.statusCode, 400, `${JSON.stringify(payload)} → ${response.body}`);
      assert.ok(response.json().error.message.length > 0);
    }
    const huge = await post(app, { text: 'x'.repeat(70_000) });
    assert.equal(huge.statusCode, 413);
  });

  it('answers an acceptable formula even from a degenerate policy that only ever picks a refused material', async () => {
    // The brief refuses vanilla; a policy that always picks Vanillin picks nothing at all: the composer builds the formula.
    const vanillin = env.palette.findIndex((m) => m.name === 'Vanillin');
    const stubborn = policyNetwork(env, 4, new Random(1));
    for (const w of stubborn.weights) w.fill(0);
    stubborn.biases.at(-1)![vanillin] = 10;
    const holder = await appWith();
    const stored = await holder.server.inject({
      method: 'POST',
      url: '/v1/hub/checkpoints',
      headers: { ...OPERATOR, 'content-type': 'application/octet-stream' },
      payload: Buffer.from(encodeCheckpoint(stubborn, { algorithm: 'ppo', configHash: configHash({}), evaluationReturn: 0, world: env.world })),
    });
    const app = await appWith({ version: '0.0.1', cid: stored.json().cid });
    const response = await post(app, { text: TEXT });
    assert.equal(response.statusCode, 200, response.body);
    const body = response.json();
    assert.ok(body.brief.forbiddenIngredients.includes('vanilla'));
    assert.ok(!body.formula.some((l: { material: string }) => l.material === 'Vanillin'));
    assert.ok(body.formula.length >= 6);
  });

  it('serves the shipped models on a fresh hub: the repository\'s pins, nothing trained', async () => {
    const fresh = createApp({ ...testConfig({ PORT: '0' }), pinsFile: 'configs/model_pins.json' });
    apps.push(fresh);
    await fresh.listen();
    const response = await post(fresh, { text: 'a fresh green tea scent for summer, no musk' });
    assert.equal(response.statusCode, 200, response.body);
    const body = response.json();
    const pins = JSON.parse(readFileSync('configs/model_pins.json', 'utf8'));
    assert.equal(body.policy.cid, pins['formulation-policy'].cid);
    // "green tea": no single material carries it; its accord does, and the sheet says which.
    assert.deepEqual(body.sheet.unavailableNotes, []);
    assert.equal(body.sheet.accords.find((a: { note: string }) => a.note === 'green tea')?.accord, 'green tea accord');
    assert.ok(!body.formula.some((l: { odorFamily: string }) => l.odorFamily === 'musky'));
    for (const name of ['formulation-teacher', 'formulation-student']) {
      const health = (await fresh.server.inject({ method: 'GET', url: `/health/policy?pin=${name}` })).json();
      assert.equal(health.status, 'loaded', JSON.stringify(health));
    }
  });

  it('doses a body lotion at its usual dosage, checks and certifies it there, and takes a requested dosage instead', async () => {
    const app = await appWith({ version: '1.0.0', cid: policyCid });
    const lotion = (await post(app, { text: 'a soft lavender body lotion for the evening' })).json();
    assert.equal(lotion.brief.productCategory, 'BODY_LOTION');
    assert.deepEqual([lotion.sheet.dosagePct, lotion.sheet.dosage.source, lotion.sheet.category], [1, 'product', '5A']);
    assert.deepEqual([lotion.compliance.dosagePct, lotion.ifraMaxDosage.dosagePct], [1, 1]);
    for (const line of lotion.formula) assert.equal(line.productPct, Math.round(line.concentrationPct * 100) / 1e4);
    const asked = (await post(app, { text: 'a soft lavender body lotion for the evening', dosagePct: 0.5 })).json();
    assert.deepEqual([asked.sheet.dosagePct, asked.sheet.dosage.source, asked.compliance.dosagePct], [0.5, 'request', 0.5]);
    const edp = (await post(app, { text: 'a soft lavender eau de parfum' })).json();
    assert.deepEqual([edp.sheet.dosagePct, edp.sheet.category], [15, '4']);
  });

  it('refuses a checkpoint made for another world (here: a palette in another order), naming what changed', async () => {
    const holder = await appWith();
    const stale = encodeCheckpoint(policyNetwork(env, 4, new Random(3)), { algorithm: 'ppo', configHash: configHash({ stale: true }), evaluationReturn: 1, world: { ...env.world, palette: '0123456789abcdef' } });
    const cid = (await holder.server.inject({ method: 'POST', url: '/v1/hub/checkpoints', headers: { ...OPERATOR, 'content-type': 'application/octet-stream' }, payload: Buffer.from(stale) })).json().cid;
    const app = await appWith({ version: '9.9.9', cid });
    const response = await post(app, { text: TEXT });
    assert.equal(response.statusCode, 503, response.body);
    assert.match(response.json().error.message, /another world: the palette/);
  });

  it('answers 503 naming the CID when the pinned policy is not a checkpoint or not in the hub; /health/policy says so', async () => {
    const notCheckpoint = await appWith({ version: '1.0.0', cid: recipeCid });
    const first = await post(notCheckpoint, { text: TEXT });
    assert.equal(first.statusCode, 503, first.body);
    assert.match(first.json().error.message, new RegExp(recipeCid));
    const health = await notCheckpoint.server.inject({ method: 'GET', url: '/health/policy' });
    assert.equal(health.statusCode, 503);
    assert.equal(health.json().status, 'unavailable');
    const missing = await appWith({ version: '1.0.0', cid: 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy' });
    assert.equal((await post(missing, { text: TEXT })).statusCode, 503);
  });
});
