import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { FaiError } from '../../src/errors/index.ts';
import { PINS_CHANNEL, PINS_KEY, RedisPinStore, type Pins } from '../../src/llm/index.ts';
import { startRedis, waitFor, type RedisServer } from '../helpers/servers.ts';

// The model pins in a real Redis: seeded once from the file, published on change, refused when damaged.
let redis: RedisServer;
let client: Redis;
let dir: string;
let file: string;
before(async () => {
  redis = await startRedis();
  client = new Redis(redis.url);
  dir = await mkdtemp(join(tmpdir(), 'fai-pins-redis-'));
  file = join(dir, 'model_pins.json');
});
after(async () => {
  client.disconnect();
  await redis.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('pins in Redis', () => {
  it('are seeded from the pins file once: a later edit of the file does not override them', async () => {
    await writeFile(file, JSON.stringify({ qwen: '2.5.1' }));
    const store = new RedisPinStore(client, file);
    assert.deepEqual(await store.read(), { qwen: '2.5.1' });
    await writeFile(file, JSON.stringify({ qwen: '9.9.9' }));
    assert.deepEqual(await store.read(), { qwen: '2.5.1' }, 'Redis holds the pins now');
    assert.equal(await client.get(PINS_KEY), JSON.stringify({ qwen: '2.5.1' }));
  });

  it('publishes a change: a watcher on another connection takes it at once; a bad value is refused before it is written', async () => {
    const writer = new RedisPinStore(client, file);
    const watcherConnection = new Redis(redis.url);
    const seen: Pins[] = [];
    const errors: unknown[] = [];
    const stop = await new RedisPinStore(watcherConnection, file).watch((pins) => seen.push(pins), (error) => errors.push(error));
    try {
      await waitFor('the watcher reads the pins when it connects', async () => seen.length >= 1, 2_000);
      const started = performance.now();
      await writer.write({ qwen: '2.5.2' });
      await waitFor('the change published', async () => seen.some((pins) => pins.qwen === '2.5.2'), 2_000);
      assert.ok(performance.now() - started < 2_000);
      await assert.rejects(writer.write({ QWEN: 'two' } as unknown as Pins), (e: unknown) => e instanceof FaiError && e.code === 'FAI_ERR_VALIDATION');
      // A damaged announcement (written by hand) is refused with the reason, and the pins in force stay.
      await client.publish(PINS_CHANNEL, '{"qwen": ');
      await waitFor('the damaged message reported', async () => errors.length > 0, 2_000);
      assert.match(String(errors[0]), /not JSON/);
      assert.equal(seen.at(-1)!.qwen, '2.5.2');
    } finally {
      await stop();
      watcherConnection.disconnect();
    }
  });

  it('answers 503 naming Redis when it does not answer, and a damaged value is a config error naming the key', async () => {
    await client.set(PINS_KEY, '{"formulation-policy": "1.0.0"}');
    await assert.rejects(new RedisPinStore(client, file).read(), (e: unknown) => e instanceof FaiError && e.code === 'FAI_ERR_CONFIG' && /Redis fai:pins/.test(e.message));
    const down = new Redis('redis://127.0.0.1:9', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
    down.on('error', () => undefined);
    try {
      await assert.rejects(new RedisPinStore(down, file).read(), (e: unknown) => e instanceof FaiError && e.code === 'FAI_ERR_UNAVAILABLE' && /reading the pins: Redis did not answer/.test(e.message));
    } finally {
      down.disconnect();
    }
  });
});
