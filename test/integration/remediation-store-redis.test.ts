import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RedisRemediationStore } from '../../src/remediation/index.ts';
import { startRedis, type RedisServer } from '../helpers/servers.ts';

/** Two service instances deciding on one runbook through one real Redis: their decisions never overlap. */
describe('remediation decisions across instances (real Redis)', () => {
  let redis: RedisServer;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis?.stop();
  });

  it('runs one decision per runbook at a time across stores, and decisions on other runbooks beside it', async () => {
    const stores = [new RedisRemediationStore(redis.url), new RedisRemediationStore(redis.url)];
    try {
      let inside = 0;
      let most = 0;
      const decide = (store: RedisRemediationStore, key: string) =>
        store.exclusive(key, async () => {
          inside++;
          most = Math.max(most, inside);
          await new Promise((resolve) => setTimeout(resolve, 5));
          inside--;
        });
      await Promise.all(Array.from({ length: 20 }, (_, i) => decide(stores[i % 2]!, 'emergency-stop')));
      assert.equal(most, 1, 'no two decisions on one runbook overlapped');
      most = 0;
      await Promise.all([decide(stores[0]!, 'downshift'), decide(stores[1]!, 'rollback')]);
      assert.equal(most, 2, 'different runbooks do not wait for each other');
      // A failing decision releases the lock.
      await assert.rejects(stores[0]!.exclusive('downshift', async () => Promise.reject(new Error('boom'))), /boom/);
      await stores[1]!.exclusive('downshift', async () => undefined);
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
  });

  it('withdraws a claim whose decision failed: the dedup key is free again and the action is gone, on every instance', async () => {
    const [a, b] = [new RedisRemediationStore(redis.url, 'fai:test-release:'), new RedisRemediationStore(redis.url, 'fai:test-release:')];
    try {
      const action = {
        id: 'mk1-a1b2c3',
        dedupKey: 'fp:1:downshift',
        alert: { name: 'HighLLMLatency', severity: 'warning', fingerprint: 'fp', startsAt: '2026-11-28T09:59:00Z', labels: {} },
        runbook: 'downshift' as const,
        args: {},
        mode: 'on' as const,
        page: false,
        status: 'received' as const,
        reason: '',
        plan: [],
        receivedAt: '2026-11-28T10:00:00Z',
        repeats: 0,
      };
      assert.deepEqual(await a.claim(action, 3600), { claimed: true });
      assert.equal((await b.claim({ ...action, id: 'mk2-a1b2c3' }, 3600)).claimed, false, 'claimed: a second instance sees a duplicate');
      await a.release(action);
      assert.equal(await b.get(action.id), undefined);
      assert.deepEqual(await b.list(), []);
      assert.deepEqual(await b.claim({ ...action, id: 'mk3-a1b2c3' }, 3600), { claimed: true }, 'the retry is decided afresh');
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('keeps its state bounded: prunes ended actions past the retention in batches, keeps open ones; a budget check reads only its window', async () => {
    const now = Date.parse('2026-11-28T10:00:00Z');
    const store = new RedisRemediationStore(redis.url, 'fai:test-prune:', { retentionMs: 86_400_000, now: () => now });
    try {
      const base = { dedupKey: 'k', alert: { name: 'HighLLMLatency', severity: 'warning', fingerprint: 'fp', startsAt: '2026-11-01T00:00:00Z', labels: {} }, runbook: 'downshift' as const, args: {}, mode: 'on' as const, page: false, reason: '', plan: [], repeats: 0 };
      for (let i = 0; i < 1_200; i++) await store.save({ ...base, id: `old-${i}`, status: 'verified', receivedAt: new Date(now - 10 * 86_400_000 + i).toISOString() });
      await store.save({ ...base, id: 'old-open', status: 'awaiting_approval', receivedAt: new Date(now - 10 * 86_400_000).toISOString() });
      await store.save({ ...base, id: 'recent', status: 'verified', receivedAt: new Date(now - 60_000).toISOString() });
      assert.deepEqual((await store.ofRunbook('downshift', now - 3_600_000)).map((a) => a.id).sort(), ['old-open', 'recent'], 'the last hour, and what is open');
      assert.equal(await store.prune(), 1_200);
      assert.deepEqual((await store.open()).map((a) => a.id), ['old-open']);
      assert.equal(await store.get('old-7'), undefined);
      assert.ok(await store.get('recent'));
    } finally {
      await store.close();
    }
  });
});
