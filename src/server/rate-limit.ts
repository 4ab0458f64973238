import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCodes, FaiError } from '../errors/index.ts';

/** The route whose requests count in a bucket of their own: Alertmanager shares no allowance with the public. */
const WEBHOOK_URL = '/v1/alerts/webhook';
const WINDOW_MS = 60_000;

/**
 * Requests per client key in fixed one-minute windows, in this process: a window starts with a key's
 * first request and ends a minute later. Expired windows are dropped once a minute, so the table holds
 * at most the keys seen in the last two minutes.
 */
class WindowCounts {
  private readonly windows = new Map<string, { count: number; endsAt: number }>();
  private readonly sweeper: NodeJS.Timeout;

  constructor() {
    this.sweeper = setInterval(() => {
      const now = Date.now();
      for (const [key, window] of this.windows) if (window.endsAt <= now) this.windows.delete(key);
    }, WINDOW_MS);
    this.sweeper.unref();
  }

  /** Counts one request of `key`: its count in the current window, and when that window ends. */
  hit(key: string, now: number): { count: number; endsAt: number } {
    let window = this.windows.get(key);
    if (window === undefined || window.endsAt <= now) {
      window = { count: 0, endsAt: now + WINDOW_MS };
      this.windows.set(key, window);
    }
    window.count++;
    return window;
  }

  stop(): void {
    clearInterval(this.sweeper);
  }
}

/** Each connection's client address, read once: the socket's getter asks for it again on every request (request.ip). */
const addresses = new WeakMap<Socket, string>();

function clientAddress(socket: Socket): string {
  let address = addresses.get(socket);
  if (address === undefined) {
    // A socket already closed has no address left to read: such a request is one of "unknown"'s.
    address = socket.remoteAddress ?? 'unknown';
    addresses.set(socket, address);
  }
  return address;
}

/**
 * At most `perMinute` requests per client address per minute (in-process counters; behind nginx the
 * edge limits per client too: deploy/nginx/nginx.conf). Past it: 429 with Retry-After and x-ratelimit-*
 * (which allowed answers do not carry), counted as a client error (it is held against no alert). 0: no
 * limit.
 *
 * The limit is judged in the root `onRequest` hook (app.ts): it runs before the hooks of the token
 * scopes, so a wrong token is refused by the limit like any other request once its client is over it,
 * and every route is limited, /openapi.json and unknown URLs included. Alertmanager's webhook has a
 * bucket of its own per address: the public traffic of one address cannot spend its allowance.
 *
 * Written here rather than with @fastify/rate-limit (which this replaced): its hook is async, through a
 * store with callbacks, and cost about 1.4 µs of every request over HTTP — a fifth of the service's
 * whole overhead on a trivial route (make bench-http). A fixed window in a Map, judged synchronously,
 * is all an in-process limit needs.
 *
 * Returns the judge: the error to answer a request with (its headers set on `reply`), or undefined
 * when it is allowed; undefined for no limit.
 */
export function rateLimit(app: FastifyInstance, perMinute: number): ((request: FastifyRequest, reply: FastifyReply) => FaiError | undefined) | undefined {
  if (perMinute === 0) return undefined;
  const counts = new WindowCounts();
  app.addHook('onClose', (_instance, done) => {
    counts.stop();
    done();
  });
  return (request, reply) => {
    // The URL as sent (its path, before any query), not request.routeOptions: Fastify builds that object on every read.
    const url = request.url;
    const webhook = url.startsWith(WEBHOOK_URL) && (url.length === WEBHOOK_URL.length || url[WEBHOOK_URL.length] === '?');
    const ip = clientAddress(request.raw.socket);
    const key = webhook ? `webhook|${ip}` : ip;
    const now = Date.now();
    const { count, endsAt } = counts.hit(key, now);
    if (count <= perMinute) return undefined;
    const seconds = Math.max(1, Math.ceil((endsAt - now) / 1000));
    reply.header('x-ratelimit-limit', perMinute).header('x-ratelimit-remaining', 0).header('x-ratelimit-reset', seconds).header('retry-after', seconds);
    return new FaiError(ErrorCodes.TOO_MANY_REQUESTS, `too many requests: at most ${perMinute} a minute from one client (RATE_LIMIT_PER_MINUTE); retry in ${seconds} s`);
  };
}
