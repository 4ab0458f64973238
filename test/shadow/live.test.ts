import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Config } from '../../src/config/index.ts';
import { configHash, distill, encodeCheckpoint, FormulationEnv, greedy, Mlp, PpoTrainer, Random, TRAINING_BRIEFS } from '../../src/learning/index.ts';
import { localBrief, writePins, type Pins } from '../../src/llm/index.ts';
import { catalogue, readHistogram, readSamples } from '../../src/metrics/index.ts';
import { createApp, type App } from '../../src/server/index.ts';
import { testConfig } from '../helpers/config.ts';
import { OPERATOR } from '../helpers/operator.ts';

const env = new FormulationEnv();
const briefs = TRAINING_BRIEFS.map(localBrief);
let base: Config;
const cids: Record<'production' | 'teacher' | 'student' | 'slow', string> = { production: '', teacher: '', student: '', slow: '' };
const apps: App[] = [];
/** The briefs the small production policy builds a formula for (it is briefly trained: some it leaves empty). */
let usable: typeof briefs = [];

async function store(app: App, net: Mlp, algorithm: 'ppo' | 'distilled'): Promise<string> {
  const response = await app.server.inject({
    method: 'POST',
    url: '/v1/hub/checkpoints',
    headers: { ...OPERATOR, 'content-type': 'application/octet-stream' },
    payload: Buffer.from(encodeCheckpoint(net, { algorithm, configHash: configHash({ hidden: net.sizes[1] }), evaluationReturn: 0 })),
  });
  assert.equal(response.statusCode, 201, response.body);
  return response.json().cid;
}

/** An app on the shared hub with production, teacher (or the slow one) and student pinned. */
async function appWith(extra: Record<string, string>, teacher: 'teacher' | 'slow' = 'teacher'): Promise<App> {
  const pinsFile = join(mkdtempSync(join(tmpdir(), 'fai-shadow-pins-')), 'model_pins.json');
  const pins: Pins = {
    'formulation-policy': { version: '1.0.0', cid: cids.production },
    'formulation-teacher': { version: '1.0.0', cid: cids[teacher] },
    'formulation-student': { version: '1.0.0', cid: cids.student },
  };
  await writePins(pinsFile, pins);
  const config = testConfig({ SHADOW_DIR: mkdtempSync(join(tmpdir(), 'fai-shadow-log-')), ...extra });
  const app = createApp({ ...config, hubDir: base.hubDir, pinsFile });
  await app.server.ready();
  await app.reloadPins();
  apps.push(app);
  return app;
}

const post = (app: App, requestId: string) =>
  app.server.inject({ method: 'POST', url: '/v1/formulas', headers: { 'content-type': 'application/json', 'x-request-id': requestId }, payload: { brief: usable[Number(requestId.split('-').at(-1)) % usable.length] } });
const total = async (app: App, def: (typeof catalogue)[keyof typeof catalogue], labels: Record<string, string> = {}) =>
  (await readSamples(app.metrics.registry, def)).filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((a, s) => a + s.value, 0);

before(async () => {
  base = testConfig();
  const holder = createApp(base);
  await holder.server.ready();
  const trainer = new PpoTrainer({ env, briefs, seed: 5 });
  trainer.train(320);
  const student = distill({ teacher: trainer.policy, env, briefs, seed: 5, episodesPerBrief: 4, epochs: 4 }).student;
  usable = briefs.filter((brief) => env.episode(brief, (state) => greedy(trainer.policy, state), new Random(1)).units.size > 0);
  assert.ok(usable.length >= 2, `${usable.length} usable briefs`);
  cids.production = await store(holder, trainer.policy, 'ppo');
  cids.teacher = cids.production;
  cids.student = await store(holder, student, 'distilled');
  // A deliberately slow teacher: 4096 hidden units, ~60× the work of the production policy per step.
  cids.slow = await store(holder, new Mlp([env.stateSize, 4096, env.actions], new Random(3)), 'ppo');
  await holder.close();
});
after(async () => {
  for (const app of apps) await app.close();
});

