/**
 * What the shadow evaluation costs the customer: p50 and p99 of POST /v1/formulas over HTTP with
 * shadow off, at 5 % (production) and at 100 % (development), in one run, rounds interleaved so
 * drift hits all three alike; printed as ratios to "off". Targets: p99 ratio ≤ 1.01 at 5 %, ≤ 1.10
 * at 100 %. The models are real: a PPO teacher (also production) and its distilled student, trained
 * first (about 20 s). A second "off" instance measured the same way gives the noise floor (A/A).
 *
 *   make bench-shadow
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/index.ts';
import { runTraining, TRAINING_BRIEFS } from '../src/learning/index.ts';
import { writePins, type Pins } from '../src/llm/index.ts';
import { createApp, type App } from '../src/server/index.ts';
import { percentile } from '../src/shadow/index.ts';

const ROUNDS = 10;
const PER_ROUND = 250;

const dir = mkdtempSync(join(tmpdir(), 'fai-bench-shadow-'));
const base = { LOG_LEVEL: 'silent', HUB_DIR: join(dir, 'hub'), PORT: '0', SHADOW_TIMEOUT_MS: '10000' };
process.stderr.write('training a teacher (PPO, 960 episodes) and distilling a student…\n');
const outcome = runTraining({ algo: 'distill', episodes: 960, seed: 7, fromFeedback: false });

async function start(name: string, stage: string, shadowPins: boolean): Promise<{ name: string; app: App; url: string }> {
  const key = name.replace(/[^a-z0-9%]+/gi, "-");
  const pinsFile = join(dir, `${key}-pins.json`);
  const app = createApp(loadConfig({ ...base, SHADOW_STAGE: stage, PINS_FILE: pinsFile, SHADOW_DIR: join(dir, `shadow-${key}`) }));
  const url = await app.listen();
  const store = async (bytes: Uint8Array) => ((await (await fetch(`${url}/v1/hub/checkpoints`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: bytes })).json()) as { cid: string }).cid;
  const teacher = { version: '1.0.0', cid: await store(outcome.teacherCheckpoint!) };
  const student = { version: '1.0.0', cid: await store(outcome.checkpoint) };
  const pins: Pins = { 'formulation-policy': teacher, ...(shadowPins ? { 'formulation-teacher': teacher, 'formulation-student': student } : {}) };
  await writePins(pinsFile, pins);
  await app.reloadPins();
  return { name, app, url };
}

// Two instances with shadow off: their ratio is the noise floor of this measurement (same code, same load).
const configs = [await start('off', 'production', false), await start('off (A/A)', 'production', false), await start('5%', 'production', true), await start('100%', 'development', true)];
const latencies = new Map<string, number[]>(configs.map((c) => [c.name, []]));
let id = 0;
const request = async (url: string) => {
  const brief = TRAINING_BRIEFS[id % TRAINING_BRIEFS.length]!;
  const started = performance.now();
  const response = await fetch(`${url}/v1/formulas`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': `bench-${id++}` }, body: JSON.stringify({ text: brief }) });
  await response.arrayBuffer();
  return performance.now() - started;
};
// Warm-up: every path compiled, models loaded in the shadow threads.
for (const c of configs) for (let i = 0; i < 100; i++) await request(c.url);
for (const c of configs) await c.app.shadow.runner.idle();
for (let round = 0; round < ROUNDS; round++) {
  for (const c of round % 2 === 0 ? configs : [...configs].reverse()) {
    for (let i = 0; i < PER_ROUND; i++) latencies.get(c.name)!.push(await request(c.url));
    // Shadow work left over from this config must not land on the next one's measurements.
    await c.app.shadow.runner.idle();
  }
  process.stderr.write(`round ${round + 1}/${ROUNDS}\n`);
}
const off = latencies.get('off')!;
const p = (values: number[], q: number) => percentile(values, q);
console.log(`POST /v1/formulas over HTTP, ${ROUNDS} × ${PER_ROUND} requests per setting (interleaved rounds)`);
console.log('setting     p50 ms   p99 ms   p50 ratio   p99 ratio   comparisons   dropped');
for (const c of configs) {
  const values = latencies.get(c.name)!;
  const compared = (await c.app.shadow.log.readAll()).comparisons.length;
  const dropped = (await c.app.metrics.registry.getSingleMetric('shadow_dropped_total')?.get())?.values.reduce((a, v) => a + v.value, 0) ?? 0;
  console.log(
    `${c.name.padEnd(10)} ${p(values, 0.5).toFixed(3).padStart(7)} ${p(values, 0.99).toFixed(3).padStart(8)} ${(p(values, 0.5) / p(off, 0.5)).toFixed(3).padStart(11)} ${(p(values, 0.99) / p(off, 0.99)).toFixed(3).padStart(11)} ${String(compared).padStart(13)} ${String(dropped).padStart(9)}`,
  );
}
for (const c of configs) await c.app.close();
