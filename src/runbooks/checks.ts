import { Redis } from 'ioredis';
import { LLM_SLOTS } from '../config/index.ts';
import { ErrorCodes, FaiError } from '../errors/index.ts';
import { classify, thresholdsTable } from '../ops/index.ts';
import { observability } from '../ops/index.ts';
import type { Deployment } from './deployment.ts';
import type { Runbook } from './engine.ts';

type Check = { name: string; ok: boolean; detail: string };

async function probe(name: string, run: () => Promise<string>): Promise<Check> {
  try {
    return { name, ok: true, detail: await run() };
  } catch (error) {
    return { name, ok: false, detail: error instanceof Error ? error.message : String(error) };
  }
}

async function getJson(url: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  return { status: response.status, body: await response.json().catch(() => null) };
}

/** Service, each LLM slot, Redis, Prometheus: a verdict for each, and a failure when any is unhealthy. */
export function healthCheckRunbook(deployment: Deployment): Runbook<Record<string, unknown>> {
  return {
    name: 'health-check',
    description: 'check the service, each LLM slot, Redis and Prometheus; fails when anything is unhealthy',
    destructive: false,
    plan: async () => ({
      summary: ['read-only: probe the service, the LLM slots, Redis and Prometheus'],
      steps: [],
      verify: async () => {
        const checks: Check[] = [
          await probe('service', async () => {
            const { status, body } = await getJson(`${deployment.service}/health`);
            const state = (body as { status?: string } | null)?.status ?? `HTTP ${status}`;
            if (status !== 200) throw new Error(`${state}`);
            return state;
          }),
          ...(await Promise.all(
            LLM_SLOTS.map((model) =>
              probe(`llm ${model}`, async () => {
                const { body } = await getJson(`${deployment.service}/health/llm?model=${model}`);
                const state = (body as { status?: string } | null)?.status ?? 'no answer';
                if (state === 'down') throw new Error('down');
                return state;
              }),
            ),
          )),
          deployment.redisUrl === null
            ? { name: 'redis', ok: true, detail: 'not configured' }
            : await probe('redis', async () => {
                const redis = new Redis(deployment.redisUrl!, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
                redis.on('error', () => undefined);
                try {
                  await redis.connect();
                  return await redis.ping();
                } finally {
                  redis.disconnect();
                }
              }),
          deployment.prometheus === null
            ? { name: 'prometheus', ok: true, detail: 'not configured' }
            : await probe('prometheus', async () => {
                const response = await fetch(`${deployment.prometheus}/-/ready`, { signal: AbortSignal.timeout(5_000) });
                if (!response.ok) throw new Error(`HTTP ${response.status}`);
                return 'ready';
              }),
        ];
        const report = checks.map((c) => `${c.name} ${c.ok ? 'OK' : 'FAIL'} (${c.detail})`).join('; ');
        if (checks.some((c) => !c.ok)) throw new FaiError(ErrorCodes.VERIFICATION_FAILED, `unhealthy: ${report}`);
        return report;
      },
    }),
  };
}

/** Asks Prometheus for `up` and for every thresholds-table row; fails on a CRITICAL row or a target down. */
export function metricsCheckRunbook(deployment: Deployment): Runbook<Record<string, unknown>> {
  return {
    name: 'metrics-check',
    description: 'query Prometheus for up and every row of the thresholds table; fails on a target down or a CRITICAL row',
    destructive: false,
    plan: async () => ({
      summary: ['read-only: query Prometheus'],
      steps: [],
      verify: async () => {
        if (deployment.prometheus === null) throw new FaiError(ErrorCodes.CONFIG, 'deployment: no prometheus configured', { field: 'deployment.prometheus' });
        const query = async (expr: string) => {
          const { body } = await getJson(`${deployment.prometheus}/api/v1/query?query=${encodeURIComponent(expr)}`);
          return ((body as { data?: { result?: Array<{ value: [number, string] }> } } | null)?.data?.result ?? []).map((r) => Number(r.value[1]));
        };
        const up = await query(`up{job="${observability.SERVICE_JOB}"}`);
        const lines = [`up: ${up.length === 0 ? 'no target' : up.join(', ')}`];
        let critical = up.length === 0 || up.some((v) => v !== 1);
        for (const row of thresholdsTable) {
          const values = (await query(observability.rowExpr(row))).filter((v) => !Number.isNaN(v));
          if (values.length === 0) {
            lines.push(`${row.title}: NO_DATA`);
            continue;
          }
          const worst = row.direction === 'above' ? Math.max(...values) : Math.min(...values);
          const status = classify(row, worst);
          if (status === 'CRITICAL') critical = true;
          lines.push(`${row.title}: ${status} (${worst})`);
        }
        const report = lines.join('; ');
        if (critical) throw new FaiError(ErrorCodes.VERIFICATION_FAILED, report);
        return report;
      },
    }),
  };
}
