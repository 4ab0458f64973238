import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { ErrorCodes, FaiError } from '../errors/index.ts';
import { takeRedisLock } from '../hub/index.ts';
import type { FileLock, LockOwner } from '../system/index.ts';
import { deploymentRedis } from './redis-connection.ts';
import type { DeploymentLock } from './engine.ts';

/** How long a holder's Redis lock outlives its last renewal (renewed every 10 s while the run goes on). */
const LOCK_TTL_MS = 30_000;

/**
 * The deployment lock of a deployment with Redis: one key (`fai:runbooks:lock`) every host's runbooks
 * and remediation loop see, so two operators on two hosts cannot change the same deployment at once.
 * A killed holder's lock lapses 30 s after its last renewal. When Redis does not answer, the run takes
 * this host's lock file instead and says so: an emergency runbook must still run during a Redis outage.
 */
export class RedisDeploymentLock implements DeploymentLock {
  constructor(
    private readonly url: string,
    private readonly fallback: FileLock,
    private readonly options: { key?: string; log?: (line: string) => void } = {},
  ) {}

  async acquire(runbook: string): Promise<{ release: () => Promise<void>; recovered: LockOwner | null }> {
    const key = this.options.key ?? 'fai:runbooks:lock';
    const redis = deploymentRedis(this.url);
    const owner: LockOwner = { pid: process.pid, host: hostname(), runbook, startedAt: new Date().toISOString(), nonce: randomBytes(8).toString('hex') };
    let taken: { release(): Promise<void> } | null;
    try {
      await redis.connect();
      taken = await takeRedisLock(redis, key, JSON.stringify(owner), LOCK_TTL_MS);
    } catch (error) {
      redis.disconnect();
      this.options.log?.(`redis did not answer (${(error as Error).message}): taking this host's lock file ${this.fallback.path} instead`);
      return this.fallback.acquire(runbook);
    }
    if (taken === null) {
      const text = await redis.get(key).catch(() => null);
      redis.disconnect();
      const holder = text === null ? null : (JSON.parse(text) as LockOwner);
      if (holder === null) throw new FaiError(ErrorCodes.RUNBOOK_LOCKED, `the deployment lock ${key} in Redis was just released by another run: try again`);
      throw new FaiError(ErrorCodes.RUNBOOK_LOCKED, `runbook ${holder.runbook} (pid ${holder.pid} on ${holder.host}, since ${holder.startedAt}) holds the deployment lock ${key} in Redis`, { details: holder });
    }
    return {
      recovered: null,
      release: async () => {
        await taken.release();
        redis.disconnect();
      },
    };
  }
}
