import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { catalogue, createMetrics, readSamples } from '../../src/metrics/index.ts';
import { parseNvidiaSmiComputeApps, slotServers, startVramSampler, type GpuServer } from '../../src/system/index.ts';
import { createApp } from '../../src/server/index.ts';
import { testConfig } from '../helpers/config.ts';
import { freePort, waitFor } from '../helpers/servers.ts';

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

/** A server with fixed pids (the unit tests); `slotServers` finds real ones. */
const server = (workerId: string, model: string, pids: number[]): GpuServer => ({ workerId, model, pids: async () => pids });

describe('worker_vram_bytes', () => {
  const vram = async (metrics: ReturnType<typeof createMetrics>) => readSamples(metrics.registry, catalogue.workerVramBytes);

  it('is absent, not zero, without nvidia-smi', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const sampler = startVramSampler(metrics, { servers: [server('qwen@127.0.0.1:8001', 'qwen', [1001])], command: join(dir, 'missing-nvidia-smi'), intervalMs: 60_000 });
    await sampler.sampleOnce();
    sampler.stop();
    assert.equal(sampler.available, false);
    assert.deepEqual(await vram(metrics), []);
  });

  it("reports each LLM server's own processes' GPU memory (a child's included), not the whole GPU's", async () => {
    // Two servers share GPU 0: 20000 MiB in use on it, 6000 of them qwen's (pid 1001), 14000 llama's engine
    // (pid 2002, a child of its API server 1002, which holds 4000 more on GPU 1). mistral's server holds none.
    const command = await fakeNvidiaSmi('smi-ok', `[ "$1" = "--query-compute-apps=pid,used_memory" ] || exit 9\necho "1001, 6000"\necho "2002, 14000"\necho "1002, 4000"\necho "4444, 9000"`);
    const metrics = createMetrics({ defaultMetrics: false });
    const servers = [server('qwen@127.0.0.1:8001', 'qwen', [1001]), server('llama@127.0.0.1:8002', 'llama', [1002, 2002]), server('mistral@127.0.0.1:8003', 'mistral', [1003]), server('gone@127.0.0.1:8004', 'qwen', [])];
    const sampler = startVramSampler(metrics, { servers, command, intervalMs: 60_000 });
    await sampler.sampleOnce();
    sampler.stop();
    const byServer = Object.fromEntries((await vram(metrics)).map((s) => [s.labels.worker_id, s.value]));
    // 4444 (another user's process on the card) is nobody's here; a server not found has no series.
    assert.deepEqual(byServer, { 'qwen@127.0.0.1:8001': 6000 * 1024 * 1024, 'llama@127.0.0.1:8002': 18000 * 1024 * 1024, 'mistral@127.0.0.1:8003': 0 });
  });

  it('says so when a server\'s processes cannot be looked up (ss failing): no series for it, the others still reported', async () => {
    const command = await fakeNvidiaSmi('smi-two', 'echo "1001, 100"');
    const metrics = createMetrics({ defaultMetrics: false });
    const broken: GpuServer = { workerId: 'llama@127.0.0.1:8002', model: 'llama', pids: async () => Promise.reject(new Error('ss: not found')) };
    const sampler = startVramSampler(metrics, { servers: [server('qwen@127.0.0.1:8001', 'qwen', [1001]), broken], command, intervalMs: 60_000 });
    await sampler.sampleOnce();
    sampler.stop();
    assert.deepEqual((await vram(metrics)).map((s) => s.labels.worker_id), ['qwen@127.0.0.1:8001']);
    assert.deepEqual((await readSamples(metrics.registry, catalogue.systemErrorsTotal)).filter((e) => e.value > 0), [{ labels: { component: 'system', error_type: 'unavailable' }, value: 1 }]);
  });

  it('removes the series and counts the failure when the driver stops answering', async () => {
    const flag = join(dir, 'broken');
    const command = await fakeNvidiaSmi('smi-flaky', `if [ -e ${flag} ]; then echo "driver gone" >&2; exit 1; fi\necho "1001, 1000"`);
    const metrics = createMetrics({ defaultMetrics: false });
    const sampler = startVramSampler(metrics, { servers: [server('mistral@127.0.0.1:8003', 'mistral', [1001])], command, intervalMs: 60_000 });
    await sampler.sampleOnce();
    assert.equal((await vram(metrics)).length, 1);
    await writeFile(flag, '');
    await sampler.sampleOnce();
    sampler.stop();
    assert.deepEqual(await vram(metrics), [], 'no stale value');
    const errors = (await readSamples(metrics.registry, catalogue.systemErrorsTotal)).filter((e) => e.value > 0);
    assert.deepEqual(errors, [{ labels: { component: 'system', error_type: 'unavailable' }, value: 1 }]);
  });
});

