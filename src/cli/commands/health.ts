import type { HealthReport, RowVerdict, ThresholdReport, ThresholdStatus } from '../../ops/index.ts';
import { ExitCodes } from '../exit-codes.ts';
import { callService, parseTimeout, readJson, serviceUrl } from '../service-client.ts';
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
    case 'count':
      return String(value);
    case 'per_day':
      return `${value}/day`;
    case 'per_hour':
      return `${value}/h`;
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
    row.warning === null ? '—' : formatBound(row, row.warning),
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

/** Asks a running service for its health and threshold verdicts; returns the exit code. */
export async function health(options: HealthOptions, write: (text: string) => void = (text) => process.stdout.write(text)): Promise<number> {
  const base = serviceUrl(options.url);
  const timeoutMs = parseTimeout(options.timeout);
  const healthUrl = new URL('/health', base);
  const thresholdsUrl = new URL('/health/thresholds', base);
  const [healthReport, thresholds] = await Promise.all([
    callService(healthUrl, { timeoutMs, accept: [503] }).then((response) => readJson<HealthReport>(response, healthUrl)),
    callService(thresholdsUrl, { timeoutMs }).then((response) => readJson<ThresholdReport>(response, thresholdsUrl)),
  ]);
  write(options.json ? `${JSON.stringify({ health: healthReport, thresholds }, null, 2)}\n` : renderHealth(base.origin, healthReport, thresholds));
  return healthExitCode(healthReport, thresholds);
}