describe('live shadow evaluation on POST /v1/formulas', () => {
  it('records a comparison per sampled request (development: all), with latencies, rewards, KL, cosine and speedup, and moves the metrics', async () => {
    const app = await appWith({ SHADOW_STAGE: 'development' });
    for (let i = 0; i < 6; i++) {
      const response = await post(app, `live-${i}`);
      assert.equal(response.statusCode, 200, response.body);
    }
    await app.shadow.runner.idle();
    const { comparisons, skipped } = await app.shadow.log.readAll();
    assert.equal(skipped, 0);
    assert.equal(comparisons.length, 6);
    for (const c of comparisons) {
      assert.equal(c.stage, 'development');
      assert.ok(c.production.latencyMs > 0 && c.teacher.latencyMs > 0 && c.student.latencyMs > 0);
      assert.equal(c.production.cid, cids.production);
      assert.equal(c.teacher.cid, cids.teacher);
      // Production and teacher are the same checkpoint here: production serves the teacher's picks refined by the search, which never lowers the reward.
      assert.ok(c.production.reward >= c.teacher.reward, `${c.production.reward} < ${c.teacher.reward}`);
      assert.ok(c.productionCosine.teacher > 0.5, `production ↔ teacher cosine ${c.productionCosine.teacher}`);
      assert.ok(c.klDivergence > 0 && c.cosineSimilarity >= 0 && c.cosineSimilarity <= 1);
      assert.ok(Math.abs(c.speedup - c.teacher.latencyMs / c.student.latencyMs) / c.speedup < 0.01);
    }
    assert.equal(await total(app, catalogue.shadowComparisonsTotal, { stage: 'development' }), 6);
    const kl = await readHistogram(app.metrics.registry, catalogue.shadowKlDivergence);
    assert.equal(kl[0]!.count, 6);
    const retention = await total(app, catalogue.shadowRewardRetention);
    const expected = comparisons.reduce((a, c) => a + c.student.reward, 0) / comparisons.reduce((a, c) => a + c.teacher.reward, 0);
    assert.ok(Math.abs(retention - expected) < 1e-3, `${retention} vs ${expected}`);
    const distillKl = await readSamples(app.metrics.registry, catalogue.rlDistillKl);
    assert.deepEqual(distillKl.map((s) => s.labels), [{ teacher: 'teacher@1.0.0', student: 'student@1.0.0' }]);
  });

  it('answers before a slow shadow model finishes: the customer never waits for shadow work', async () => {
    const app = await appWith({ SHADOW_STAGE: 'development', SHADOW_TIMEOUT_MS: '60000' }, 'slow');
    // The first comparison loads the models into the thread; a warm-up keeps that out of the measurement.
    await post(app, 'warm-0');
    await app.shadow.runner.idle();
    const started = performance.now();
    const response = await post(app, 'slow-1');
    const answeredMs = performance.now() - started;
    assert.equal(response.statusCode, 200);
    assert.equal(app.shadow.runner.pending, 1, 'the comparison is still running when the answer is out');
    await app.shadow.runner.idle();
    const last = (await app.shadow.log.readAll()).comparisons.at(-1)!;
    assert.ok(last.teacher.latencyMs > answeredMs, `teacher ${last.teacher.latencyMs} ms, answer ${answeredMs.toFixed(1)} ms`);
  });

  it('sheds when the queue is full (counted) and production answers every request', async () => {
    const app = await appWith({ SHADOW_STAGE: 'development', SHADOW_QUEUE: '1', SHADOW_TIMEOUT_MS: '60000' }, 'slow');
    const responses = await Promise.all(Array.from({ length: 8 }, (_, i) => post(app, `burst-${i}`)));
    for (const r of responses) assert.equal(r.statusCode, 200, r.body);
    const shed = await total(app, catalogue.shadowDroppedTotal, { reason: 'queue_full' });
    assert.ok(shed >= 5, `shed ${shed}; comparisons so far ${(await app.shadow.log.readAll()).comparisons.map((c) => c.teacher.latencyMs).join(", ")}`);
    await app.shadow.runner.idle();
    const recorded = (await app.shadow.log.readAll()).comparisons.length;
    assert.equal(recorded + shed, 8, 'every sampled request is either compared or counted as shed');
  });

  it('drops a comparison whose model overruns its time limit, and keeps comparing afterwards', async () => {
    const app = await appWith({ SHADOW_STAGE: 'development', SHADOW_TIMEOUT_MS: '15' }, 'slow');
    await post(app, 'timeout-1');
    await app.shadow.runner.idle();
    assert.ok((await total(app, catalogue.shadowDroppedTotal, { reason: 'timeout' })) >= 1);
  });

  it('samples nothing while the teacher or the student is not pinned', async () => {
    const pinsFile = join(mkdtempSync(join(tmpdir(), 'fai-shadow-pins-')), 'model_pins.json');
    await writePins(pinsFile, { 'formulation-policy': { version: '1.0.0', cid: cids.production } });
    const app = createApp({ ...testConfig({ SHADOW_STAGE: 'development', SHADOW_DIR: mkdtempSync(join(tmpdir(), 'fai-shadow-log-')) }), hubDir: base.hubDir, pinsFile });
    apps.push(app);
    await app.server.ready();
    await app.reloadPins();
    assert.equal((await post(app, 'off-1')).statusCode, 200);
    assert.equal(app.shadow.runner.pending, 0);
    assert.equal(await total(app, catalogue.shadowDroppedTotal), 0);
  });
});
