import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { catalogue, createMetrics, readSamples } from '../../src/metrics/index.ts';
import { registerCpuSampler } from '../../src/system/index.ts';

const cpuPercent = async (metrics: ReturnType<typeof createMetrics>) => readSamples(metrics.registry, catalogue.workerCpuPercent);

describe('worker_cpu_percent', () => {
  it('is CPU time since the previous sample over wall time, in percent of one core', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    let wallMs = 0;
    let cpuMicros = 0;
    registerCpuSampler(metrics, { workerId: 'w1', now: () => wallMs, cpuUsage: () => ({ user: cpuMicros, system: 0 }) });
    wallMs = 2_000;
    cpuMicros = 500_000; // 0.5 s of CPU in 2 s
    assert.deepEqual(await cpuPercent(metrics), [{ labels: { worker_id: 'w1' }, value: 25 }]);
    wallMs = 3_000;
    cpuMicros = 2_500_000; // 2 s of CPU in 1 s: two cores busy
    assert.equal((await cpuPercent(metrics))[0]?.value, 200);
  });

  it('drops its series when a sample cannot be taken, so WorkerCpuSamplerStopped can fire (a stale value would hide the stop); it comes back with the next good sample', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    let wallMs = 0;
    let cpuMicros = 0;
    let broken = false;
    registerCpuSampler(metrics, {
      workerId: 'w1',
      now: () => wallMs,
      cpuUsage: () => {
        if (broken) throw new Error('EPERM reading the process accounting');
        return { user: cpuMicros, system: 0 };
      },
    });
    wallMs = 2_000;
    cpuMicros = 200_000;
    assert.equal((await cpuPercent(metrics)).length, 1);
    broken = true;
    wallMs = 4_000;
    assert.deepEqual(await cpuPercent(metrics), [], 'no series: the alert\'s `unless` finds nothing to hide behind');
    broken = false;
    wallMs = 6_000;
    cpuMicros = 400_000;
    assert.equal((await cpuPercent(metrics)).length, 1);
  });

  it('keeps the previous value for a scrape sooner than the minimum interval', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    let wallMs = 0;
    let cpuMicros = 0;
    registerCpuSampler(metrics, { workerId: 'w1', now: () => wallMs, cpuUsage: () => ({ user: cpuMicros, system: 0 }) });
    wallMs = 1_000;
    cpuMicros = 100_000;
    assert.equal((await cpuPercent(metrics))[0]?.value, 10);
    wallMs = 1_010;
    cpuMicros = 110_000;
    assert.equal((await cpuPercent(metrics))[0]?.value, 10);
  });

  it('reads the CPU this process really burns, however busy the machine is', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    registerCpuSampler(metrics, { workerId: 'real', minIntervalMs: 0 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await cpuPercent(metrics);
    // Burn a fixed amount of CPU time (not of wall time: on a loaded machine a wall-time spin may get
    // a small share of a core) and measure the share ourselves, beside the sampler.
    const cpuMicros = () => {
      const usage = process.cpuUsage();
      return usage.user + usage.system;
    };
    const wallFrom = performance.now();
    const cpuFrom = cpuMicros();
    let spin = 0;
    while (cpuMicros() - cpuFrom < 200_000) spin += Math.sqrt(spin + 1);
    const measured = ((cpuMicros() - cpuFrom) / 1000 / (performance.now() - wallFrom)) * 100;
    const busy = (await cpuPercent(metrics))[0]!.value;
    assert.ok(spin > 0);
    assert.ok(busy > measured * 0.7 && busy < measured * 1.3 + 5, `sampler read ${busy}%, measured beside it ${measured}%`);
  });
});
