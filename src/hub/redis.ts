import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';

/** Longest a hub command waits for Redis: its commands take a millisecond; a Redis that stalls (SIGSTOP, a fork on a full disk) must not hold requests for as long as it stalls. */
export const REDIS_COMMAND_TIMEOUT_MS = 1_000;

/**
 * One ioredis connection for the process. Commands fail fast while Redis is
 * unreachable (no offline queue), and time out after REDIS_COMMAND_TIMEOUT_MS
 * while it is connected but silent, so a request answers 503 at once instead of
 * waiting; the client keeps reconnecting in the background. Its state changes
 * (unreachable, reachable again) are one log line each, never one per request.
 */
export function connectRedis(url: string, logger?: Logger): Redis {
  const client = new Redis(url, {
    lazyConnect: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
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

/** Resolves once the connection is ready (at once when it is); rejects after `timeoutMs` naming the state it is in. */
export async function redisReady(client: Redis, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('ready', ready);
      reject(new Error(`redis is not ready after ${timeoutMs} ms (${client.status})`));
    }, timeoutMs);
    const ready = () => {
      clearTimeout(timer);
      resolve();
    };
    client.once('ready', ready);
  });
}

/** PING, answering the round-trip in milliseconds; throws when Redis does not answer PONG. */
export async function pingRedis(client: Redis): Promise<number> {
  const started = performance.now();
  const answer = await client.ping();
  if (answer !== 'PONG') throw new Error(`unexpected PING answer ${JSON.stringify(answer)}`);
  return performance.now() - started;
}

const RELEASE_SCRIPT = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";
const RENEW_SCRIPT = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";

/**
 * Takes a Redis lock (`SET key value NX PX ttl`) if it is free: resolves with its release, or null
 * when another holds it. The holder renews it every third of its ttl until released, so long work
 * keeps it and a killed holder's lock expires within `ttlMs`; release deletes it only while it is
 * still this taking's (compared by value).
 */
export async function takeRedisLock(redis: Redis, key: string, value: string, ttlMs: number): Promise<{ release(): Promise<void> } | null> {
  if ((await redis.set(key, value, 'PX', ttlMs, 'NX')) === null) return null;
  const renew = setInterval(() => void redis.eval(RENEW_SCRIPT, 1, key, value, String(ttlMs)).catch(() => undefined), Math.max(10, Math.floor(ttlMs / 3)));
  renew.unref();
  return {
    release: async () => {
      clearInterval(renew);
      await redis.eval(RELEASE_SCRIPT, 1, key, value).catch(() => undefined);
    },
  };
}

/**
 * Runs `work` holding a Redis lock (takeRedisLock), the one lock every service instance and worker
 * sees. Waits up to `waitMs` for a holder to finish (0: not at all), then calls `busy` for the error
 * to throw.
 */
export async function withRedisLock<T>(redis: Redis, key: string, options: { ttlMs: number; waitMs: number; busy: () => Error }, work: () => Promise<T>): Promise<T> {
  const token = `${process.pid}-${randomBytes(8).toString('hex')}`;
  const deadline = Date.now() + options.waitMs;
  let lock: { release(): Promise<void> } | null;
  while ((lock = await takeRedisLock(redis, key, token, options.ttlMs)) === null) {
    if (Date.now() >= deadline) throw options.busy();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  try {
    return await work();
  } finally {
    await lock.release();
  }
}
