import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import { ErrorCodes, FaiError } from '../errors/index.ts';

/**
 * At most `perMinute` requests per client address per minute on every route (@fastify/rate-limit,
 * in-process counters; behind nginx the edge limits per client too: deploy/nginx/nginx.conf). Past
 * it: 429 with Retry-After (and x-ratelimit-*, which allowed answers do not carry), counted as a client
 * error (it is held against no alert). 0: no limit.
 */
export function installRateLimit(app: FastifyInstance, perMinute: number): void {
  if (perMinute === 0) return;
  app.register(rateLimit, {
    global: true,
    max: perMinute,
    timeWindow: 60_000,
    // The x-ratelimit-* headers on every allowed answer cost ~4.5 µs a request (three headers set and
    // serialised), more than the limit itself; a client that is refused still gets them, with Retry-After.
    addHeadersOnExceeding: { 'x-ratelimit-limit': false, 'x-ratelimit-remaining': false, 'x-ratelimit-reset': false },
    errorResponseBuilder: (_request, context) =>
      new FaiError(ErrorCodes.TOO_MANY_REQUESTS, `too many requests: at most ${context.max} a minute from one client (RATE_LIMIT_PER_MINUTE); retry in ${Math.ceil(context.ttl / 1000)} s`),
  });
}
