import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { FaiError } from '../../src/errors/index.ts';
import { parseDeployment, runNamed, type Deployment } from '../../src/runbooks/index.ts';
import { startRedis, type RedisServer } from '../helpers/servers.ts';

let redis: RedisServer;
let client: Redis;
let state: string;
let deployment: Deployment;

before(async () => {
  redis = await startRedis();
  client = new Redis(redis.url);
  state = await mkdtemp(join(tmpdir(), 'fai-clear-cache-'));
  deployment = parseDeployment({ stateDir: state, service: 'http://127.0.0.1:9', prometheus: null, redisUrl: redis.url, cachePrefix: 'fai:cache:', pinsFile: join(state, 'pins.json'), nginx: null, instances: null }, state);
  const pipeline = client.pipeline();
  for (let i = 0; i < 2500; i++) pipeline.set(`fai:cache:brief:${i}`, 'x');
  for (let i = 0; i < 40; i++) pipeline.hset(`fai:hub:object:cid${i}`, 'cid', `cid${i}`);
  pipeline.set('fai:cachex:not-the-cache', 'keep');
  pipeline.set('unrelated', 'keep');
  await pipeline.exec();
});
after(async () => {
  client.disconnect();
  await redis.stop();
  await rm(state, { recursive: true, force: true });
});

describe('clear-cache against a real Redis', () => {
  it('plans the deletion and stops there without --yes', async () => {
    await assert.rejects(runNamed(deployment, 'clear-cache', {}, {}), (e: unknown) => e instanceof FaiError && e.code === 'FAI_ERR_CONFIRMATION_REQUIRED');
    assert.equal(await client.dbsize(), 2542, 'nothing deleted');
    const dry = await runNamed(deployment, 'clear-cache', {}, { dryRun: true });
    assert.deepEqual(dry.plan, ['delete 2500 key(s) matching fai:cache:*; keep the other 42']);
  });

  it('deletes the cache keyspace with --yes and keeps metadata and every other key', async () => {
    const result = await runNamed(deployment, 'clear-cache', {}, { yes: true });
    assert.equal(result.outcome, 'verified');
    assert.equal((await client.keys('fai:cache:*')).length, 0);
    assert.equal((await client.keys('fai:hub:object:*')).length, 40, 'hub metadata kept');
    assert.equal(await client.get('fai:cachex:not-the-cache'), 'keep', 'a look-alike prefix kept');
    assert.equal(await client.get('unrelated'), 'keep');
  });
});
