import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { ErrorCodes, FaiError } from '../errors/index.ts';
import { withRedisLock } from './redis.ts';

/**
 * What gc must know of the stores around it, and who else runs a gc: in this process only (one host,
 * no Redis), or across every instance and worker sharing one Redis.
 */
export interface HubCluster {
  /** Registers a store in flight; the returned function ends it. */
  storeBegan(): Promise<() => Promise<void>>;
  /** How long the oldest store still in flight anywhere has run (ms); undefined when none runs. */
  oldestStoreAgeMs(): Promise<number | undefined>;
  /** Runs gc as the only one: a gc already running (anywhere) makes this throw FAI_ERR_RUNBOOK_LOCKED (409). */
  exclusiveGc<T>(work: () => Promise<T>): Promise<T>;
  close(): void;
}

const gcBusy = (where: string) => new FaiError(ErrorCodes.RUNBOOK_LOCKED, `another gc is running ${where}; one gc at a time: try again when it has finished`);

/** One process: its own stores, its own gc. */
export class LocalHubCluster implements HubCluster {
  private readonly storing = new Map<number, number>();
  private next = 0;
  private collecting = false;

  async storeBegan(): Promise<() => Promise<void>> {
    const id = this.next++;
    this.storing.set(id, Date.now());
    return async () => void this.storing.delete(id);
  }

  async oldestStoreAgeMs(): Promise<number | undefined> {
    if (this.storing.size === 0) return undefined;
    return Date.now() - Math.min(...this.storing.values());
  }

  async exclusiveGc<T>(work: () => Promise<T>): Promise<T> {
    if (this.collecting) throw gcBusy('in this process');
    this.collecting = true;
    try {
      return await work();
    } finally {
      this.collecting = false;
    }
  }

  close(): void {}
}

/** A store's registration outlives its last heartbeat by this much: a killed instance's stores stop counting then. */
const STORE_LEASE_MS = 6_000;
const HEARTBEAT_MS = 2_000;

/**
 * Every instance and worker sharing one Redis: the stores in flight are a sorted set
 * (`<prefix>storing`, member `<id>|<start>`, score = lease end), each start and lease by Redis's clock
 * (TIME), so no host's clock enters an age; a live store renews its lease every 2 s, and a store
 * of a killed process stops counting 6 s after its last renewal (its blocks are then orphans, which
 * gc's grace still spares for HUB_GC_GRACE_SECONDS). gc holds `<prefix>gc-lock`.
 */
export class RedisHubCluster implements HubCluster {
  private readonly mine = new Set<string>();
  private readonly heartbeat: NodeJS.Timeout;

  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'fai:hub:',
  ) {
    this.heartbeat = setInterval(() => void this.renew().catch(() => undefined), HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  private async now(): Promise<number> {
    const [seconds, micros] = await this.redis.time();
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  }

  private async renew(): Promise<void> {
    if (this.mine.size === 0) return;
    const leaseEnd = (await this.now()) + STORE_LEASE_MS;
    await this.redis.zadd(`${this.prefix}storing`, 'XX', ...[...this.mine].flatMap((member) => [leaseEnd, member]));
  }

  async storeBegan(): Promise<() => Promise<void>> {
    const now = await this.now();
    const member = `${process.pid}-${randomBytes(6).toString('hex')}|${now}`;
    await this.redis.zadd(`${this.prefix}storing`, now + STORE_LEASE_MS, member);
    this.mine.add(member);
    return async () => {
      this.mine.delete(member);
      // A store that ended while Redis was away leaves its member; its lease ends it.
      await this.redis.zrem(`${this.prefix}storing`, member).catch(() => undefined);
    };
  }

  async oldestStoreAgeMs(): Promise<number | undefined> {
    const now = await this.now();
    await this.redis.zremrangebyscore(`${this.prefix}storing`, '-inf', now);
    const members = await this.redis.zrange(`${this.prefix}storing`, 0, -1);
    if (members.length === 0) return undefined;
    const oldest = Math.min(...members.map((member) => Number(member.slice(member.lastIndexOf('|') + 1))));
    return Math.max(0, now - oldest);
  }

  exclusiveGc<T>(work: () => Promise<T>): Promise<T> {
    return withRedisLock(this.redis, `${this.prefix}gc-lock`, { ttlMs: 60_000, waitMs: 0, busy: () => gcBusy('on an instance sharing this Redis') }, work);
  }

  close(): void {
    clearInterval(this.heartbeat);
  }
}
