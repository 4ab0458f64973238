import { ErrorCodes, FaiError } from '../errors/index.ts';

/**
 * The Authorization header a client of the service's operator routes sends: the operator token from
 * its environment (FAI_ADMIN_TOKEN: `fai`, the runbooks, the remediation loop). Without one, the
 * request goes out bare and the service's 401 says which variable to set.
 */
export function operatorHeaders(env: Readonly<Record<string, string | undefined>> = process.env): Record<string, string> {
  const token = env.FAI_ADMIN_TOKEN?.trim();
  if (token === undefined || token === '') return {};
  if (/\s/.test(token)) throw new FaiError(ErrorCodes.CONFIG, 'env.FAI_ADMIN_TOKEN: a bearer token holds no spaces', { field: 'env.FAI_ADMIN_TOKEN' });
  return { authorization: `Bearer ${token}` };
}
