import { Redis } from 'ioredis';
import type { Logger } from 'pino';

/**
 * One ioredis connection for the process. Commands fail fast while Redis is
 * unreachable (no offline queue), so a health probe answers "down" at once
 * instead of waiting; the client keeps reconnecting in the background.
 */
export function connectRedis(url: string, logger?: Logger): Redis {
  const client = new Redis(url, {
    lazyConnect: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
  });
  let down = false;
  client.on('error', (error: Error) => {
    // ioredis emits an error on every failed reconnect; log the first of a run.
    if (!down) logger?.warn({ err: error }, 'redis unreachable; reconnecting');
    down = true;
  });
  client.on('ready', () => {
    if (down) logger?.info('redis reachable again');
    down = false;
  });
  return client;
}

/** PING, answering the round-trip in milliseconds; throws when Redis does not answer PONG. */
export async function pingRedis(client: Redis): Promise<number> {
  const started = performance.now();
  const answer = await client.ping();
  if (answer !== 'PONG') throw new Error(`unexpected PING answer ${JSON.stringify(answer)}`);
  return performance.now() - started;
}
