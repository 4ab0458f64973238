import { operatorHeaders } from '../config/index.ts';
import { ErrorCodes, FaiError, type ErrorCode } from '../errors/index.ts';

/** Parses the service base URL a command was given (`--url` / FAI_URL). */
export function serviceUrl(text: string): URL {
  try {
    return new URL(text);
  } catch {
    throw new FaiError(ErrorCodes.VALIDATION, `--url: "${text}" is not a URL`, { field: '--url' });
  }
}

/** Parses `--timeout` (milliseconds). */
export function parseTimeout(text: string): number {
  const timeoutMs = Number(text);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
    throw new FaiError(ErrorCodes.VALIDATION, `--timeout: "${text}" is not a positive number of milliseconds`, { field: '--timeout' });
  }
  return timeoutMs;
}

export interface ServiceRequest {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  body?: Uint8Array | string;
  contentType?: string;
  timeoutMs: number;
  /** Extra request headers (authorization). */
  headers?: Readonly<Record<string, string>>;
  /** An operator route: the request carries FAI_ADMIN_TOKEN from the environment. */
  operator?: boolean;
  /** Statuses that are answers rather than errors (e.g. 503 from /health). */
  accept?: readonly number[];
}

/**
 * One request to the running service. A refused connection, a timeout and an error answer all
 * become FaiErrors: an error answer keeps the service's own code and message, so the CLI prints
 * what the service said.
 */
export async function callService(url: URL, request: ServiceRequest): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: request.method ?? 'GET',
      ...(request.body === undefined ? {} : { body: request.body }),
      headers: { ...(request.body === undefined ? {} : { 'content-type': request.contentType ?? 'application/json' }), ...(request.operator === true ? operatorHeaders() : {}), ...request.headers },
      signal: AbortSignal.timeout(request.timeoutMs),
    });
  } catch (error) {
    if (error instanceof Error && error.name === 'TimeoutError') {
      throw new FaiError(ErrorCodes.TIMEOUT, `${url.href}: no answer within ${request.timeoutMs} ms`, { field: '--url' });
    }
    throw new FaiError(ErrorCodes.UNAVAILABLE, `${url.href}: cannot connect`, { field: '--url', cause: error });
  }
  if (response.ok || (request.accept ?? []).includes(response.status)) return response;
  let body: { error?: { code?: string; message?: string; field?: string } } | undefined;
  try {
    body = (await response.json()) as typeof body;
  } catch {
    body = undefined;
  }
  const code = (body?.error?.code as ErrorCode | undefined) ?? (response.status >= 500 ? ErrorCodes.UNAVAILABLE : ErrorCodes.VALIDATION);
  const known = Object.values(ErrorCodes).includes(code) ? code : ErrorCodes.UNAVAILABLE;
  throw new FaiError(known, body?.error?.message ?? `${url.href}: answered HTTP ${response.status}`, { field: body?.error?.field });
}

export async function readJson<T>(response: Response, url: URL): Promise<T> {
  try {
    return (await response.json()) as T;
  } catch (error) {
    throw new FaiError(ErrorCodes.UNAVAILABLE, `${url.href}: the answer is not JSON: is this the Fragrance AI service?`, { field: '--url', cause: error });
  }
}
