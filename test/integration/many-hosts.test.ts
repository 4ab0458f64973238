import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { NextToLast } from 'blockstore-fs/sharding';
import { loadConfig } from '../../src/config/index.ts';
import { Redis } from 'ioredis';
import { openHub, parseCid, redisReady } from '../../src/hub/index.ts';
import { runFai } from '../helpers/cli.ts';
import { OPERATOR } from '../helpers/operator.ts';
import { startFaiService, startFaiWorker, startRedis, startS3, waitFor, type FaiService, type FaiWorker, type RedisServer, type S3Server } from '../helpers/servers.ts';

/**
 * Many hosts, one service (issue 25): three `fai serve` processes and two `fai worker` processes, each
 * with its own empty HUB_DIR as separate hosts would have, sharing one Redis (records, pins, modes,
 * the queue) and one S3-compatible server (s3rver: the blocks). Every step is done through one
 * process and checked through the others.
 */
let redis: RedisServer;
let s3: S3Server;
const dirs: string[] = [];
let services: FaiService[] = [];
let workers: FaiWorker[] = [];
const hubDir = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fai-host-'));
  dirs.push(dir);
  return dir;
};
let shared: Record<string, string>;
const MiB = 1024 * 1024;

async function startAll(): Promise<void> {
  services = [];
  for (const name of ['a', 'b', 'c']) services.push(await startFaiService({ ...shared, HUB_DIR: await hubDir(), WORKER_ID: `api-${name}` }));
  workers = [];
  for (const name of ['w1', 'w2']) workers.push(await startFaiWorker(redis.url, [], { ...shared, HUB_DIR: await hubDir(), WORKER_ID: name, LOG_LEVEL: 'info' }));
}
async function stopAll(): Promise<void> {
  await Promise.all([...services.map((s) => s.kill()), ...workers.map((w) => w.stop())]);
}

