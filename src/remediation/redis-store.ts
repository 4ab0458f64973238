import { Redis } from 'ioredis';
import { ErrorCodes, FaiError } from '../errors/index.ts';
import { withRedisLock } from '../hub/index.ts';
import type { RunbookName } from '../ops/index.ts';
import { DECISION_WAIT_MS, DEFAULT_RETENTION_MS, OPEN_STATUSES, sortByArrival, type Action, type Pause, type RemediationStore } from './store.ts';

/**
 * In Redis (REDIS_URL): the dedup key is taken with `SET NX EX` (atomic across service instances and
 * restarts), actions are a hash by id with a sorted set by arrival, the kill switch is one key.
 */
export class RedisRemediationStore implements RemediationStore {
  readonly kind = 'redis' as const;
  private readonly redis: Redis;
  private readonly prefix: string;

  private readonly retentionMs: number;
  private readonly now: () => number;
  private prunedAt = 0;

  constructor(url: string, prefix = 'fai:remediation:', options: { retentionMs?: number; now?: () => number } = {}) {
    this.retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
    this.now = options.now ?? Date.now;
    // A stalled Redis answers 503 within the command timeout (Alertmanager retries), not after the stall.
    this.redis = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 1, enableOfflineQueue: true, commandTimeout: 2_000 });
    this.redis.on('error', () => undefined);
    this.prefix = prefix;
  }

  /** Redis down or refusing: FAI_ERR_UNAVAILABLE (503, so Alertmanager retries the notification), never a bare 500. */
  private async guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof FaiError) throw error;
      throw new FaiError(ErrorCodes.UNAVAILABLE, `remediation state in Redis: ${(error as Error).message}`, { cause: error });
    }
  }

  async claim(action: Action, windowSeconds: number): Promise<{ claimed: true } | { claimed: false; existing: Action }> {
    return this.guard(async () => {
      const taken = await this.redis.set(`${this.prefix}dedup:${action.dedupKey}`, action.id, 'EX', windowSeconds, 'NX');
      if (taken === null) {
        const id = await this.redis.get(`${this.prefix}dedup:${action.dedupKey}`);
        const existing = id === null ? undefined : await this.get(id);
        if (existing !== undefined) return { claimed: false, existing };
      }
      await this.save(action);
      return { claimed: true };
    });
  }

  async save(action: Action): Promise<void> {
    return this.guard(async () => {
      const multi = this.redis
        .multi()
        .hset(`${this.prefix}actions`, action.id, JSON.stringify(action))
        .zadd(`${this.prefix}order`, Date.parse(action.receivedAt), action.id);
      if (OPEN_STATUSES.has(action.status)) multi.sadd(`${this.prefix}open`, action.id);
      else multi.srem(`${this.prefix}open`, action.id);
      await multi.exec();
    });
    // Bounded: ended actions past the retention go, in batches, at most once a minute.
    if (this.now() - this.prunedAt > 60_000) {
      this.prunedAt = this.now();
      await this.prune().catch(() => undefined);
    }
  }

  /** Removes ended actions received before the retention, 500 at a time (open ones stay, whatever their age). */
  async prune(): Promise<number> {
    return this.guard(async () => {
      let removed = 0;
      for (;;) {
        const ids = await this.redis.zrangebyscore(`${this.prefix}order`, '-inf', this.now() - this.retentionMs, 'LIMIT', 0, 500);
        if (ids.length === 0) return removed;
        const open = await this.redis.smismember(`${this.prefix}open`, ...ids);
        const ended = ids.filter((_, i) => open[i] !== 1);
        const multi = this.redis.multi();
        if (ended.length > 0) multi.hdel(`${this.prefix}actions`, ...ended);
        // Every id of the batch leaves the order: an open one too old to prune is still in the open set.
        multi.zrem(`${this.prefix}order`, ...ids);
        await multi.exec();
        removed += ended.length;
        if (ids.length < 500) return removed;
      }
    });
  }

  async withKey(dedupKey: string): Promise<Action[]> {
    return this.guard(async () => {
      const id = await this.redis.get(`${this.prefix}dedup:${dedupKey}`);
      const action = id === null ? undefined : await this.get(id);
      return action === undefined ? [] : [action];
    });
  }

  async ofRunbook(runbook: RunbookName, sinceMs: number): Promise<Action[]> {
    return this.guard(async () => {
      const recent = await this.redis.zrangebyscore(`${this.prefix}order`, sinceMs, '+inf');
      const open = await this.redis.smembers(`${this.prefix}open`);
      return (await this.many([...new Set([...recent, ...open])])).filter((a) => a.runbook === runbook);
    });
  }

  async open(): Promise<Action[]> {
    return this.guard(async () => this.many(await this.redis.smembers(`${this.prefix}open`)));
  }

  private async many(ids: string[]): Promise<Action[]> {
    if (ids.length === 0) return [];
    const texts = await this.redis.hmget(`${this.prefix}actions`, ...ids);
    return sortByArrival(texts.flatMap((text) => (text === null ? [] : [JSON.parse(text) as Action])));
  }

  /** Withdraws the claim: the dedup key (only while it still names this action) and the record, in one script. */
  async release(action: Action): Promise<void> {
    return this.guard(async () => {
      await this.redis.eval(
        "if redis.call('get', KEYS[1]) == ARGV[1] then redis.call('del', KEYS[1]) end redis.call('hdel', KEYS[2], ARGV[1]) redis.call('zrem', KEYS[3], ARGV[1]) return 1",
        3,
        `${this.prefix}dedup:${action.dedupKey}`,
        `${this.prefix}actions`,
        `${this.prefix}order`,
        action.id,
      );
    });
  }

  async get(id: string): Promise<Action | undefined> {
    return this.guard(async () => {
      const text = await this.redis.hget(`${this.prefix}actions`, id);
      return text === null ? undefined : (JSON.parse(text) as Action);
    });
  }

  async list(): Promise<Action[]> {
    return this.guard(async () => {
      return this.many(await this.redis.zrange(`${this.prefix}order`, 0, -1));
    });
  }

  async paused(): Promise<Pause | null> {
    return this.guard(async () => {
      const text = await this.redis.get(`${this.prefix}paused`);
      return text === null ? null : (JSON.parse(text) as Pause);
    });
  }

  async setPaused(pause: Pause | null): Promise<void> {
    return this.guard(async () => {
      if (pause === null) await this.redis.del(`${this.prefix}paused`);
      else await this.redis.set(`${this.prefix}paused`, JSON.stringify(pause));
    });
  }

  /** A Redis lock per key, released only by its holder: atomic across service instances; expires if its holder dies. */
  async exclusive<T>(key: string, work: () => Promise<T>): Promise<T> {
    const lock = `${this.prefix}decide:${key}`;
    const busy = () => new FaiError(ErrorCodes.UNAVAILABLE, `another remediation decision on ${key} holds ${lock}`);
    let working = false;
    try {
      return await withRedisLock(this.redis, lock, { ttlMs: 30_000, waitMs: DECISION_WAIT_MS, busy }, () => ((working = true), work()));
    } catch (error) {
      // What `work` throws is its own error, passed on as it is; only taking the lock is Redis's failure.
      if (working || error instanceof FaiError) throw error;
      throw new FaiError(ErrorCodes.UNAVAILABLE, `remediation state in Redis: ${(error as Error).message}`, { cause: error });
    }
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
