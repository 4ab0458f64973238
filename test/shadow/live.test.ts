import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Config } from '../../src/config/index.ts';
import { configHash, decodeCheckpoint, distill, encodeCheckpoint, FormulationEnv, greedy, policyNetwork, PpoTrainer, Random, TRAINING_BRIEFS, type LoadedPolicy, type Mlp } from '../../src/learning/index.ts';
import { localBrief, writePins, type Pins } from '../../src/llm/index.ts';
import { catalogue, readHistogram, readSamples } from '../../src/metrics/index.ts';
import { createApp, type App } from '../../src/server/index.ts';
import { ComparisonLog, runOffline } from '../../src/shadow/index.ts';
import { testConfig } from '../helpers/config.ts';
import { OPERATOR } from '../helpers/operator.ts';

const env = new FormulationEnv();
const briefs = TRAINING_BRIEFS.map(localBrief);
let base: Config;
const cids: Record<'production' | 'teacher' | 'student' | 'student2' | 'slow', string> = { production: '', teacher: '', student: '', student2: '', slow: '' };
const nets: Record<'production' | 'student', Mlp | undefined> = { production: undefined, student: undefined };
const apps: App[] = [];
/** The briefs the small production policy builds a formula for (it is briefly trained: some it leaves empty). */
let usable: typeof briefs = [];

async function store(app: App, net: Mlp, algorithm: 'ppo' | 'distilled'): Promise<string> {
  const response = await app.server.inject({
    method: 'POST',
    url: '/v1/hub/checkpoints',
    headers: { ...OPERATOR, 'content-type': 'application/octet-stream' },
    payload: Buffer.from(encodeCheckpoint(net, { algorithm, configHash: configHash({ hidden: net.sizes[1], head: Array.from(net.head) }), evaluationReturn: 0, world: env.world })),
  });
  assert.equal(response.statusCode, 201, response.body);
  return response.json().cid;
}

/** An app on the shared hub with production, teacher (or the slow one) and student pinned. */
async function appWith(extra: Record<string, string>, teacher: 'teacher' | 'slow' = 'teacher'): Promise<App & { pinsFile: string }> {
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
  return Object.assign(app, { pinsFile });
}

const post = (app: App, requestId: string) =>
  app.server.inject({ method: 'POST', url: '/v1/formulas', headers: { 'content-type': 'application/json', 'x-request-id': requestId }, payload: { brief: usable[Number(requestId.split('-').at(-1)) % usable.length] } });
const total = async (app: App, def: (typeof catalogue)[keyof typeof catalogue], labels: Record<string, string> = {}) =>
  (await readSamples(app.metrics.registry, def)).filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((a, s) => a + s.value, 0);

