import { Redis } from 'ioredis';
import { ErrorCodes, FaiError } from '../errors/index.ts';
import { requirePart, type Deployment } from './deployment.ts';
import type { Runbook } from './engine.ts';

async function scanKeys(redis: Redis, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return keys;
}

/**
 * Deletes the cache keyspace only — keys under the cache prefix, found with SCAN and removed with
 * UNLINK in batches — never metadata, never FLUSHALL. Destructive: it needs --yes.
 */
export function clearCacheRunbook(deployment: Deployment): Runbook<Record<string, unknown>> {
  return {
    name: 'clear-cache',
    description: `delete the cache keyspace (${deployment.cachePrefix}*) with SCAN + UNLINK; metadata and everything else stay`,
    destructive: true,
    plan: async () => {
      const url = requirePart(deployment.redisUrl, 'redisUrl');
      if (!/^fai:[a-z]+:$/.test(deployment.cachePrefix)) throw new FaiError(ErrorCodes.CONFIG, `cachePrefix "${deployment.cachePrefix}" is not a narrow fai:<name>: prefix`, { field: 'deployment.cachePrefix' });
      const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
      await redis.connect();
      const pattern = `${deployment.cachePrefix}*`;
      const keys = await scanKeys(redis, pattern);
      const others = Number(await redis.dbsize()) - keys.length;
      return {
        summary: [`delete ${keys.length} key(s) matching ${pattern}; keep the other ${others}`],
        steps: [
          {
            describe: `UNLINK ${keys.length} cache key(s)`,
            apply: async () => {
              for (let i = 0; i < keys.length; i += 500) await redis.unlink(...keys.slice(i, i + 500));
            },
          },
        ],
        verify: async () => {
          const remaining = keys.length === 0 ? 0 : Number(await redis.exists(...keys.slice(0, 10_000)));
          if (remaining > 0) throw new FaiError(ErrorCodes.VERIFICATION_FAILED, `${remaining} of the planned cache keys are still there`);
          const kept = Number(await redis.dbsize()) - (await scanKeys(redis, pattern)).length;
          if (kept < others) throw new FaiError(ErrorCodes.VERIFICATION_FAILED, `only ${kept} non-cache keys left of ${others}`);
          return `the ${keys.length} cache key(s) are gone; ${kept} other key(s) kept`;
        },
        dispose: async () => {
          redis.disconnect();
        },
      };
    },
  };
}
