import assert from 'node:assert/strict';
import { mkdtemp, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { NextToLast } from 'blockstore-fs/sharding';
import { BlockStore, CloudHub, connectRedis, encodeJsonBlock, RedisMetadataStore } from '../../src/hub/index.ts';
import { catalogue, createMetrics, readHistogram } from '../../src/metrics/index.ts';
import { FaiError } from '../../src/errors/index.ts';
import { startRedis, waitFor, type RedisServer } from '../helpers/servers.ts';

let redis: RedisServer;
let dir: string;
before(async () => {
  redis = await startRedis({ persistent: true });
  dir = await mkdtemp(join(tmpdir(), 'fai-hub-redis-'));
});
after(async () => {
  await redis.stop();
  await rm(dir, { recursive: true, force: true });
});

function hubWith(ttlSeconds = { feedback: 30 * 86_400, checkpoint: 90 * 86_400, recipe: 365 * 86_400, shadow: 90 * 86_400 }) {
  const metrics = createMetrics({ defaultMetrics: false });
  const client = connectRedis(redis.url);
  const hub = new CloudHub({ blocks: new BlockStore(join(dir, 'blocks')), metadata: new RedisMetadataStore(client, metrics), metrics, ttlSeconds, gcGraceMs: 0 });
  return { hub, metrics, client };
}

describe('Cloud Hub metadata in a real Redis', () => {
  it('writes records as hashes with EXPIRE, lists through the index, and times HSET/HGET/EXPIRE', async () => {
    const { hub, metrics, client } = hubWith();
    await waitFor('redis connection', async () => client.status === 'ready');
    const record = await hub.storeJson('recipe', { name: 'Amber evening' }, ['winter']);
    assert.deepEqual(await client.hget(`fai:hub:object:${record.cid}`, 'data_type'), 'recipe');
    const ttl = await client.ttl(`fai:hub:object:${record.cid}`);
    assert.ok(ttl > 364 * 86_400 && ttl <= 365 * 86_400, `ttl ${ttl}`);
    assert.deepEqual((await hub.list('recipe')).map((r) => r.cid), [record.cid]);
    assert.deepEqual((await hub.retrieve(record.cid)).value, { name: 'Amber evening' });
    await hub.pin(record.cid);
    assert.equal(await client.ttl(`fai:hub:object:${record.cid}`), -1, 'a pinned record has no expiry');
    const operations = (await readHistogram(metrics.registry, catalogue.redisMetadataLatencySeconds)).map((s) => s.labels.operation).sort();
    assert.deepEqual(operations, ['expire', 'hget', 'hset']);
    client.disconnect();
  });

  it('loses no pin to a store of the same content racing it: 0 of 150 pins lost, none with an expiry (one Lua script per change)', async () => {
    const { hub, client } = hubWith();
    // A second service instance on the same Redis, its own connection: the pins come through it.
    const { hub: instance, client: instanceClient } = hubWith();
    await waitFor('redis connection', async () => client.status === 'ready' && instanceClient.status === 'ready');
    const recipes = Array.from({ length: 150 }, (_, i) => ({ name: `race ${i}`, formula: [{ material: 'Hedione', concentrationPct: i / 10 }] }));
    const first = await Promise.all(recipes.map((r) => hub.storeJson('recipe', r, ['first'])));
    const answered = await Promise.all(first.map(async (record, i) => {
      // The pin lands anywhere in the store's course: before its read, between its read and its write, after.
      const [, pinned] = await Promise.all([hub.storeJson('recipe', recipes[i], [`again-${i}`]), new Promise((resolve) => setTimeout(resolve, (i % 12) / 2)).then(() => instance.pin(record.cid))]);
      return pinned;
    }));
    assert.ok(answered.every((r) => r.pinned));
    let lost = 0;
    for (const record of first) {
      const [pinned, ttl] = [await client.hget(`fai:hub:object:${record.cid}`, 'pinned'), await client.ttl(`fai:hub:object:${record.cid}`)];
      if (pinned !== '1' || ttl !== -1) lost++;
    }
    assert.equal(lost, 0, 'pins lost (answered pinned: true, stored unpinned or with an expiry)');
    const one = await hub.get(first[7]!.cid);
    assert.deepEqual([...one.tags].sort(), ['again-7', 'first'], 'the tags of both stores');
    client.disconnect();
    instanceClient.disconnect();
  });

  it('expires a record when its TTL passes, and drops it from the index', async () => {
    const { hub, client } = hubWith({ feedback: 1, checkpoint: 1, recipe: 1, shadow: 1 });
    await waitFor('redis connection', async () => client.status === 'ready');
    const record = await hub.storeJson('feedback', { rating: 3, text: 'short-lived' });
    assert.equal((await hub.list('feedback')).length >= 1, true);
    await waitFor('expiry', async () => (await client.exists(`fai:hub:object:${record.cid}`)) === 0, 5_000);
    assert.ok(!(await hub.list('feedback')).some((r) => r.cid === record.cid));
    assert.equal(await client.zscore('fai:hub:index:feedback', record.cid), null, 'index member removed');
    client.disconnect();
  });

  it('reports Redis down as unavailable, keeps acknowledged writes across a crash and restart', async () => {
    const { hub, client } = hubWith();
    await waitFor('redis connection', async () => client.status === 'ready');
    const acknowledged = await hub.storeJson('recipe', { name: 'acknowledged before the crash' });
    await redis.kill();
    await waitFor('client notices', async () => client.status !== 'ready');
    await assert.rejects(hub.storeJson('recipe', { name: 'during the outage' }), (e: unknown) => e instanceof FaiError && e.code === 'FAI_ERR_UNAVAILABLE');
    await assert.rejects(hub.retrieve(acknowledged.cid), (e: unknown) => e instanceof FaiError && e.code === 'FAI_ERR_UNAVAILABLE');
    await redis.restart();
    await waitFor('reconnect', async () => client.status === 'ready', 15_000);
    assert.deepEqual((await hub.retrieve(acknowledged.cid)).value, { name: 'acknowledged before the crash' });
    // The write refused during the outage left its block without a record: gc removes it, keeps the rest.
    const { cid: orphan } = await encodeJsonBlock({ name: 'during the outage' });
    const blocks = new BlockStore(join(dir, 'blocks'));
    assert.equal(await blocks.has(orphan), true, 'block written first');
    // gc spares a block written within the last second (a store in flight); this one is an hour old.
    const { dir: shard, file } = new NextToLast().encode(orphan);
    const anHourAgo = new Date(Date.now() - 3_600_000);
    await utimes(join(dir, 'blocks', shard, file), anHourAgo, anHourAgo);
    const { removed } = await hub.gc();
    assert.ok(removed >= 1);
    assert.equal(await blocks.has(orphan), false, 'the orphan is collected');
    assert.deepEqual((await hub.retrieve(acknowledged.cid)).value, { name: 'acknowledged before the crash' });
    await blocks.close();
    client.disconnect();
  });
});

describe('a stalled Redis (SIGSTOP)', () => {
  it('answers a hub request with 503 within the command timeout, not after the stall, and serves again when Redis resumes', async () => {
    const { hub, client } = hubWith();
    await waitFor('redis connection', async () => client.status === 'ready');
    const acknowledged = await hub.storeJson('recipe', { name: 'before the stall' });
    redis.signal('SIGSTOP');
    try {
      for (const attempt of [() => hub.retrieve(acknowledged.cid), () => hub.storeJson('recipe', { name: 'during the stall' })]) {
        const started = performance.now();
        await assert.rejects(attempt(), (e: unknown) => e instanceof FaiError && e.code === 'FAI_ERR_UNAVAILABLE' && /timed out/i.test(e.message));
        const elapsed = performance.now() - started;
        assert.ok(elapsed < 2_500, `answered in ${Math.round(elapsed)} ms`);
      }
    } finally {
      redis.signal('SIGCONT');
    }
    await waitFor('redis answers again', async () => (await hub.retrieve(acknowledged.cid).then(() => true, () => false)), 10_000);
    assert.deepEqual((await hub.retrieve(acknowledged.cid)).value, { name: 'before the stall' });
    client.disconnect();
  });
});

describe('Redis hub indexes, pruned fully', () => {
  it('walks 1,234 index members in pages (500 per round trip, existence pipelined), yields the live ones, and removes every expired member', async () => {
    const { client } = hubWith();
    await waitFor('redis connection', async () => client.status === 'ready');
    const store = new RedisMetadataStore(client);
    const index = 'fai:hub:index:feedback';
    await client.del(index);
    const pipeline = client.pipeline();
    // Many share a score (created in the same millisecond): the pages must not skip or repeat them.
    for (let i = 0; i < 1_234; i++) {
      pipeline.zadd(index, 1_700_000_000_000 + Math.floor(i / 300), `cid-prune-${i}`);
      if (i % 3 === 0) pipeline.hset(`fai:hub:object:cid-prune-${i}`, { cid: `cid-prune-${i}` });
    }
    await pipeline.exec();
    const seen: string[] = [];
    for await (const cid of store.cids()) if (cid.startsWith('cid-prune-')) seen.push(cid);
    assert.equal(seen.length, 412, 'every live member, once');
    assert.equal(new Set(seen).size, 412);
    assert.equal(await client.zcard(index), 412, 'every expired member removed from the index');
    client.disconnect();
  });
});
