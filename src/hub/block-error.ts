import { ErrorCodes, FaiError } from '../errors/index.ts';

/**
 * What went wrong with a block: `hash_mismatch` (its bytes do not hash to its CID), `malformed_cid`,
 * `missing_block`, `timeout`, `unavailable` (the shared store did not answer: retry later) or `io`.
 */
export type BlockErrorType = 'hash_mismatch' | 'malformed_cid' | 'missing_block' | 'timeout' | 'unavailable' | 'io';

const CODES: Readonly<Record<BlockErrorType, (typeof ErrorCodes)[keyof typeof ErrorCodes]>> = {
  hash_mismatch: ErrorCodes.INTEGRITY,
  malformed_cid: ErrorCodes.VALIDATION,
  missing_block: ErrorCodes.NOT_FOUND,
  timeout: ErrorCodes.TIMEOUT,
  unavailable: ErrorCodes.UNAVAILABLE,
  io: ErrorCodes.STORAGE,
};

export class BlockError extends FaiError {
  readonly errorType: BlockErrorType;

  constructor(errorType: BlockErrorType, message: string, options: { cause?: unknown; field?: string } = {}) {
    super(CODES[errorType], message, options);
    this.errorType = errorType;
  }
}