describe('the LLM servers behind the slots, found on this host', () => {
  let child: ChildProcess;
  let port: number;
  let grandchildPid: number;
  before(async () => {
    // A stand-in LLM server: an API process on a loopback port whose engine (the GPU holder) is its child, as vLLM runs.
    port = await freePort();
    const script = `const http=require('http');const {spawn}=require('child_process');const e=spawn(process.execPath,['-e','setInterval(()=>{},1e6)'],{stdio:'ignore'});http.createServer((q,r)=>r.end('{}')).listen(${port},'127.0.0.1',()=>console.log(e.pid));process.on('SIGTERM',()=>{e.kill();process.exit(0)});`;
    child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    grandchildPid = Number((await once(child.stdout!, 'data'))[0].toString().trim());
    await writeFile(join(dir, 'engine.pid'), String(grandchildPid));
  });
  after(() => {
    child?.kill('SIGTERM');
  });

  it('finds the server by its loopback port and counts its engine child; a slot on another host is not measured here', async () => {
    const { servers, remote } = slotServers([
      { name: 'qwen', baseUrl: `http://127.0.0.1:${port}/v1` },
      { name: 'llama', baseUrl: 'http://gpu-box.internal:8000/v1' },
    ]);
    assert.deepEqual(remote, ['llama@gpu-box.internal:8000']);
    assert.deepEqual(servers.map((s) => [s.workerId, s.model]), [[`qwen@127.0.0.1:${port}`, 'qwen']]);
    assert.deepEqual((await servers[0]!.pids()).sort(), [child.pid!, grandchildPid].sort());
  });

  it('the service reports the GPU memory of its slot\'s server (an nvidia-smi stand-in listing the engine\'s pid), and the thresholds table judges it', async () => {
    // 22 000 MiB = 23.07 GB: past the 22 GB warning bound.
    const command = await fakeNvidiaSmi('smi-engine', `echo "$(cat ${join(dir, 'engine.pid')}), 22000"\necho "$$, 5"`);
    const app = createApp(testConfig({ PORT: '0', LLM_QWEN_URL: `http://127.0.0.1:${port}/v1`, NVIDIA_SMI: command, GPU_POLL_SECONDS: '1' }));
    try {
      const base = await app.listen();
      let row: { status: string; value: number | null; labels: Record<string, string> | null } | undefined;
      await waitFor('the VRAM row measured', async () => {
        row = ((await (await fetch(`${base}/health/thresholds`)).json()) as { rows: Array<{ id: string; status: string; value: number | null; labels: Record<string, string> | null }> }).rows.find((r) => r.id === 'worker_vram');
        return row?.value !== null && row?.value !== undefined;
      }, 10_000);
      assert.deepEqual([row!.status, row!.value, row!.labels], ['WARNING', 22_000 * 1024 * 1024, { worker_id: `qwen@127.0.0.1:${port}`, model: 'qwen' }]);
      assert.match(await (await fetch(`${base}/metrics`)).text(), new RegExp(`^worker_vram_bytes\\{worker_id="qwen@127.0.0.1:${port}",model="qwen"\\} ${22_000 * 1024 * 1024}$`, 'm'));
    } finally {
      await app.close();
    }
  });
});
