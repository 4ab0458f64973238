import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { catalogue, createMetrics, readSamples } from '../../src/metrics/index.ts';
import { parseNvidiaSmiComputeApps, startVramSampler } from '../../src/system/index.ts';

// No GPU exists on these machines: a script that answers like nvidia-smi stands in for the driver (DESIGN.md: test doubles only at edges we cannot run).
let dir: string;
async function fakeNvidiaSmi(name: string, body: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `#!/bin/sh\n${body}\n`);
  await chmod(path, 0o755);
  return path;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fai-gpu-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('parseNvidiaSmiComputeApps', () => {
  it('reads "pid, MiB" lines into bytes per process, summed over the GPUs it uses', () => {
    const used = parseNvidiaSmiComputeApps('4242, 18432\n4242, 1024\n777, 512\n');
    assert.equal(used.get(4242), 19456 * 1024 * 1024);
    assert.equal(used.get(777), 512 * 1024 * 1024);
    assert.equal(parseNvidiaSmiComputeApps('').size, 0, 'no process on any GPU');
  });

  it('rejects output it does not understand instead of guessing', () => {
    assert.throws(() => parseNvidiaSmiComputeApps('4242, [N/A]\n'), /unexpected nvidia-smi line/);
    assert.throws(() => parseNvidiaSmiComputeApps('NVIDIA-SMI has failed\n'), /unexpected/);
  });
});

describe('worker_vram_bytes', () => {
  const vram = async (metrics: ReturnType<typeof createMetrics>) => readSamples(metrics.registry, catalogue.workerVramBytes);

  it('is absent, not zero, without nvidia-smi', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const sampler = startVramSampler(metrics, { workerId: 'w', model: 'qwen', command: join(dir, 'missing-nvidia-smi'), intervalMs: 60_000 });
    await sampler.sampleOnce();
    sampler.stop();
    assert.equal(sampler.available, false);
    assert.deepEqual(await vram(metrics), []);
  });

  it("reports each worker's own process's GPU memory, not the whole GPU's", async () => {
    // Two workers share GPU 0: 20000 MiB in use on it, 6000 of them pid 1001's, 14000 pid 1002's (1002 also holds 4000 on GPU 1).
    const command = await fakeNvidiaSmi('smi-ok', `[ "$1" = "--query-compute-apps=pid,used_memory" ] || exit 9\necho "1001, 6000"\necho "1002, 14000"\necho "1002, 4000"`);
    const metrics = createMetrics({ defaultMetrics: false });
    const first = startVramSampler(metrics, { workerId: 'w-1', model: 'qwen', command, intervalMs: 60_000, pid: 1001 });
    const second = startVramSampler(metrics, { workerId: 'w-2', model: 'llama', command, intervalMs: 60_000, pid: 1002 });
    const idle = startVramSampler(metrics, { workerId: 'w-3', model: 'mistral', command, intervalMs: 60_000, pid: 1003 });
    await Promise.all([first.sampleOnce(), second.sampleOnce(), idle.sampleOnce()]);
    for (const sampler of [first, second, idle]) sampler.stop();
    const byWorker = Object.fromEntries((await vram(metrics)).map((s) => [s.labels.worker_id, s.value]));
    assert.deepEqual(byWorker, { 'w-1': 6000 * 1024 * 1024, 'w-2': 18000 * 1024 * 1024, 'w-3': 0 });
  });

  it('removes the series and counts the failure when the driver stops answering', async () => {
    const flag = join(dir, 'broken');
    const command = await fakeNvidiaSmi('smi-flaky', `if [ -e ${flag} ]; then echo "driver gone" >&2; exit 1; fi\necho "$PPID, 1000"`);
    const metrics = createMetrics({ defaultMetrics: false });
    const sampler = startVramSampler(metrics, { workerId: 'w', model: 'mistral', command, intervalMs: 60_000 });
    await sampler.sampleOnce();
    assert.equal((await vram(metrics)).length, 1);
    await writeFile(flag, '');
    await sampler.sampleOnce();
    sampler.stop();
    assert.deepEqual(await vram(metrics), [], 'no stale value');
    const errors = await readSamples(metrics.registry, catalogue.systemErrorsTotal);
    assert.deepEqual(errors, [{ labels: { component: 'system', error_type: 'unavailable' }, value: 1 }]);
  });
});