before(async () => {
  redis = await startRedis({ persistent: true });
  s3 = await startS3();
  // gc's grace is short here so the test can see it collect; a crashed store's lease (6 s) still applies.
  shared = { ...s3.env, REDIS_URL: redis.url, HUB_GC_GRACE_SECONDS: '2', LOG_LEVEL: 'warn' };
  await startAll();
});
after(async () => {
  await stopAll();
  await s3?.stop();
  await redis?.stop();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const A = () => services[0]!;
const B = () => services[1]!;
const C = () => services[2]!;

async function storeRecipe(on: FaiService, recipe: object): Promise<string> {
  const response = await fetch(`${on.url}/v1/hub/recipes`, { method: 'POST', headers: { ...OPERATOR, 'content-type': 'application/json' }, body: JSON.stringify(recipe) });
  assert.equal(response.status, 201, await response.clone().text());
  return ((await response.json()) as { cid: string }).cid;
}
async function storeCheckpoint(on: FaiService, bytes: Uint8Array): Promise<string> {
  const response = await fetch(`${on.url}/v1/hub/checkpoints`, { method: 'POST', headers: { ...OPERATOR, 'content-type': 'application/octet-stream' }, body: bytes });
  assert.equal(response.status, 201, await response.clone().text());
  return ((await response.json()) as { cid: string }).cid;
}
async function restoreJson(on: FaiService, cid: string): Promise<unknown> {
  const response = await fetch(`${on.url}/v1/hub/objects/${cid}`);
  assert.equal(response.status, 200, `${on.url} ${cid}: ${await response.clone().text()}`);
  return ((await response.json()) as { data: unknown }).data;
}
async function restoreBytes(on: FaiService, cid: string): Promise<Uint8Array> {
  const response = await fetch(`${on.url}/v1/hub/objects/${cid}`, { headers: { accept: 'application/octet-stream' } });
  assert.equal(response.status, 200, `${on.url} ${cid}: ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}
/** A worker's view of the hub: its configuration (own empty HUB_DIR, the shared store and Redis), opened as `fai worker` opens it. */
async function workerHub() {
  // The SDK's standard chain reads the keys from the environment, as in `fai worker`.
  process.env.AWS_ACCESS_KEY_ID = shared.AWS_ACCESS_KEY_ID;
  process.env.AWS_SECRET_ACCESS_KEY = shared.AWS_SECRET_ACCESS_KEY;
  const opened = openHub(loadConfig({ ...shared, HUB_DIR: await hubDir() }));
  await redisReady(opened.redis!, 5_000);
  return opened;
}

const recipes = Array.from({ length: 200 }, (_, i) => ({ name: `many-hosts ${i}`, formula: [{ material: 'Hedione', concentrationPct: 10 + (i % 50) }, { material: 'Iso E Super', concentrationPct: 5 }], note: randomBytes(8).toString('hex') }));
const stored: { recipes: string[]; checkpoints: Array<{ cid: string; sha: string }> } = { recipes: [], checkpoints: [] };

describe('three service instances and two workers, one Redis and one S3 server', () => {
  it('stores 200 recipes, 20 checkpoints of 5 MiB and one of 50 MiB through A; B, C and a worker read each back byte-identical', async () => {
    for (let i = 0; i < recipes.length; i += 20) stored.recipes.push(...(await Promise.all(recipes.slice(i, i + 20).map((r) => storeRecipe(A(), r)))));
    const contents = [...Array.from({ length: 20 }, () => randomBytes(5 * MiB)), randomBytes(50 * MiB)];
    for (const bytes of contents) stored.checkpoints.push({ cid: await storeCheckpoint(A(), bytes), sha: sha(bytes) });
    for (const reader of [B(), C()]) {
      for (let i = 0; i < recipes.length; i += 25) {
        const values = await Promise.all(stored.recipes.slice(i, i + 25).map((cid) => restoreJson(reader, cid)));
        values.forEach((value, j) => assert.deepEqual(value, recipes[i + j]));
      }
      for (const { cid, sha: expected } of stored.checkpoints) assert.equal(sha(await restoreBytes(reader, cid)), expected, `${reader.url} ${cid}`);
    }
    const worker = await workerHub();
    try {
      for (const { cid, sha: expected } of stored.checkpoints) assert.equal(sha((await worker.hub.retrieve(cid)).bytes!), expected);
      assert.deepEqual((await worker.hub.retrieve(stored.recipes[7]!)).value, recipes[7]);
    } finally {
      await worker.close();
    }
  });

  it('restores everything after every HUB_DIR is deleted and every process restarted', async () => {
    await stopAll();
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
    await startAll();
    const values = await Promise.all(stored.recipes.map((cid, i) => restoreJson(services[i % 3]!, cid)));
    values.forEach((value, i) => assert.deepEqual(value, recipes[i]));
    for (const [i, { cid, sha: expected }] of stored.checkpoints.entries()) assert.equal(sha(await restoreBytes(services[i % 3]!, cid)), expected);
  });

  it('kill -9 of A mid-upload (50 MiB): no record, B unaffected, and gc removes the orphan blocks after the grace, sparing the live ones', async () => {
    const before = ((await (await fetch(`${B().url}/v1/hub/objects?type=checkpoint&limit=1000`)).json()) as { objects: unknown[] }).objects.length;
    // 50 MiB sent slowly (1 MiB every 30 ms): A has written some blocks when it is killed.
    const chunks = Array.from({ length: 50 }, () => randomBytes(MiB));
    let sent = 0;
    const body = Readable.from(
      (async function* () {
        for (const chunk of chunks) {
          sent++;
          yield chunk;
          await new Promise((resolve) => setTimeout(resolve, 30));
        }
      })(),
    );
    const upload = fetch(`${A().url}/v1/hub/checkpoints`, { method: 'POST', headers: { ...OPERATOR, 'content-type': 'application/octet-stream' }, body: Readable.toWeb(body) as ReadableStream, duplex: 'half' } as RequestInit).catch((error: unknown) => error);
    await waitFor('A has taken part of the upload', async () => sent >= 15, 10_000);
    await A().kill();
    assert.ok((await upload) instanceof Error, 'the upload was cut, never acknowledged');
    const after = ((await (await fetch(`${B().url}/v1/hub/objects?type=checkpoint&limit=1000`)).json()) as { objects: unknown[] }).objects.length;
    assert.equal(after, before, 'no record for the cut upload');
    assert.equal((await fetch(`${B().url}/health`)).status, 200);
    assert.equal(sha(await restoreBytes(B(), stored.checkpoints[0]!.cid)), stored.checkpoints[0]!.sha);
    // The orphans are younger than the grace (and A's store lease): spared now, removed once both have passed.
    const first = (await (await fetch(`${B().url}/v1/hub/gc`, { method: 'POST', headers: OPERATOR })).json()) as { removed: number; spared: number };
    assert.equal(first.removed, 0);
    assert.ok(first.spared > 0, JSON.stringify(first));
    let collected: { removed: number; spared: number; kept: number } | undefined;
    await waitFor('gc removes the orphans', async () => {
      collected = (await (await fetch(`${C().url}/v1/hub/gc`, { method: 'POST', headers: OPERATOR })).json()) as { removed: number; spared: number; kept: number };
      return collected.removed > 0 && collected.spared === 0;
    }, 20_000);
    assert.ok(collected!.kept >= stored.recipes.length + stored.checkpoints.length, JSON.stringify(collected));
    for (const { cid, sha: expected } of stored.checkpoints.slice(-2)) assert.equal(sha(await restoreBytes(B(), cid)), expected, 'live blocks spared');
    await A().restart();
  });

  it('one gc at a time across the instances: while one runs (its lock in Redis), every instance answers 409; three at once run one by one', async () => {
    const client = new Redis(redis.url);
    try {
      await client.set('fai:hub:gc-lock', 'a gc on another host', 'PX', 30_000);
      for (const service of services) {
        const refused = await fetch(`${service.url}/v1/hub/gc`, { method: 'POST', headers: OPERATOR });
        assert.equal(refused.status, 409);
        assert.match(((await refused.json()) as { error: { message: string } }).error.message, /another gc is running/);
      }
      await client.del('fai:hub:gc-lock');
    } finally {
      client.disconnect();
    }
    const answers = await Promise.all(services.map((s) => fetch(`${s.url}/v1/hub/gc`, { method: 'POST', headers: OPERATOR }).then((r) => r.status)));
    assert.ok(answers.includes(200), answers.join(', '));
    assert.ok(answers.every((status) => status === 200 || status === 409), answers.join(', '));
  });

  it('kill -9 of the S3 server: stores and restores answer 503 within 2 s, /health says so; after its restart no acknowledged object is lost', async () => {
    await s3.kill();
    try {
      for (const service of services) {
        let started = performance.now();
        const restore = await fetch(`${service.url}/v1/hub/objects/${stored.checkpoints[1]!.cid}`);
        assert.equal(restore.status, 503);
        assert.ok(performance.now() - started < 2_000, `restore answered after ${Math.round(performance.now() - started)} ms`);
        started = performance.now();
        const store = await fetch(`${service.url}/v1/hub/recipes`, { method: 'POST', headers: { ...OPERATOR, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'during the outage' }) });
        assert.equal(store.status, 503);
        assert.equal(((await store.json()) as { error: { code: string } }).error.code, 'FAI_ERR_UNAVAILABLE');
        assert.ok(performance.now() - started < 2_000, `store answered after ${Math.round(performance.now() - started)} ms`);
        const health = await fetch(`${service.url}/health`);
        assert.equal(health.status, 503);
        assert.match(JSON.stringify(await health.json()), /shared block store .* is unavailable/);
        assert.match(await (await fetch(`${service.url}/metrics`)).text(), /^ipfs_cid_errors_total\{error_type="unavailable"\} [1-9]/m, 'the failed restore counted by kind');
      }
    } finally {
      await s3.restart();
    }
    const values = await Promise.all(stored.recipes.map((cid) => restoreJson(C(), cid)));
    values.forEach((value, i) => assert.deepEqual(value, recipes[i]));
    for (const { cid, sha: expected } of stored.checkpoints) assert.equal(sha(await restoreBytes(A(), cid)), expected);
  });

  it('a deleted block is a 404 missing_block on every instance, a corrupted one FAI_ERR_INTEGRITY', async () => {
    const client = new S3Client({ endpoint: s3.endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }, requestChecksumCalculation: 'WHEN_REQUIRED' });
    const key = (cid: string) => {
      const { dir, file } = new NextToLast().encode(parseCid(cid));
      return `blocks/${dir}/${file}`;
    };
    try {
      await client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: key(stored.recipes[10]!) }));
      await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key(stored.recipes[11]!), Body: Buffer.from('{"tampered":true}') }));
      for (const service of services) {
        const missing = await fetch(`${service.url}/v1/hub/objects/${stored.recipes[10]}`);
        assert.equal(missing.status, 404);
        assert.match(JSON.stringify(await missing.json()), /not in this hub/);
        const corrupt = await fetch(`${service.url}/v1/hub/objects/${stored.recipes[11]}`);
        assert.equal(((await corrupt.json()) as { error: { code: string } }).error.code, 'FAI_ERR_INTEGRITY');
      }
    } finally {
      client.destroy();
    }
  });

  it('strict regulation mode set through B holds on A and C within 2 s', async () => {
    assert.equal((await fetch(`${B().url}/v1/compliance/strict`, { method: 'PUT', headers: OPERATOR })).status, 200);
    for (const service of [A(), C()]) await waitFor(`strict mode on ${service.url}`, async () => ((await (await fetch(`${service.url}/v1/compliance/strict`)).json()) as { forced: boolean }).forced, 2_000);
    assert.equal((await fetch(`${B().url}/v1/compliance/strict`, { method: 'DELETE', headers: OPERATOR })).status, 200);
  });

  it('a policy a worker trained (stored by the worker in the shared store) is pinned once and served by all three within 2 s, with no signal', async () => {
    const submitted = await fetch(`${C().url}/v1/training/jobs`, { method: 'POST', headers: { ...OPERATOR, 'content-type': 'application/json' }, body: JSON.stringify({ algo: 'ppo', episodes: 120, seed: 5, hidden: 8 }) });
    assert.equal(submitted.status, 202, await submitted.clone().text());
    const { id } = (await submitted.json()) as { id: string };
    let job: { state: string; checkpointCid?: string } = { state: 'waiting' };
    await waitFor('the training job done', async () => {
      job = (await (await fetch(`${A().url}/v1/training/jobs/${id}`)).json()) as typeof job;
      return job.state === 'completed' || job.state === 'failed';
    }, 120_000);
    assert.equal(job.state, 'completed', JSON.stringify(job));
    const trainedBy = workers.filter((w) => w.output.join('').includes('training job done'));
    assert.equal(trainedBy.length, 1, 'one worker trained it');
    assert.match(trainedBy[0]!.output.join(''), /the shared block store/);
    const cid = job.checkpointCid!;
    const deployment = join(await hubDir(), 'deployment.json');
    await writeFile(deployment, JSON.stringify({ stateDir: join(await hubDir(), 'runbooks'), service: A().url, redisUrl: redis.url, pinsFile: join(process.cwd(), 'configs', 'model_pins.json') }));
    // Customers keep asking B for formulas while the pin changes: no request is dropped or failed.
    const statuses: number[] = [];
    let asking = true;
    const customers = (async () => {
      while (asking) statuses.push((await fetch(`${B().url}/v1/formulas`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'a soft musk for evenings' }) })).status);
    })();
    const pinned = await runFai(['runbook', 'pin-update', '--model', 'formulation-policy', '--version', '9.9.9', '--cid', cid], { FAI_DEPLOYMENT: deployment });
    assert.equal(pinned.code, 0, pinned.stderr + pinned.stdout);
    assert.match(pinned.stdout + pinned.stderr, /Redis fai:pins: formulation-policy .* → 9\.9\.9/);
    const started = performance.now();
    for (const service of services) {
      await waitFor(`${service.url} serves the worker's policy`, async () => {
        const body = (await (await fetch(`${service.url}/health/policy`)).json()) as { status: string; cid?: string };
        return body.status === 'loaded' && body.cid === cid;
      }, 2_000);
    }
    assert.ok(performance.now() - started < 2_000 * services.length);
    asking = false;
    await customers;
    assert.ok(statuses.length >= 5, `${statuses.length} requests during the change`);
    assert.deepEqual([...new Set(statuses)], [200], 'every request during the pin change answered');
    for (const service of services) {
      const formula = await fetch(`${service.url}/v1/formulas`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'a fresh citrus cologne' }) });
      assert.equal(formula.status, 200, await formula.clone().text());
      assert.match(JSON.stringify(await formula.json()), new RegExp(cid));
    }
  });
});
