import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCodes, FaiError } from '../errors/index.ts';

/**
 * Judges one request at `now` (its `startedAt`: the clock the root hook read for it): the error to
 * answer it with (its headers set on `reply`), or undefined when it is allowed.
 */
export type RateLimitJudge = (request: FastifyRequest, reply: FastifyReply, now: number) => FaiError | undefined;

/** The route whose requests count in a bucket of their own: Alertmanager shares no allowance with the public. */
const WEBHOOK_URL = '/v1/alerts/webhook';
const WINDOW_MS = 60_000;

/** A key's count in its current window, and when (on the request clock, ms) that window ends. */
interface Window {
  count: number;
  readonly endsAt: number;
}

/**
 * Requests per client key in fixed one-minute windows, in this process: a window starts with a key's
 * first request and ends a minute later. Expired windows are dropped once a minute, so the table holds
 * at most the keys seen in the last two minutes. Times are the requests' clock (`request.startedAt`, read
 * once per request by the root hook), which the sweeper reads too.
 */
class WindowCounts {
  private readonly windows = new Map<string, Window>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(clock: () => number) {
    this.sweeper = setInterval(() => {
      const now = clock();
      for (const [key, window] of this.windows) if (window.endsAt <= now) this.windows.delete(key);
    }, WINDOW_MS);
    this.sweeper.unref();
  }

  /** The current window of `key` at `now` (a new one when its last has ended). */
  current(key: string, now: number): Window {
    let window = this.windows.get(key);
    if (window === undefined || window.endsAt <= now) {
      window = { count: 0, endsAt: now + WINDOW_MS };
      this.windows.set(key, window);
    }
    return window;
  }

  stop(): void {
    clearInterval(this.sweeper);
  }
}

/** What a connection remembers of its client: its address, read once, and the window its requests last counted in. */
interface Client {
  readonly address: string;
  window: Window | undefined;
}

/**
 * Each connection's client, kept on its socket: the socket's getter asks for the address again on
 * every request (request.ip), and a request that finds its client's window here, still open, counts
 * in it with no lookup. The window is the address's (one table entry, whatever the connections):
 * one that has ended is looked up again, and every connection of the address then finds its new one.
 */
const CLIENT = Symbol('fai.rateLimitClient');
type ClientSocket = Socket & { [CLIENT]?: Client };

function clientOf(socket: ClientSocket): Client {
  // A socket already closed has no address left to read: such a request is one of "unknown"'s.
  return (socket[CLIENT] ??= { address: socket.remoteAddress ?? 'unknown', window: undefined });
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
 * `clock`: the requests' clock (the judge is given each request's time; the sweeper reads it). Returns
 * the judge; undefined for no limit.
 */
export function rateLimit(app: FastifyInstance, perMinute: number, clock: () => number): RateLimitJudge | undefined {
  if (perMinute === 0) return undefined;
  const counts = new WindowCounts(clock);
  app.addHook('onClose', (_instance, done) => {
    counts.stop();
    done();
  });
  return (request, reply, now) => {
    // The URL as sent (its path, before any query), not request.routeOptions: Fastify builds that object on every read.
    const raw = request.raw;
    const url = raw.url ?? '';
    const webhook = url.startsWith(WEBHOOK_URL) && (url.length === WEBHOOK_URL.length || url[WEBHOOK_URL.length] === '?');
    const client = clientOf(raw.socket);
    let window: Window;
    if (webhook) {
      window = counts.current(`webhook|${client.address}`, now);
    } else {
      window = client.window !== undefined && client.window.endsAt > now ? client.window : counts.current(client.address, now);
      client.window = window;
    }
    if (++window.count <= perMinute) return undefined;
    const seconds = Math.max(1, Math.ceil((window.endsAt - now) / 1000));
    reply.header('x-ratelimit-limit', perMinute).header('x-ratelimit-remaining', 0).header('x-ratelimit-reset', seconds).header('retry-after', seconds);
    return new FaiError(ErrorCodes.TOO_MANY_REQUESTS, `too many requests: at most ${perMinute} a minute from one client (RATE_LIMIT_PER_MINUTE); retry in ${seconds} s`);
  };
}
