import { ErrorCodes, FaiError } from '../../errors/index.ts';
import type { HealthReport, RowVerdict, ThresholdReport, ThresholdStatus } from '../../ops/index.ts';
import { ExitCodes } from '../exit-codes.ts';
import { table } from '../table.ts';

export interface HealthOptions {
  url: string;
  json?: boolean;
  timeout: string;
}

function formatValue(value: number, unit: RowVerdict['unit']): string {
  switch (unit) {
    case 'ms':
      return `${value.toFixed(0)} ms`;
    case 'seconds':
      return value < 1 ? `${(value * 1000).toFixed(0)} ms` : `${value.toFixed(2)} s`;
    case 'ratio':
      return `${(value * 100).toFixed(2)}%`;
    case 'bytes':
      return `${(value / 1e9).toFixed(1)} GB`;
    case 'per_day':
      return `${value}/day`;
    default:
      return String(Math.round(value * 1000) / 1000);
  }
}

function formatNormal(row: RowVerdict): string {
  const { min, max } = row.normal;
  if (min !== undefined && max !== undefined) return `${formatValue(min, row.unit)}–${formatValue(max, row.unit)}`;
  if (max !== undefined) return max === 0 ? formatValue(0, row.unit) : `< ${formatValue(max, row.unit)}`;
  return min === undefined ? '' : `> ${formatValue(min, row.unit)}`;
}

function formatBound(row: RowVerdict, bound: number): string {
  return `${row.direction === 'above' ? '>' : '<'} ${formatValue(bound, row.unit)}`;
}

export function renderHealth(url: string, health: HealthReport, thresholds: ThresholdReport): string {
  const services = Object.entries(health.services).map(([name, s]) => [
    name,
    s.status,
    s.required ? 'required' : 'optional',
    s.latencyMs === undefined ? '' : `${s.latencyMs} ms`,
    s.detail ?? '',
  ]);
  const rows = thresholds.rows.map((row) => [
    row.title,
    row.status,
    row.value === null ? '—' : formatValue(row.value, row.unit),
    formatNormal(row),
    formatBound(row, row.warning),
    formatBound(row, row.critical),
    row.detail,
  ]);
  return [
    `Service ${health.status} (${url}, ${health.timestamp})`,
    table([['COMPONENT', 'STATUS', 'NEED', 'LATENCY', 'DETAIL'], ...services]),
    '',
    `Thresholds ${thresholds.status}`,
    table([['ROW', 'STATUS', 'VALUE', 'NORMAL', 'WARNING', 'CRITICAL', 'DETAIL'], ...rows]),
    '',
  ].join('\n');
}

/** 0 when healthy and every row OK (or without data), 1 on a warning or a degraded service, 2 on a critical row or an unhealthy service. */
export function healthExitCode(health: HealthReport, thresholds: ThresholdReport): number {
  const status: ThresholdStatus = thresholds.status;
  if (health.status === 'unhealthy' || status === 'CRITICAL') return ExitCodes.CRITICAL;
  if (health.status === 'degraded' || status === 'WARNING') return ExitCodes.WARNING;
  return ExitCodes.OK;
}

async function getJson<T>(url: string, timeoutMs: number, acceptStatuses: readonly number[]): Promise<T> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    if (error instanceof Error && error.name === 'TimeoutError') {
      throw new FaiError(ErrorCodes.TIMEOUT, `${url}: no answer within ${timeoutMs} ms`, { field: '--url' });
    }
    throw new FaiError(ErrorCodes.UNAVAILABLE, `${url}: cannot connect`, { field: '--url', cause: error });
  }
  if (!acceptStatuses.includes(response.status)) {
    throw new FaiError(ErrorCodes.UNAVAILABLE, `${url}: answered HTTP ${response.status}`, { field: '--url' });
  }
  try {
    return (await response.json()) as T;
  } catch (error) {
    throw new FaiError(ErrorCodes.UNAVAILABLE, `${url}: the answer is not JSON: is this the Fragrance AI service?`, { field: '--url', cause: error });
  }
}

/** Asks a running service for its health and threshold verdicts; returns the exit code. */
export async function health(options: HealthOptions, write: (text: string) => void = (text) => process.stdout.write(text)): Promise<number> {
  let base: URL;
  try {
    base = new URL(options.url);
  } catch {
    throw new FaiError(ErrorCodes.VALIDATION, `--url: "${options.url}" is not a URL`, { field: '--url' });
  }
  const timeoutMs = Number(options.timeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
    throw new FaiError(ErrorCodes.VALIDATION, `--timeout: "${options.timeout}" is not a positive number of milliseconds`, { field: '--timeout' });
  }
  const [healthReport, thresholds] = await Promise.all([
    getJson<HealthReport>(new URL('/health', base).href, timeoutMs, [200, 503]),
    getJson<ThresholdReport>(new URL('/health/thresholds', base).href, timeoutMs, [200]),
  ]);
  write(options.json ? `${JSON.stringify({ health: healthReport, thresholds }, null, 2)}\n` : renderHealth(base.origin, healthReport, thresholds));
  return healthExitCode(healthReport, thresholds);
}