before(async () => {
  base = testConfig();
  const holder = createApp(base);
  await holder.server.ready();
  const trainer = new PpoTrainer({ env, briefs, seed: 5, hidden: 32 });
  trainer.train(320);
  const student = distill({ teacher: trainer.policy, env, briefs, seed: 5, episodesPerBrief: 4, epochs: 4 }).student;
  usable = briefs.filter((brief) => env.episode(env.prepare(brief), (state) => greedy(trainer.policy, state), new Random(1)).units.size > 0);
  assert.ok(usable.length >= 2, `${usable.length} usable briefs`);
  nets.production = trainer.policy;
  nets.student = student;
  cids.production = await store(holder, trainer.policy, 'ppo');
  cids.teacher = cids.production;
  cids.student = await store(holder, student, 'distilled');
  cids.student2 = await store(holder, distill({ teacher: trainer.policy, env, briefs, seed: 6, episodesPerBrief: 2, epochs: 2 }).student, 'distilled');
  // A deliberately slow teacher: 4,096 hidden units (1.1 M weights), 128 times the production policy's per step: its
  // comparison takes seconds, an answer milliseconds. (It had 16,384: each of the three tests below then waited out a
  // comparison of over ten seconds, for the same ordering.)
  cids.slow = await store(holder, policyNetwork(env, 4_096, new Random(3)), 'ppo');
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
      // Production and the teacher are the same checkpoint here, and every model goes through the same path (picks → composer): like for like.
      assert.equal(c.production.reward, c.teacher.reward);
      assert.equal(c.productionCosine.teacher, 1, 'the composed formulas are the same');
      assert.ok(c.klDivergence > 0 && c.cosineSimilarity >= 0 && c.cosineSimilarity <= 1);
      assert.ok(Math.abs(c.speedup - c.teacher.latencyMs / c.student.latencyMs) / c.speedup < 0.01);
      assert.ok(Number.isFinite(c.baseline) && c.baseline < c.teacher.reward + 25);
    }
    assert.equal(await total(app, catalogue.shadowComparisonsTotal, { stage: 'development', source: 'live' }), 6);
    const kl = await readHistogram(app.metrics.registry, catalogue.shadowKlDivergence);
    assert.equal(kl[0]!.count, 6);
    // Retention is what the student keeps of the teacher's lift over the composer alone.
    const retention = await total(app, catalogue.shadowRewardRetention, { source: 'live' });
    const expected = comparisons.reduce((a, c) => a + c.student.reward - c.baseline, 0) / comparisons.reduce((a, c) => a + c.teacher.reward - c.baseline, 0);
    assert.ok(Math.abs(retention - expected) < 1e-3, `${retention} vs ${expected}`);
    // rl_distill_kl is the window's mean KL, not the last comparison's.
    const distillKl = await readSamples(app.metrics.registry, catalogue.rlDistillKl);
    assert.deepEqual(distillKl.map((s) => s.labels), [{ teacher: 'teacher@1.0.0', student: 'student@1.0.0' }]);
    const meanKl = comparisons.reduce((a, c) => a + c.klDivergence, 0) / comparisons.length;
    assert.ok(Math.abs(distillKl[0]!.value - meanKl) < 1e-3, `${distillKl[0]!.value} vs mean ${meanKl}`);
    // Both models ran first at times (drawn per comparison), and each had been warmed up before being timed.
    assert.ok(comparisons.every((c) => c.first === 'teacher' || c.first === 'student'));
  });

  it('restarts the live window when a pin changes, and the old pair\'s rl_distill_kl series leaves', async () => {
    const app = await appWith({ SHADOW_STAGE: 'development' });
    for (let i = 0; i < 3; i++) assert.equal((await post(app, `pin-a-${i}`)).statusCode, 200);
    await app.shadow.runner.idle();
    const pins = JSON.parse((await import('node:fs')).readFileSync(app.pinsFile, 'utf8')) as Pins;
    await writePins(app.pinsFile, { ...pins, 'formulation-student': { version: '2.0.0', cid: cids.student2 } });
    await app.reloadPins();
    for (let i = 0; i < 2; i++) assert.equal((await post(app, `pin-b-${i}`)).statusCode, 200);
    await app.shadow.runner.idle();
    const after = (await app.shadow.log.readAll()).comparisons.filter((c) => c.student.cid === cids.student2);
    assert.equal(after.length, 2);
    const retention = await total(app, catalogue.shadowRewardRetention, { source: 'live' });
    // The gauge's rule: no teacher lift over the composer alone (a sum at or below 0) reads 0. The log's rewards are rounded to
    // 3 decimals, so a lift within rounding of 0 is not compared.
    const teacherLift = after.reduce((a, c) => a + c.teacher.reward - c.baseline, 0);
    const expected = teacherLift <= 0 ? 0 : after.reduce((a, c) => a + c.student.reward - c.baseline, 0) / teacherLift;
    if (Math.abs(teacherLift) > 0.01) assert.ok(Math.abs(retention - expected) < 1e-3, `the window holds only the new pair: ${retention} vs ${expected}`);
    // The mean KL holds only the new pair too, whatever the lifts.
    const distillKl = await readSamples(app.metrics.registry, catalogue.rlDistillKl);
    assert.deepEqual(distillKl.map((s) => s.labels), [{ teacher: 'teacher@1.0.0', student: 'student@2.0.0' }]);
    const meanKl = after.reduce((a, c) => a + c.klDivergence, 0) / after.length;
    assert.ok(Math.abs(distillKl[0]!.value - meanKl) < 1e-3, `the KL window holds only the new pair: ${distillKl[0]!.value} vs ${meanKl}`);
  });

  it('keeps offline runs apart: an offline run writes source="offline" and leaves the live gauges the alerts read as they were', async () => {
    const app = await appWith({ SHADOW_STAGE: 'production' });
    for (let i = 0; i < 3; i++) assert.equal((await post(app, `apart-${i}`)).statusCode, 200);
    const liveBefore = await readSamples(app.metrics.registry, catalogue.shadowRewardRetention);
    const loaded = (name: LoadedPolicy['name'], cid: string, net: Mlp): LoadedPolicy => ({ name, pin: { version: '1.0.0', cid }, net, meta: decodeCheckpoint(encodeCheckpoint(net, { algorithm: 'ppo', configHash: configHash({}), evaluationReturn: 0, world: env.world })).meta });
    const production = loaded('formulation-policy', cids.production, nets.production!);
    const teacher = loaded('formulation-teacher', cids.teacher, nets.production!);
    const student = loaded('formulation-student', cids.student, nets.student!);
    await runOffline({ models: { production, teacher, student }, env, briefs: usable, samples: usable.length, stage: 'production', log: new ComparisonLog(mkdtempSync(join(tmpdir(), 'fai-offline-'))), metrics: app.metrics });
    const after = await readSamples(app.metrics.registry, catalogue.shadowRewardRetention);
    assert.deepEqual(after.filter((s) => s.labels.source === 'live'), liveBefore.filter((s) => s.labels.source === 'live'));
    assert.ok(after.some((s) => s.labels.source === 'offline' && s.labels.stage === 'production'));
    assert.equal(await total(app, catalogue.shadowComparisonsTotal, { source: 'offline' }), usable.length);
    const distillKl = await readSamples(app.metrics.registry, catalogue.rlDistillKl);
    assert.ok(distillKl.length <= 1, 'an offline run writes no rl_distill_kl series');
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
