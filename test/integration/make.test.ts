import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { catalogueEntries } from '../../src/metrics/index.ts';
import { freePort, waitFor } from '../helpers/servers.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('make help', () => {
  it('lists every target of the Makefile with a description', () => {
    const result = spawnSync('make', ['--no-print-directory', 'help'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    const declared = [...readFileSync(`${ROOT}/Makefile`, 'utf8').matchAll(/^([a-zA-Z0-9_-]+):.*?## (.+)$/gm)].map((m) => m[1]!);
    assert.ok(declared.length >= 8);
    for (const target of declared) assert.match(result.stdout, new RegExp(`^\\s+${target}\\s+\\S`, 'm'), target);
    for (const target of ['run', 'test', 'health', 'help']) assert.ok(declared.includes(target), target);
  });
});

describe('make run (the README first command)', () => {
  let child: ChildProcess;
  let base: string;
  let output = '';

  before(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    // Its own process group, so the test can stop make and the service together.
    child = spawn('make', ['--no-print-directory', 'run'], { cwd: ROOT, env: { ...process.env, PORT: String(port) }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (chunk) => (output += chunk));
    child.stderr?.on('data', (chunk) => (output += chunk));
    await waitFor(`make run answering on ${base}`, async () => (await fetch(`${base}/health`)).ok, 60_000).catch((error) => {
      throw new Error(`${String(error)}\n--- make run output ---\n${output}`);
    });
  });

  after(async () => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      process.kill(-child.pid, 'SIGTERM');
      await exited;
    }
  });

  it('serves all 17 guide metric families on /metrics', async () => {
    const text = await (await fetch(`${base}/metrics`)).text();
    const guide = catalogueEntries().filter(([, def]) => def.guide);
    assert.equal(guide.length, 17);
    for (const [, def] of guide) assert.match(text, new RegExp(`^# TYPE ${def.name} ${def.type}$`, 'm'), def.name);
    // system_rps counts traffic, not scrapes and probes: the series is there, at the count of real requests.
    assert.match(text, /^system_requests_total\{service="api"\} \d+/m);
    assert.match(text, /^worker_cpu_percent\{worker_id="api"\} \d/m);
  });

  it('is healthy, and `make health` says so with exit 0', async () => {
    const body = (await (await fetch(`${base}/health`)).json()) as { status: string };
    assert.equal(body.status, 'healthy');
    const result = spawnSync('make', ['--no-print-directory', 'health'], { cwd: ROOT, env: { ...process.env, FAI_URL: base }, encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /Service healthy/);
  });

  it('stops cleanly on SIGTERM, logging the shutdown', async () => {
    assert.ok(child.pid !== undefined);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    process.kill(-child.pid, 'SIGTERM');
    const code = await exited;
    assert.ok(code === 0 || code === null, `make exited ${code}\n${output}`);
    assert.match(output, /shutting down/);
  });
});
