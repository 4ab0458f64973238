import { isFaiError, type ErrorCode } from '../errors/index.ts';

/**
 * The one place error codes become exit codes (sysexits.h numbers, so they do
 * not collide with the health verdicts 0 OK / 1 WARNING / 2 CRITICAL).
 */
export const ExitCodes = {
  OK: 0,
  WARNING: 1,
  CRITICAL: 2,
  USAGE: 64,
  UNAVAILABLE: 69,
  INTERNAL: 70,
  TIMEOUT: 75,
  TEMPFAIL: 75,
  CONFIG: 78,
} as const;

const BY_CODE: Record<ErrorCode, { exitCode: number; advice: string }> = {
  FAI_ERR_VALIDATION: { exitCode: ExitCodes.USAGE, advice: 'fix the named input and run the command again' },
  FAI_ERR_MALFORMED_BODY: { exitCode: ExitCodes.USAGE, advice: 'fix the input file or body and run the command again' },
  FAI_ERR_UNSUPPORTED_MEDIA_TYPE: { exitCode: ExitCodes.USAGE, advice: 'send JSON (or the format the command documents)' },
  FAI_ERR_BODY_TOO_LARGE: { exitCode: ExitCodes.USAGE, advice: 'send a smaller input (see BODY_LIMIT_BYTES)' },
  FAI_ERR_NOT_FOUND: { exitCode: ExitCodes.USAGE, advice: 'check the name; --help lists what exists' },
  FAI_ERR_CONFIG: { exitCode: ExitCodes.CONFIG, advice: 'fix the named environment variable (README, "Configuration")' },
  FAI_ERR_UNAVAILABLE: { exitCode: ExitCodes.UNAVAILABLE, advice: 'is the service running? start it with `make run` or pass --url' },
  FAI_ERR_TIMEOUT: { exitCode: ExitCodes.TIMEOUT, advice: 'the service is slow to answer; try again or raise --timeout' },
  FAI_ERR_REQUEST_TIMEOUT: { exitCode: ExitCodes.TIMEOUT, advice: 'the upload stalled on the way to the service; check the network and try again' },
  FAI_ERR_INTEGRITY: { exitCode: ExitCodes.INTERNAL, advice: 'stored data is corrupt; restore the object from another copy' },
  FAI_ERR_STORAGE: { exitCode: ExitCodes.UNAVAILABLE, advice: 'check free space and write permission of HUB_DIR' },
  FAI_ERR_UNAUTHORIZED: { exitCode: ExitCodes.USAGE, advice: 'pass the right token: FAI_ADMIN_TOKEN for operator commands, ALERT_WEBHOOK_TOKEN for the webhook' },
  FAI_ERR_TOO_MANY_REQUESTS: { exitCode: ExitCodes.TEMPFAIL, advice: 'the service is busy or this client sent too many requests; wait and try again' },
  FAI_ERR_RUNBOOK_LOCKED: { exitCode: ExitCodes.TEMPFAIL, advice: 'another run holds the lock; wait for it (a lock left by a killed run is recovered automatically)' },
  FAI_ERR_CONFIRMATION_REQUIRED: { exitCode: ExitCodes.USAGE, advice: 'read the plan above, then run again with --yes' },
  FAI_ERR_VERIFICATION_FAILED: { exitCode: ExitCodes.CRITICAL, advice: 'any change made was undone; see the audit log (fai runbook audit)' },
  FAI_ERR_NOT_AVAILABLE: { exitCode: ExitCodes.UNAVAILABLE, advice: 'this capability is not built yet' },
  FAI_ERR_INTERNAL: { exitCode: ExitCodes.INTERNAL, advice: 'this is a bug; the log above has the details' },
};

/** Prints one line naming what went wrong and what to do, and returns the exit code. */
export function reportError(error: unknown, write: (line: string) => void = (line) => process.stderr.write(line)): number {
  if (isFaiError(error)) {
    const { exitCode, advice } = BY_CODE[error.code];
    write(`fai: ${error.message} (${error.code}): ${advice}\n`);
    return exitCode;
  }
  write(`fai: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return ExitCodes.INTERNAL;
}
