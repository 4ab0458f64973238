import { ErrorCodes, FaiError } from '../errors/index.ts';
import { catalogue } from '../metrics/index.ts';
import type { InstanceWindow } from './analysis.ts';

/**
 * What each instance answered between two times, from Prometheus: the counters' values at both
 * ends subtracted (exact counts, not `increase()`'s extrapolation; a counter that restarted in
 * between counts from zero). Only customer traffic counts: scrapes, health probes and the alert
 * webhook are left out.
 */
const NOT_TRAFFIC = 'metrics|health|ops';

type Vector = Array<{ metric: Record<string, string>; value: [number, string] }>;

async function query(prometheus: string, expr: string, at: Date): Promise<Vector> {
  const url = `${prometheus.replace(/\/$/, '')}/api/v1/query?query=${encodeURIComponent(expr)}&time=${at.getTime() / 1000}`;
  let body: { status: string; error?: string; data?: { result: Vector } };
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    body = (await response.json()) as typeof body;
  } catch (error) {
    throw new FaiError(ErrorCodes.UNAVAILABLE, `Prometheus ${prometheus}: ${(error as Error).message}`, { field: 'deployment.prometheus' });
  }
  if (body.status !== 'success') throw new FaiError(ErrorCodes.UNAVAILABLE, `Prometheus rejected ${expr}: ${body.error ?? 'unknown error'}`);
  return body.data?.result ?? [];
}

const growth = (end: number, start: number) => (end >= start ? end - start : end);

export async function readWindow(prometheus: string, instances: { stable: string; canary: string }, from: Date, to: Date): Promise<{ stable: InstanceWindow; canary: InstanceWindow; le: number[] }> {
  const match = `instance=~"${[instances.stable, instances.canary].map((i) => i.replace(/\./g, '\\\\.')).join('|')}",component!~"${NOT_TRAFFIC}"`;
  const exprs = {
    requests: `sum by (instance) (${catalogue.systemOperationsTotal.name}{${match}})`,
    errors: `sum by (instance) (${catalogue.systemErrorsTotal.name}{${match},error_type!="client_error"})`,
    buckets: `sum by (instance, le) (${catalogue.systemRequestDurationSeconds.name}_bucket{${match}})`,
  };
  const [requestsEnd, requestsStart, errorsEnd, errorsStart, bucketsEnd, bucketsStart, retention] = await Promise.all([
    query(prometheus, exprs.requests, to),
    query(prometheus, exprs.requests, from),
    query(prometheus, exprs.errors, to),
    query(prometheus, exprs.errors, from),
    query(prometheus, exprs.buckets, to),
    query(prometheus, exprs.buckets, from),
    query(prometheus, `min by (instance) (${catalogue.shadowRewardRetention.name}{instance="${instances.canary}",source="live"})`, to),
  ]);
  const value = (vector: Vector, instance: string, le?: string) => Number(vector.find((s) => s.metric.instance === instance && (le === undefined || s.metric.le === le))?.value[1] ?? 0);
  const edges = [...new Set(bucketsEnd.map((s) => s.metric.le!))].sort((a, b) => Number(a) - Number(b));
  const window = (address: string): InstanceWindow => {
    const cumulative = edges.map((le) => growth(value(bucketsEnd, address, le), value(bucketsStart, address, le)));
    const bins = cumulative.map((count, i) => Math.max(0, count - (i === 0 ? 0 : cumulative[i - 1]!)));
    const shadow = retention.find((s) => s.metric.instance === address);
    return {
      address,
      requests: growth(value(requestsEnd, address), value(requestsStart, address)),
      errors: growth(value(errorsEnd, address), value(errorsStart, address)),
      latencyBins: bins,
      shadowRetention: shadow === undefined || Number.isNaN(Number(shadow.value[1])) ? null : Number(shadow.value[1]),
    };
  };
  return { stable: window(instances.stable), canary: window(instances.canary), le: edges.map(Number) };
}
