import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Config } from '../../src/config/index.ts';
import { decodeCheckpoint } from '../../src/learning/index.ts';
import { catalogue, readSamples } from '../../src/metrics/index.ts';
import { createApp, type App } from '../../src/server/index.ts';
import { testConfig } from '../helpers/config.ts';
import { freePort, startFaiWorker, startRedis, waitFor, type FaiWorker, type RedisServer } from '../helpers/servers.ts';
import { OPERATOR } from '../helpers/operator.ts';
import { runFai } from '../helpers/cli.ts';

/** Training through a real Redis: the service queues on BullMQ, a `fai worker` process (bin/fai.js, as a user runs it) trains. */
let redis: RedisServer;
let config: Config;
const apps: App[] = [];
let worker: FaiWorker | undefined;

async function appOn(redisUrl: string): Promise<App> {
  const app = createApp({ ...config, ...testConfig({ REDIS_URL: redisUrl }), hubDir: config.hubDir });
  await app.server.ready();
  apps.push(app);
  return app;
}

let smiDir: string;

before(async () => {
  redis = await startRedis();
  config = testConfig({ REDIS_URL: redis.url });
  // No GPU here: a script answering like nvidia-smi, listing the worker's own pid ("$PPID"): the worker
  // still reports no GPU memory — worker_vram_bytes is the LLM servers', measured by the service.
  smiDir = await mkdtemp(join(tmpdir(), 'fai-worker-smi-'));
  const smi = join(smiDir, 'nvidia-smi');
  await writeFile(smi, '#!/bin/sh\n[ "$1" = "--query-compute-apps=pid,used_memory" ] || exit 9\necho "$PPID, 1536"\necho "1, 9999"\n');
  await chmod(smi, 0o755);
  worker = await startFaiWorker(redis.url, ['--progress-ms', '200'], { WORKER_ID: 'worker-a', NVIDIA_SMI: smi, GPU_POLL_SECONDS: '1' });
});
after(async () => {
  for (const app of apps) await app.close();
  await worker?.stop();
  await redis.stop();
  await rm(smiDir, { recursive: true, force: true });
});

describe('training jobs through BullMQ (REDIS_URL) and a fai worker process', () => {
  it('queues on the service, trains in the worker, relays rl_reward_ma to the service /metrics while it runs, and lands the checkpoint in the service hub', async () => {
    const app = await appOn(redis.url);
    const response = await app.server.inject({ method: 'POST', url: '/v1/training/jobs', headers: { ...OPERATOR, 'content-type': 'application/json' }, payload: { algo: 'ppo', episodes: 480, seed: 11, hidden: 16 } });
    assert.equal(response.statusCode, 202, response.body);
    const { id, runner } = response.json();
    assert.equal(runner, 'queue');
    const seen: number[] = [];
    let view = response.json();
    while (view.state === 'waiting' || view.state === 'active') {
      if (view.state === 'active') {
        const ma = (await readSamples(app.metrics.registry, catalogue.rlRewardMa)).find((s) => s.labels.algorithm === 'ppo' && s.labels.window === '100');
        if (ma !== undefined) seen.push(ma.value);
      }
      await new Promise((resolve) => setTimeout(resolve, 150));
      view = (await app.server.inject({ method: 'GET', url: `/v1/training/jobs/${id}` })).json();
    }
    assert.equal(view.state, 'completed', JSON.stringify(view));
    assert.ok(seen.length >= 2 && new Set(seen).size >= 2, `rl_reward_ma moved on the service while the worker trained: ${seen.slice(0, 10).join(', ')}`);
    assert.ok(worker!.output.join('').includes('training job done'), 'the worker process did the training');
    // The job ended: its series leave the service's /metrics (the completed event clears them).
    await waitFor('training series cleared', async () => (await readSamples(app.metrics.registry, catalogue.rlRewardMa)).every((s) => s.labels.source !== 'training'), 5_000);
    assert.deepEqual(await readSamples(app.metrics.registry, catalogue.rlClipFrac), []);
    assert.ok(Number.isFinite(view.summary.rewardMa100));

    const stored = await app.server.inject({ method: 'GET', url: `/v1/hub/objects/${view.checkpointCid}` });
    assert.equal(stored.statusCode, 200);
    assert.equal(decodeCheckpoint(new Uint8Array(stored.rawPayload)).meta.evaluationReturn, view.summary.evaluation.heldOut.mean);

    // The job outlives the service instance that queued it: a new instance on the same Redis reports it.
    await app.close();
    apps.splice(apps.indexOf(app), 1);
    const again = await appOn(redis.url);
    const later = (await again.server.inject({ method: 'GET', url: `/v1/training/jobs/${id}` })).json();
    assert.deepEqual([later.state, later.checkpointCid, later.summary.rewardMa100], ['completed', view.checkpointCid, view.summary.rewardMa100]);
  });

  it("the worker exposes its own series: its CPU and the jobs it ended as system_rps{service=\"worker\"}; no GPU memory (it does no GPU work)", async () => {
    const text = await (await fetch(worker!.metricsUrl)).text();
    assert.match(text, /^worker_cpu_percent\{worker_id="worker-a"\} [0-9.e+-]+$/m);
    // Even with an nvidia-smi listing its pid: worker_vram_bytes is the LLM servers' (the service reports it).
    assert.doesNotMatch(text, /^worker_vram_bytes\{/m);
    assert.match(text, /^system_requests_total\{service="worker"\} [1-9]\d*$/m, 'the job the first test ran');
    assert.match(text, /^system_rps\{service="worker"\} [0-9.e+-]+$/m);
    // The service's registry describes the service, not the worker.
    const apiText = await apps[0]!.metrics.registry.metrics();
    assert.doesNotMatch(apiText, /worker_id="worker-a"/);
  });

  it("the worker's /metrics validates its query as the service's does", async () => {
    const refused = await fetch(`${worker!.metricsUrl}?x=1`);
    assert.equal(refused.status, 400);
    assert.equal(((await refused.json()) as { error: { field: string } }).error.field, 'query');
  });

  it('fai worker exits (78, naming the port) when its metrics port is taken, instead of staying up without it', async () => {
    const taken = new URL(worker!.metricsUrl).port;
    const result = await runFai(['worker', '--metrics-port', taken], { REDIS_URL: redis.url });
    assert.equal(result.code, 78, result.stderr);
    assert.match(result.stderr, new RegExp(`--metrics-port ${taken}: cannot listen`));
  });

  it('answers 503 naming Redis when the queue does not answer, instead of hanging', async () => {
    const dead = `redis://127.0.0.1:${await freePort()}`;
    const app = await appOn(dead);
    const started = performance.now();
    const response = await app.server.inject({ method: 'POST', url: '/v1/training/jobs', headers: { ...OPERATOR, 'content-type': 'application/json' }, payload: { algo: 'ppo', episodes: 10, hidden: 16 } });
    assert.equal(response.statusCode, 503, response.body);
    // Names Redis, not its address: the answer carries no address of ours (the service log does).
    assert.match(response.json().error.message, /training queue \(Redis at <address>\) did not answer/);
    assert.doesNotMatch(response.body, /127\.0\.0\.1/);
    assert.ok(performance.now() - started < 8_000);
  });

  it('fai worker finishes on SIGTERM with exit code 0', async () => {
    const exited = new Promise<number | null>((resolve) => worker!.child.once('exit', resolve));
    worker!.child.kill('SIGTERM');
    assert.equal(await exited, 0, worker!.output.join(''));
  });
});
