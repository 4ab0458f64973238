import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { catalogue, createMetrics, readSamples } from '../../src/metrics/index.ts';
import { parseNvidiaSmiMemory, startVramSampler } from '../../src/system/index.ts';

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

describe('parseNvidiaSmiMemory', () => {
  it('reads "index, MiB" lines into bytes', () => {
    const used = parseNvidiaSmiMemory('0, 18432\n1, 1024\n');
    assert.equal(used.get(0), 18432 * 1024 * 1024);
    assert.equal(used.get(1), 1024 * 1024 * 1024);
  });

  it('rejects output it does not understand instead of guessing', () => {
    assert.throws(() => parseNvidiaSmiMemory('0, [N/A]\n'), /unexpected nvidia-smi line/);
    assert.throws(() => parseNvidiaSmiMemory('NVIDIA-SMI has failed\n'), /unexpected/);
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

  it('sums the GPUs visible to the worker', async () => {
    const command = await fakeNvidiaSmi('smi-ok', `[ "$1" = "--query-gpu=index,memory.used" ] || exit 9\necho "0, 20000"\necho "1, 4000"`);
    const metrics = createMetrics({ defaultMetrics: false });
    const all = startVramSampler(metrics, { workerId: 'w-all', model: 'qwen', command, intervalMs: 60_000 });
    const one = startVramSampler(metrics, { workerId: 'w-gpu1', model: 'llama', command, intervalMs: 60_000, visibleDevices: '1' });
    await Promise.all([all.sampleOnce(), one.sampleOnce()]);
    all.stop();
    one.stop();
    const byWorker = Object.fromEntries((await vram(metrics)).map((s) => [s.labels.worker_id, s]));
    assert.equal(byWorker['w-all']?.value, 24000 * 1024 * 1024);
    assert.deepEqual(byWorker['w-gpu1'], { labels: { worker_id: 'w-gpu1', model: 'llama' }, value: 4000 * 1024 * 1024 });
  });

  it('removes the series and counts the failure when the driver stops answering', async () => {
    const flag = join(dir, 'broken');
    const command = await fakeNvidiaSmi('smi-flaky', `if [ -e ${flag} ]; then echo "driver gone" >&2; exit 1; fi\necho "0, 1000"`);
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
