/**
 * What the shadow evaluation costs the customer: p50 and p99 of POST /v1/formulas over HTTP with
 * shadow off, at 5 % (production) and at 100 % (development), in one run, printed as ratios to
 * "off" with 95 % bootstrap intervals. Targets: p99 ratio ≤ 1.01 at 5 %, ≤ 1.10 at 100 %.
 *
 * Each setting is its own `fai serve` process (as `make run` starts it: its own heap, garbage
 * collector and shadow thread); this process only sends requests, one at a time, the four settings
 * interleaved request by request in a seeded random order, so drift and the client's own pauses fall
 * on all alike. A second "off" server measured the same way is the noise floor (A/A). The models are
 * real: a PPO teacher (also production) and its distilled student, trained first (about 20 s).
 *
 *   make bench-shadow            (REQUESTS=4000 per setting)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Random, runTraining, TRAINING_BRIEFS } from '../src/learning/index.ts';
import { writePins, type Pins } from '../src/llm/index.ts';
import { percentile } from '../src/shadow/index.ts';
import { freePort, stopChild, waitFor } from '../test/helpers/servers.ts';

const REQUESTS = Number(process.env.REQUESTS ?? 4000);
const WARM_UP = 200;
const RESAMPLES = 1000;
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'fai-bench-shadow-'));

process.stderr.write('training a teacher (PPO, 960 episodes) and distilling a student…\n');
const outcome = runTraining({ algo: 'distill', episodes: 960, seed: 7, fromFeedback: false });

interface Setting {
  readonly name: string;
  readonly url: string;
  readonly child: ChildProcess;
  readonly latencies: number[];
}

/** A `fai serve` process with the models in its hub and pinned; `shadow` pins the teacher and student too. */
async function start(name: string, stage: string, shadow: boolean): Promise<Setting> {
  const key = name.replace(/[^a-z0-9%]+/gi, '-');
  const port = await freePort();
  const pinsFile = join(dir, `${key}-pins.json`);
  await writePins(pinsFile, {});
  const child = spawn(process.execPath, [join(ROOT, 'bin/fai.js'), 'serve'], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'silent', PORT: String(port), HUB_DIR: join(dir, `hub-${key}`), PINS_FILE: pinsFile, SHADOW_STAGE: stage, SHADOW_DIR: join(dir, `shadow-${key}`), SHADOW_TIMEOUT_MS: '10000' },
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${name} on ${url}`, async () => (await fetch(`${url}/health`)).ok, 60_000);
  const store = async (bytes: Uint8Array) => ((await (await fetch(`${url}/v1/hub/checkpoints`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: bytes })).json()) as { cid: string }).cid;
  const teacher = { version: '1.0.0', cid: await store(outcome.teacherCheckpoint!) };
  const student = { version: '1.0.0', cid: await store(outcome.checkpoint) };
  const pins: Pins = { 'formulation-policy': teacher, ...(shadow ? { 'formulation-teacher': teacher, 'formulation-student': student } : {}) };
  await writePins(pinsFile, pins);
  child.kill('SIGHUP');
  await waitFor(`${name} serving the pinned policy`, async () => ((await (await fetch(`${url}/health/policy`)).json()) as { status: string }).status === 'loaded', 60_000);
  return { name, url, child, latencies: [] };
}

const settings = [await start('off', 'production', false), await start('off (A/A)', 'production', false), await start('5%', 'production', true), await start('100%', 'development', true)];
let id = 0;
async function request(setting: Setting): Promise<number> {
  const brief = TRAINING_BRIEFS[id % TRAINING_BRIEFS.length]!;
  const started = performance.now();
  const response = await fetch(`${setting.url}/v1/formulas`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': `bench-${id++}` }, body: JSON.stringify({ text: brief }) });
  await response.arrayBuffer();
  if (!response.ok) throw new Error(`${setting.name}: HTTP ${response.status}`);
  return performance.now() - started;
}

try {
  // Warm-up: every path compiled, the shadow threads up with their models loaded.
  for (const s of settings) for (let i = 0; i < WARM_UP; i++) await request(s);
  const random = new Random(42);
  const order = [...settings];
  for (let i = 0; i < REQUESTS; i++) {
    for (let k = order.length - 1; k > 0; k--) {
      const j = Math.floor(random.next() * (k + 1));
      [order[k], order[j]] = [order[j]!, order[k]!];
    }
    for (const s of order) s.latencies.push(await request(s));
    if ((i + 1) % 500 === 0) process.stderr.write(`${i + 1}/${REQUESTS} requests per setting\n`);
  }

  // Ratio of a quantile to off's, with a percentile bootstrap interval (each setting resampled on its own).
  const boot = new Random(7);
  const resample = (values: readonly number[]) => Array.from({ length: values.length }, () => values[Math.floor(boot.next() * values.length)]!);
  const off = settings[0]!.latencies;
  const ratio = (values: number[], q: number) => {
    const point = percentile(values, q) / percentile(off, q);
    const draws = Array.from({ length: RESAMPLES }, () => percentile(resample(values), q) / percentile(resample(off), q)).sort((a, b) => a - b);
    return `${point.toFixed(3)} [${draws[Math.floor(0.025 * RESAMPLES)]!.toFixed(3)}, ${draws[Math.floor(0.975 * RESAMPLES)]!.toFixed(3)}]`;
  };
  console.log(`POST /v1/formulas over HTTP: ${REQUESTS} requests per setting, one server process per setting, interleaved request by request`);
  console.log('setting      p50 ms   p99 ms   p50 ratio [95 % CI]       p99 ratio [95 % CI]      comparisons');
  for (const s of settings) {
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    const compared = [...metrics.matchAll(/^shadow_comparisons_total\{[^}]*\} (\d+)/gm)].reduce((a, m) => a + Number(m[1]), 0);
    const dropped = [...metrics.matchAll(/^shadow_dropped_total\{[^}]*\} (\d+)/gm)].reduce((a, m) => a + Number(m[1]), 0);
    console.log(
      `${s.name.padEnd(10)} ${percentile(s.latencies, 0.5).toFixed(3).padStart(8)} ${percentile(s.latencies, 0.99).toFixed(3).padStart(8)}   ${ratio(s.latencies, 0.5).padEnd(24)} ${ratio(s.latencies, 0.99).padEnd(24)} ${String(compared).padStart(6)}${dropped > 0 ? ` (${dropped} dropped)` : ''}`,
    );
  }
} finally {
  await Promise.all(settings.map((s) => stopChild(s.child, 'SIGTERM')));
}
