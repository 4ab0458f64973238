import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../config/index.ts';
import type { Metrics } from '../metrics/index.ts';
import { BlockStore } from './blocks.ts';
import { LocalHubCluster, RedisHubCluster } from './cluster.ts';
import { FsBlockBackend } from './fs-blocks.ts';
import { CloudHub } from './hub.ts';
import { EmbeddedMetadataStore } from './embedded-metadata.ts';
import { RedisMetadataStore } from './redis-metadata.ts';
import { connectRedis } from './redis.ts';
import { S3BlockBackend } from './s3-blocks.ts';

/**
 * The Cloud Hub a configuration describes: blocks under HUB_DIR or in the shared S3 bucket
 * (HUB_BLOCKSTORE), records in Redis when REDIS_URL is set, on disk beside the blocks otherwise; with
 * Redis, gc and the stores in flight are known to every process sharing it. The service, the workers
 * and the CLI's local commands open it alike.
 */
export function openHub(config: Pick<Config, 'hubDir' | 'redisUrl' | 'hubTtlSeconds' | 'hubGcGraceMs'> & Partial<Pick<Config, 'hubBlockstore'>>, options: { metrics?: Metrics; logger?: Logger } = {}): { hub: CloudHub; redis: Redis | undefined; close(): Promise<void> } {
  const store = config.hubBlockstore ?? { kind: 'fs' };
  const redis = config.redisUrl === undefined ? undefined : connectRedis(config.redisUrl, options.logger);
  const hub = new CloudHub({
    blocks: new BlockStore(store.kind === 's3' ? new S3BlockBackend(store) : new FsBlockBackend(join(config.hubDir, 'blocks'))),
    metadata: redis === undefined ? new EmbeddedMetadataStore(join(config.hubDir, 'meta')) : new RedisMetadataStore(redis, options.metrics),
    metrics: options.metrics,
    ttlSeconds: config.hubTtlSeconds,
    gcGraceMs: config.hubGcGraceMs,
    cluster: redis === undefined ? new LocalHubCluster() : new RedisHubCluster(redis),
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
