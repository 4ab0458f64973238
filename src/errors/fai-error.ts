/**
 * Typed errors with stable codes (in the manner of Fastify's FST_ERR_*).
 *
 * Capabilities throw `FaiError` with one of these codes; the HTTP layer
 * (src/server/error-mapping.ts) maps a code to a status, the CLI
 * (src/cli/exit-codes.ts) maps it to an exit code and one line of advice.
 * Neither mapping lives here, so domain code never learns about HTTP.
 */
export const ErrorCodes = {
  /** Input failed validation; `field` names what is wrong. */
  VALIDATION: 'FAI_ERR_VALIDATION',
  /** The request body is not parseable (malformed JSON, wrong content type). */
  MALFORMED_BODY: 'FAI_ERR_MALFORMED_BODY',
  /** The request body is in a format the route does not read (content type). */
  UNSUPPORTED_MEDIA_TYPE: 'FAI_ERR_UNSUPPORTED_MEDIA_TYPE',
  /** The request body exceeds the configured limit. */
  BODY_TOO_LARGE: 'FAI_ERR_BODY_TOO_LARGE',
  /** No such route, object or named thing. */
  NOT_FOUND: 'FAI_ERR_NOT_FOUND',
  /** Configuration (environment or file) is invalid. */
  CONFIG: 'FAI_ERR_CONFIG',
  /** A backend the operation needs is not reachable. */
  UNAVAILABLE: 'FAI_ERR_UNAVAILABLE',
  /** An operation took longer than allowed. */
  TIMEOUT: 'FAI_ERR_TIMEOUT',
  /** The client's request body stopped making progress (an upload that stalled). */
  REQUEST_TIMEOUT: 'FAI_ERR_REQUEST_TIMEOUT',
  /** Stored data failed its integrity check (a block whose bytes do not hash to its CID). */
  INTEGRITY: 'FAI_ERR_INTEGRITY',
  /** The disk is full or read-only, or another storage failure that is not the caller's. */
  STORAGE: 'FAI_ERR_STORAGE',
  /** The request carries no credentials, or wrong ones (the operator token, the webhook's token). */
  UNAUTHORIZED: 'FAI_ERR_UNAUTHORIZED',
  /** Too many requests from one client, or more queued work than the service takes (training jobs). */
  TOO_MANY_REQUESTS: 'FAI_ERR_TOO_MANY_REQUESTS',
  /** Another run of the same runbook holds the lock. */
  RUNBOOK_LOCKED: 'FAI_ERR_RUNBOOK_LOCKED',
  /** A destructive action was asked for without --yes or an approval. */
  CONFIRMATION_REQUIRED: 'FAI_ERR_CONFIRMATION_REQUIRED',
  /** An action applied, but checking its effect from outside failed (it was undone). */
  VERIFICATION_FAILED: 'FAI_ERR_VERIFICATION_FAILED',
  /** The capability this needs does not exist yet. */
  NOT_AVAILABLE: 'FAI_ERR_NOT_AVAILABLE',
  /** A bug or an unexpected failure; never used for bad input. */
  INTERNAL: 'FAI_ERR_INTERNAL',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export interface FaiErrorOptions {
  /** The input field (dotted path) that caused the error, when there is one. */
  field?: string;
  /** Structured, JSON-serialisable detail for callers. */
  details?: unknown;
  cause?: unknown;
}

export class FaiError extends Error {
  readonly code: ErrorCode;
  readonly field: string | undefined;
  readonly details: unknown;

  constructor(code: ErrorCode, message: string, options: FaiErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FaiError';
    this.code = code;
    this.field = options.field;
    this.details = options.details;
  }

  toJSON(): { code: ErrorCode; message: string; field?: string; details?: unknown } {
    return {
      code: this.code,
      message: this.message,
      ...(this.field === undefined ? {} : { field: this.field }),
      ...(this.details === undefined ? {} : { details: this.details }),
    };
  }
}

export function isFaiError(error: unknown): error is FaiError {
  return error instanceof FaiError;
}
