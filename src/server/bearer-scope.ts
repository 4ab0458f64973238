import { createHash, timingSafeEqual } from 'node:crypto';
import bearerAuth from '@fastify/bearer-auth';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ErrorCodes } from '../errors/index.ts';
import type { OperatorTokens } from '../config/index.ts';
import type { Metrics } from '../metrics/index.ts';
import type { ErrorBody } from './error-mapping.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * Who the bearer token authenticated (`operator`, a named operator, `alertmanager`); '' until it
     * has. Declared in the bearer scopes only (`bearerScope`): a public route's request has none.
     */
    principal: string;
    /**
     * Who acted: the principal, or whom an authenticated operator request acts for
     * (`x-fai-on-behalf-of`: a runbook the remediation loop runs says `alertmanager (rule NAME)`).
     * What state-changing routes record.
     */
    actor: string;
  }
}

/** The header a runbook sends to say whom its operator request acts for. */
export const ON_BEHALF_OF = 'x-fai-on-behalf-of';
const ACTOR_TEXT = /^[\x20-\x7e]{1,200}$/;

export interface BearerScopeOptions {
  /** The token this scope accepts; undefined: every request is refused, and the message says which variable to set. */
  token: string | undefined;
  /** The environment variable that holds the token (named in every refusal). */
  variable: string;
  /** What the audit log and the service log record for a request that presented the token. */
  principal: string;
  /** Counts refused tokens in system_auth_failures_total{scope=principal}. */
  metrics?: Metrics;
  /** Named tokens (FAI_OPERATOR_TOKENS_FILE): a request with one of them acts as that name. */
  named?: OperatorTokens;
}

const digest = (text: string) => createHash('sha256').update(text).digest();

/**
 * Puts every route registered in `scope` behind one bearer token, checked in `onRequest` (before
 * the body is read: an unauthenticated upload costs nothing) by @fastify/bearer-auth. The token is
 * compared in constant time on its SHA-256 (the comparison leaks neither the token nor its length).
 * An authenticated request carries `request.principal`; each one is logged with its principal,
 * method, path and status, a record of who changed what beside the runbooks' audit log.
 */
export async function bearerScope(scope: FastifyInstance, options: BearerScopeOptions): Promise<void> {
  const expected = options.token === undefined ? undefined : digest(options.token);
  const refusal = (reason: string) =>
    options.token === undefined && options.named === undefined
      ? `this route needs ${options.variable}, and the service has none set: set ${options.variable} on the service and send it as Authorization: Bearer <${options.variable}>`
      : reason === 'missing authorization header'
        ? `headers.authorization: this route needs a bearer token (Authorization: Bearer <${options.variable}>)`
        : `headers.authorization: wrong bearer token (this route takes ${options.variable})`;
  // Declared in this scope, not on the root: each decoration is a property every request of its scope is built with,
  // and a public request has no principal.
  scope.decorateRequest('principal', '');
  scope.decorateRequest('actor', '');
  await scope.register(bearerAuth, {
    keys: [],
    // A refused token is logged at warn (someone is guessing, or a client is misconfigured) and counted;
    // the rate limit, which runs before this check, keeps the guesses from filling the log.
    verifyErrorLogLevel: 'warn',
    auth: async (key: string, request: FastifyRequest) => {
      const hash = digest(key);
      if (expected !== undefined && timingSafeEqual(hash, expected)) request.principal = options.principal;
      else {
        // A named token is found by its sha-256: the token itself is never held, and a map lookup by hash leaks nothing of it.
        await options.named?.refresh();
        const name = options.named?.nameOf(hash.toString('hex'));
        if (name === undefined) return false;
        request.principal = name;
      }
      const onBehalf = request.headers[ON_BEHALF_OF];
      request.actor = typeof onBehalf === 'string' && ACTOR_TEXT.test(onBehalf) ? onBehalf : request.principal;
      return true;
    },
    // Our error shape ({error: {code, message, field}}); the plugin's type declares {error: string} but sends whatever this returns.
    errorResponse: ((error: Error): ErrorBody => ({ error: { code: ErrorCodes.UNAUTHORIZED, message: refusal(error.message), field: 'headers.authorization' } })) as unknown as (error: Error) => { error: string },
  });
  // The series exists from the start at 0: the first refusal is a step an alert can see.
  options.metrics?.systemAuthFailuresTotal.inc({ scope: options.principal }, 0);
  scope.addHook('onResponse', async (request, reply) => {
    // A missing or wrong token: counted per scope (the rate limit before the check keeps guessing slow).
    if (reply.statusCode === 401) options.metrics?.systemAuthFailuresTotal.inc({ scope: options.principal });
    if (request.principal !== '') request.log.info({ principal: request.principal, actor: request.actor, method: request.method, url: request.url.split('?')[0], status: reply.statusCode }, 'operator request');
  });
}
