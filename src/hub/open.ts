import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../config/index.ts';
import type { Metrics } from '../metrics/index.ts';
import { BlockStore } from './blocks.ts';
import { CloudHub } from './hub.ts';
import { EmbeddedMetadataStore } from './metadata.ts';
import { RedisMetadataStore } from './redis-metadata.ts';
import { connectRedis } from './redis.ts';

/**
 * The Cloud Hub a configuration describes: blocks under HUB_DIR, records in Redis when REDIS_URL is
 * set, on disk beside the blocks otherwise. The service and the CLI's local commands open it alike.
 */
export function openHub(config: Pick<Config, 'hubDir' | 'redisUrl' | 'hubTtlSeconds' | 'hubGcGraceMs'>, options: { metrics?: Metrics; logger?: Logger } = {}): { hub: CloudHub; redis: Redis | undefined; close(): Promise<void> } {
  const redis = config.redisUrl === undefined ? undefined : connectRedis(config.redisUrl, options.logger);
  const hub = new CloudHub({
    blocks: new BlockStore(join(config.hubDir, 'blocks')),
    metadata: redis === undefined ? new EmbeddedMetadataStore(join(config.hubDir, 'meta')) : new RedisMetadataStore(redis, options.metrics),
    metrics: options.metrics,
    ttlSeconds: config.hubTtlSeconds,
    gcGraceMs: config.hubGcGraceMs,
  });
  return {
    hub,
    redis,
    close: async () => {
      await hub.close();
      redis?.disconnect();
    },
  };
}
