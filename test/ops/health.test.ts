import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runHealthChecks, type HealthCheck } from '../../src/ops/index.ts';

const up = (name: string, required: boolean): HealthCheck => ({ name, required, check: async () => ({ status: 'up' }) });
const failing = (name: string, required: boolean): HealthCheck => ({
  name,
  required,
  check: async () => {
    throw new Error('connection refused');
  },
});

describe('runHealthChecks', () => {
  it('is healthy when every component answers', async () => {
    const report = await runHealthChecks([up('metrics', true), up('redis', true)], 1000);
    assert.equal(report.status, 'healthy');
    assert.equal(report.services.redis?.status, 'up');
    assert.ok(!Number.isNaN(Date.parse(report.timestamp)));
  });

  it('is unhealthy when a required component is down, and names why', async () => {
    const report = await runHealthChecks([up('metrics', true), failing('redis', true)], 1000);
    assert.equal(report.status, 'unhealthy');
    assert.deepEqual([report.services.redis?.status, report.services.redis?.detail], ['down', 'connection refused']);
  });

  it('is degraded when only an optional component is down', async () => {
    assert.equal((await runHealthChecks([up('metrics', true), failing('llm_qwen', false)], 1000)).status, 'degraded');
  });

  it('treats a check that does not answer in time as down', async () => {
    const hanging: HealthCheck = { name: 'slow', required: true, check: () => new Promise(() => undefined) };
    const report = await runHealthChecks([hanging], 50);
    assert.equal(report.status, 'unhealthy');
    assert.match(report.services.slow?.detail ?? '', /no answer within 50 ms/);
  });
});
