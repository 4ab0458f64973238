import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import { ErrorCodes, FaiError } from '../errors/index.ts';

/** The route whose requests count in a bucket of their own: Alertmanager shares no allowance with the public. */
const WEBHOOK_URL = '/v1/alerts/webhook';

/**
 * At most `perMinute` requests per client address per minute (@fastify/rate-limit, in-process
 * counters; behind nginx the edge limits per client too: deploy/nginx/nginx.conf). Past it: 429 with
 * Retry-After (and x-ratelimit-*, which allowed answers do not carry), counted as a client error (it
 * is held against no alert). 0: no limit.
 *
 * The limit is a root `onRequest` hook, not the plugin's per-route one: a root hook runs before the
 * hooks of the token scopes, so a wrong token is refused by the limit like any other request once
 * its client is over it (a per-route hook ran after the token check: guesses were never limited),
 * and every route is limited, /openapi.json and unknown URLs included. Alertmanager's webhook has a
 * bucket of its own per address: the public traffic of one address cannot spend its allowance.
 */
export function installRateLimit(app: FastifyInstance, perMinute: number): void {
  if (perMinute === 0) return;
  app.register(rateLimit, {
    global: false,
    max: perMinute,
    timeWindow: 60_000,
    keyGenerator: (request) => (request.routeOptions.url === WEBHOOK_URL ? `webhook|${request.ip}` : request.ip),
    // The x-ratelimit-* headers on every allowed answer cost ~4.5 µs a request (three headers set and
    // serialised), more than the limit itself; a client that is refused still gets them, with Retry-After.
    addHeadersOnExceeding: { 'x-ratelimit-limit': false, 'x-ratelimit-remaining': false, 'x-ratelimit-reset': false },
    errorResponseBuilder: (_request, context) =>
      new FaiError(ErrorCodes.TOO_MANY_REQUESTS, `too many requests: at most ${context.max} a minute from one client (RATE_LIMIT_PER_MINUTE); retry in ${Math.ceil(context.ttl / 1000)} s`),
  });
  app.after(() => {
    app.addHook('onRequest', app.rateLimit());
  });
}
