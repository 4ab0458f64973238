import { Redis } from 'ioredis';

/**
 * A short connection to the deployment's Redis for one piece of a runbook's work (the audit head and
 * stream, the pins, the deployment lock): connects on its first command, never reconnects, and every
 * command answers within 2 s, so a run against a Redis that is down fails fast instead of hanging, and
 * the CLI can exit. Its errors are the commands' to report: the connection's own events are dropped.
 */
export function deploymentRedis(url: string): Redis {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, commandTimeout: 2_000, connectTimeout: 2_000, retryStrategy: () => null });
  redis.on('error', () => undefined);
  return redis;
}
