import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCodes, FaiError, isFaiError, type ErrorCode } from '../errors/index.ts';
import { redactInternals } from './redact.ts';

/** The one place error codes become HTTP statuses. */
const STATUS_BY_CODE: Record<ErrorCode, number> = {
  FAI_ERR_VALIDATION: 400,
  FAI_ERR_MALFORMED_BODY: 400,
  FAI_ERR_UNSUPPORTED_MEDIA_TYPE: 415,
  FAI_ERR_BODY_TOO_LARGE: 413,
  FAI_ERR_NOT_FOUND: 404,
  FAI_ERR_CONFIG: 500,
  FAI_ERR_UNAVAILABLE: 503,
  FAI_ERR_TIMEOUT: 504,
  FAI_ERR_REQUEST_TIMEOUT: 408,
  FAI_ERR_INTEGRITY: 500,
  FAI_ERR_STORAGE: 507,
  FAI_ERR_UNAUTHORIZED: 401,
  FAI_ERR_TOO_MANY_REQUESTS: 429,
  FAI_ERR_RUNBOOK_LOCKED: 409,
  FAI_ERR_CONFIRMATION_REQUIRED: 409,
  FAI_ERR_VERIFICATION_FAILED: 502,
  FAI_ERR_NOT_AVAILABLE: 501,
  FAI_ERR_INTERNAL: 500,
};

export function statusForCode(code: ErrorCode): number {
  return STATUS_BY_CODE[code];
}

/** Fastify's own errors for unreadable requests, as our codes. */
function fromFastifyError(error: FastifyError): FaiError | null {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new FaiError(ErrorCodes.BODY_TOO_LARGE, `body: larger than the ${error.message.match(/\d+/)?.[0] ?? 'configured'} byte limit`, { field: 'body' });
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new FaiError(ErrorCodes.MALFORMED_BODY, `body: ${error.message}`, { field: 'body' });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new FaiError(ErrorCodes.UNSUPPORTED_MEDIA_TYPE, `headers.content-type: ${error.message}`, { field: 'headers.content-type' });
    default:
      break;
  }
  // The body parser's JSON.parse errors surface as a SyntaxError it gave statusCode 400. A SyntaxError
  // without one came from our own state (a damaged file or record): that is a 500, never the client's 400.
  if (error.statusCode === 400 && error.name === 'SyntaxError') {
    return new FaiError(ErrorCodes.MALFORMED_BODY, `body: malformed JSON (${error.message})`, { field: 'body' });
  }
  return null;
}

/**
 * Fastify's answer to a request it cannot route at all (a URL that does not decode: `/v1/%zz`), given
 * as its `frameworkErrors` option (app.ts): without it Fastify writes its own body straight to the
 * socket, in its format rather than ours, and past every hook (the answer was not counted). Answered
 * here like every other bad input: 400, our error body, naming the URL.
 */
export function answerFrameworkError(error: FastifyError, reply: FastifyReply): void {
  const status = typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
  void reply.status(status).send({ error: { code: ErrorCodes.VALIDATION, message: `url: ${error.message}`, field: 'url' } } satisfies ErrorBody);
}

/** How long one 503 message is logged once: an outage of a dependency fails every request the same way. */
const UNAVAILABLE_LOG_WINDOW_MS = 60_000;

export interface ErrorBody {
  error: ReturnType<FaiError['toJSON']>;
}

/**
 * Every error answer is `{error: {code, message, field?}}` with the status of
 * its code; unknown errors are logged and answered 500 without internals.
 */
export function installErrorHandling(app: FastifyInstance): void {
  // A dependency that is down (503) fails every request alike: its message is logged once a minute,
  // with how many more there were, not a stack trace per request (a Redis outage at 265 req/s).
  const unavailable = new Map<string, { at: number; suppressed: number }>();
  const logUnavailable = (request: FastifyRequest, message: string) => {
    const now = Date.now();
    const seen = unavailable.get(message);
    if (seen !== undefined && now - seen.at < UNAVAILABLE_LOG_WINDOW_MS) {
      seen.suppressed++;
      return;
    }
    if (unavailable.size > 100) unavailable.clear();
    request.log.warn({ alike: seen?.suppressed ?? 0 }, `unavailable: ${message}`);
    unavailable.set(message, { at: now, suppressed: 0 });
  };
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const fai = isFaiError(error) ? error : fromFastifyError(error);
    if (fai !== null) {
      const status = statusForCode(fai.code);
      if (status === 503) logUnavailable(request, fai.message);
      else if (status >= 500) request.log.error({ err: error }, fai.message);
      // A server-side failure's message is ours: the log has it whole, the answer without our addresses and paths.
      const body = fai.toJSON();
      if (status >= 500) body.message = redactInternals(body.message);
      return reply.status(status).send({ error: body } satisfies ErrorBody);
    }
    if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
      const code = error.statusCode === 404 ? ErrorCodes.NOT_FOUND : ErrorCodes.VALIDATION;
      return reply.status(error.statusCode).send({ error: { code, message: error.message } } satisfies ErrorBody);
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply.status(500).send({ error: { code: ErrorCodes.INTERNAL, message: 'internal error; see the service log' } } satisfies ErrorBody);
  });

  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split('?')[0];
    return reply.status(404).send({
      error: { code: ErrorCodes.NOT_FOUND, message: `no route ${request.method} ${path}`, field: 'url' },
    } satisfies ErrorBody);
  });
}
