import type { z } from 'zod';
import { ErrorCodes, FaiError, type ErrorCode } from './fai-error.ts';

/**
 * Validates `input` against a zod schema at an edge (route, config, file read)
 * and throws a FaiError (FAI_ERR_VALIDATION unless `code` says otherwise)
 * naming the first offending field.
 * `where` prefixes the field path ("query", "body", "env") so a caller
 * sees exactly which input to fix.
 */
export function parseOrThrow<S extends z.ZodType>(
  schema: S,
  input: unknown,
  where: string,
  code: ErrorCode = ErrorCodes.VALIDATION,
): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue?.path.map(String).join('.') ?? '';
  const field = path === '' ? where : `${where}.${path}`;
  const message = `${field}: ${issue?.message ?? 'invalid'}`;
  throw new FaiError(code, message, {
    field,
    details: result.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })),
  });
}
