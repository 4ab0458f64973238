import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeCheckpoint, STUDENT_HIDDEN } from '../../src/learning/index.ts';
import { catalogue, readSamples } from '../../src/metrics/index.ts';
import { useTestApp } from '../helpers/app.ts';
import { OPERATOR } from '../helpers/operator.ts';

const app = useTestApp();

const submit = (payload: unknown) =>
  app().server.inject({ method: 'POST', url: '/v1/training/jobs', headers: { ...OPERATOR, 'content-type': 'application/json' }, payload: typeof payload === 'string' ? payload : JSON.stringify(payload) });
const job = async (id: string) => (await app().server.inject({ method: 'GET', url: `/v1/training/jobs/${id}` })).json();

describe('training jobs on the service (no REDIS_URL: a worker thread)', () => {
  it('answers 202 at once, trains off the event loop with rl_reward_ma and rl_clip_frac moving on /metrics, and stores the checkpoint in the hub', async () => {
    const started = performance.now();
    const response = await submit({ algo: 'ppo', episodes: 640, seed: 3, hidden: 32 });
    assert.equal(response.statusCode, 202, response.body);
    assert.ok(performance.now() - started < 1_000, 'the answer does not wait for training');
    const { id, state, runner } = response.json();
    assert.equal(runner, 'thread');
    assert.ok(['waiting', 'active'].includes(state));
    assert.equal(response.headers.location, `/v1/training/jobs/${id}`);

    // While the job trains, the service answers requests and its /metrics shows the training's values.
    const seenWhileActive = new Set<string>();
    let health = 0;
    let last = await job(id);
    while (last.state === 'waiting' || last.state === 'active') {
      if ((await app().server.inject({ method: 'GET', url: '/health' })).statusCode === 200) health++;
      if (last.state === 'active') {
        const ma = await readSamples(app().metrics.registry, catalogue.rlRewardMa);
        for (const sample of ma) seenWhileActive.add(`${sample.labels.algorithm}/${sample.labels.window}/${sample.labels.source}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
      last = await job(id);
    }
    assert.equal(last.state, 'completed', JSON.stringify(last));
    assert.ok(health > 5, `the service answered ${health} health checks while training`);
    assert.ok(seenWhileActive.has('ppo/100/training') && seenWhileActive.has('ppo/1000/training'), `rl_reward_ma seen while active: ${[...seenWhileActive].join(', ')}`);
    assert.equal(last.progress.episodes, last.summary.episodes);

    // After the job: what it reported left /metrics (a finished run must not keep an alert firing); its summary keeps the figures.
    assert.deepEqual((await readSamples(app().metrics.registry, catalogue.rlRewardMa)).filter((s) => s.labels.source === 'training'), []);
    assert.deepEqual(await readSamples(app().metrics.registry, catalogue.rlClipFrac), []);
    assert.ok(last.summary.lastClipFraction >= 0 && last.summary.lastClipFraction <= 1);
    assert.ok(Number.isFinite(last.summary.rewardMa100));
    // (The hybrid metrics take the same relay: test/learning/metric-relay.test.ts.)

    // The checkpoint is in the service's hub, CID verified on the way out, and decodes to the trained policy.
    const stored = await app().server.inject({ method: 'GET', url: `/v1/hub/objects/${last.checkpointCid}` });
    assert.equal(stored.statusCode, 200);
    const { meta } = decodeCheckpoint(new Uint8Array(stored.rawPayload));
    assert.equal(meta.algorithm, 'ppo');
    // A checkpoint's evaluation return is its held-out figure (what /health/policy shows).
    assert.equal(meta.evaluationReturn, last.summary.evaluation.heldOut.mean);

    const listed = (await app().server.inject({ method: 'GET', url: '/v1/training/jobs?limit=5' })).json();
    assert.equal(listed.jobs[0].id, id);
  });

  it('distils on the service: a PPO teacher, then a student; the KL is in the summary (rl_distill_kl is the live measure) and both checkpoints land in the hub', async () => {
    const response = await submit({ algo: 'distill', episodes: 64, seed: 3, hidden: 64 });
    assert.equal(response.statusCode, 202, response.body);
    let view = response.json();
    while (view.state === 'waiting' || view.state === 'active') {
      await new Promise((resolve) => setTimeout(resolve, 200));
      view = await job(view.id);
    }
    assert.equal(view.state, 'completed', JSON.stringify(view));
    const d = view.summary.distillation;
    assert.ok(d.klAfter < d.klBefore, `KL ${d.klBefore} → ${d.klAfter}`);
    assert.deepEqual([d.teacherHidden, d.studentHidden], [64, STUDENT_HIDDEN]);
    assert.deepEqual(await readSamples(app().metrics.registry, catalogue.rlDistillKl), [], 'rl_distill_kl has one meaning: the shadow evaluation of the pinned models');
    const algorithmOf = async (cid: string) => decodeCheckpoint(new Uint8Array((await app().server.inject({ method: 'GET', url: `/v1/hub/objects/${cid}` })).rawPayload)).meta;
    const student = await algorithmOf(view.checkpointCid);
    const teacher = await algorithmOf(view.teacherCheckpointCid);
    // A checkpoint's evaluationReturn is its held-out greedy return (never trained on), what /health/policy shows.
    assert.deepEqual([student.algorithm, student.shape[1], student.evaluationReturn], ['distilled', STUDENT_HIDDEN, view.summary.evaluation.student.heldOut.mean]);
    assert.deepEqual([teacher.algorithm, teacher.shape[1], teacher.evaluationReturn], ['ppo', 64, view.summary.evaluation.heldOut.mean]);
    assert.equal(d.teacherReturn, view.summary.evaluation.heldOut.mean);
  });

  it('names what is wrong with a bad job (400), an unknown job (404), and replaying feedback when the hub has none (400)', async () => {
    for (const payload of [{}, { algo: 'dqn', episodes: 10 }, { algo: 'ppo', episodes: -1 }, { algo: 'ppo', episodes: 1.5 }, { algo: 'ppo', episodes: 10, seed: 'x' }, { algo: 'ppo', episodes: 10, extra: 1 }, '{"algo": ', '[]']) {
      const response = await submit(payload);
      assert.equal(response.statusCode, 400, `${JSON.stringify(payload)} → ${response.body}`);
      assert.ok(response.json().error.message.length > 0);
    }
    const tooMany = await submit({ algo: 'ppo', episodes: 2_000_000 });
    assert.match(tooMany.json().error.message, /episodes/);
    const unknown = await app().server.inject({ method: 'GET', url: '/v1/training/jobs/no-such-job' });
    assert.equal(unknown.statusCode, 404);
    const noFeedback = await submit({ algo: 'ppo', episodes: 10, fromFeedback: true });
    assert.equal(noFeedback.statusCode, 400, noFeedback.body);
    assert.match(noFeedback.json().error.message, /no usable feedback/);
  });
});

describe('training does not drive production alerts', () => {
  it("a 1-episode job's poor average is training's, not the served policy's: LowRewardMA's row reads no data, before and after", async () => {
    const response = await submit({ algo: 'reinforce', episodes: 1, seed: 1 });
    assert.equal(response.statusCode, 202, response.body);
    let view = response.json();
    while (view.state === 'waiting' || view.state === 'active') {
      const row = (await app().thresholds.evaluate()).rows.find((r) => r.id === 'rl_reward_ma_100')!;
      assert.notEqual(row.status, 'CRITICAL', `while training: ${JSON.stringify(row)}`);
      assert.notEqual(row.status, 'WARNING', `while training: ${JSON.stringify(row)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
      view = await job(view.id);
    }
    assert.equal(view.state, 'completed', JSON.stringify(view));
    const row = (await app().thresholds.evaluate()).rows.find((r) => r.id === 'rl_reward_ma_100')!;
    assert.equal(row.status, 'NO_DATA', JSON.stringify(row));
  });
});
