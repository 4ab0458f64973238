export { ErrorCodes, FaiError, isFaiError } from './fai-error.ts';
export type { ErrorCode, FaiErrorOptions } from './fai-error.ts';
export { parseOrThrow } from './validate.ts';
