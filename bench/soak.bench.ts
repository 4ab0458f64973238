/**
 * The hardening soak (issue 18): the service as `make run` starts it (bin/fai.js serve) with a real,
 * durable Redis, under mixed traffic for SOAK_SECONDS (default 300), while
 *   - hub gc runs every 500 ms beside the stores (HUB_GC_GRACE_SECONDS=0: only the hub's own
 *     tracking of its stores in flight, and a second of file-clock slack, keep their blocks);
 *   - Redis is SIGKILLed a third of the way in and restarted 10 s later;
 *   - `fai runbook clear-cache --yes` is SIGKILLed mid-run two thirds of the way in (200,000 cache
 *     keys, killed once it applies), then a dry run takes the lock it left;
 *   - (issue 29) recipes re-posted while they are pinned (every pin answered must hold), a pinned
 *     checkpoint's root block damaged halfway (gc must abort with nothing removed), and 200 trials
 *     of the stale-lock race beside the traffic (no two holders).
 * It reports: acknowledged writes read back (none may be lost), 5xx inside and outside the Redis
 * outage (none outside), requests that hung past 10 s, the service's RSS and its slope over the
 * second half, the V8 heap in use per minute and its floor (the lowest sample of each minute, after a
 * collection: flat when the last minute's floor is within 16 MB of the first's; the mean and the slope
 * swing with the sawtooth between collections, and RSS also measures the allocator keeping freed
 * pages), and whether every lock was recovered and recorded.
 *
 *   make bench-soak            SOAK_SECONDS=60 make bench-soak  (a shorter run)
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { NextToLast } from 'blockstore-fs/sharding';
import { Redis } from 'ioredis';
import { CID } from 'multiformats/cid';
import { AuditLog } from '../src/runbooks/index.ts';
import { raceForDeadLock } from '../test/helpers/lock-race.ts';
import { freePort, startRedis, stopChild, waitFor } from '../test/helpers/servers.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SECONDS = Number(process.env.SOAK_SECONDS ?? 300);
const TOKEN = `soak-${randomBytes(12).toString('hex')}`;
const AUTH = { authorization: `Bearer ${TOKEN}` };
const REQUEST_TIMEOUT_MS = 10_000;
const CACHE_KEYS = 200_000;

if (!Number.isFinite(SECONDS) || SECONDS < 30) {
  process.stderr.write(`SOAK_SECONDS: ${process.env.SOAK_SECONDS} is not a number of seconds ≥ 30\n`);
  process.exit(64);
}

const dir = await mkdtemp(join(tmpdir(), 'fai-soak-'));
const redis = await startRedis({ persistent: true });
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const deploymentFile = join(dir, 'deployment.json');
await writeFile(deploymentFile, JSON.stringify({ stateDir: join(dir, 'runbooks'), service: base, redisUrl: redis.url, cachePrefix: 'fai:cache:' }));

const service: ChildProcess = spawn(process.execPath, [join(ROOT, 'bin/fai.js'), 'serve'], {
  cwd: ROOT,
  env: { ...process.env, PORT: String(port), REDIS_URL: redis.url, HUB_DIR: join(dir, 'hub'), FAI_ADMIN_TOKEN: TOKEN, RATE_LIMIT_PER_MINUTE: '0', HUB_GC_GRACE_SECONDS: '0', LOG_LEVEL: 'warn', FAI_DEPLOYMENT: deploymentFile },
  stdio: ['ignore', 'ignore', 'pipe'],
});
let serviceLog = '';
service.stderr?.on('data', (chunk) => (serviceLog += chunk));
await waitFor('the service', async () => (await fetch(`${base}/health`).then((r) => r.status === 200).catch(() => false)), 60_000);

const check = await readFile(join(ROOT, 'examples/edp-fresh-citrus.json'), 'utf8');
const outages: Array<{ from: number; to: number }> = [];
const inOutage = (at: number) => outages.some((o) => at >= o.from && at <= o.to);
const statuses = new Map<string, number>();
let fiveInside = 0;
let fiveOutside = 0;
let hung = 0;
let requests = 0;
const outsideSamples: string[] = [];
const acknowledged: Array<{ cid: string; kind: 'recipe' | 'checkpoint'; body: string | Uint8Array }> = [];

/** While a pinned checkpoint's block is damaged on purpose (below), gc answers 5xx by design. */
let gcDamaged = false;
let gcExpected5xx = 0;

async function call(method: string, path: string, body?: string | Uint8Array, contentType = 'application/json', operator = false): Promise<Response | null> {
  const at = Date.now();
  requests++;
  try {
    const response = await fetch(`${base}${path}`, {
      method,
      ...(body === undefined ? {} : { body }),
      headers: { ...(body === undefined ? {} : { 'content-type': contentType }), ...(operator ? AUTH : {}) },
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const key = `${method} ${path.split('?')[0]!.replace(/\/baf[a-z0-9]+|\/bag[a-z0-9]+/, '/:cid')} ${response.status}`;
    statuses.set(key, (statuses.get(key) ?? 0) + 1);
    if (response.status >= 500) {
      // An outage's 503s are expected; the window includes the reconnect after the restart.
      if (gcDamaged && path === '/v1/hub/gc') gcExpected5xx++;
      else if (inOutage(at) || inOutage(Date.now())) fiveInside++;
      else {
        fiveOutside++;
        if (outsideSamples.length < 5) outsideSamples.push(`${key}: ${(await response.clone().text()).slice(0, 160)}`);
      }
    }
    return response;
  } catch (error) {
    if ((error as Error).name === 'TimeoutError') hung++;
    statuses.set(`${method} ${path.split('?')[0]} failed`, (statuses.get(`${method} ${path.split('?')[0]} failed`) ?? 0) + 1);
    return null;
  }
}

const deadline = Date.now() + SECONDS * 1000;
let i = 0;
async function traffic(): Promise<void> {
  while (Date.now() < deadline) {
    const n = i++;
    const pick = n % 20;
    if (pick < 6) await (await call('POST', '/v1/compliance/check', check))?.arrayBuffer();
    else if (pick < 8) await (await call('POST', '/v1/formulas', JSON.stringify({ text: `a fresh citrus cologne for summer, number ${n % 50}` })))?.arrayBuffer();
    else if (pick < 13) {
      const body = JSON.stringify({ name: `soak recipe ${n}`, nonce: randomBytes(8).toString('hex'), formula: [{ material: 'Hedione', concentrationPct: 20 }] });
      const response = await call('POST', '/v1/hub/recipes?tags=soak', body, 'application/json', true);
      if (response?.status === 201) acknowledged.push({ cid: ((await response.json()) as { cid: string }).cid, kind: 'recipe', body });
      else await response?.arrayBuffer();
    } else if (pick < 17 && acknowledged.length > 0) {
      await (await call('GET', `/v1/hub/objects/${acknowledged[n % acknowledged.length]!.cid}`))?.arrayBuffer();
    } else if (pick === 17) {
      const bytes = randomBytes(64 * 1024 + (n % 1000));
      const response = await call('POST', '/v1/hub/checkpoints?tags=soak', bytes, 'application/octet-stream', true);
      if (response?.status === 201) acknowledged.push({ cid: ((await response.json()) as { cid: string }).cid, kind: 'checkpoint', body: new Uint8Array(bytes) });
      else await response?.arrayBuffer();
    } else await (await call('GET', pick === 18 ? '/metrics' : '/health'))?.arrayBuffer();
    await new Promise((resolve) => setTimeout(resolve, 80));
  }
}

let gcRuns = 0;
let gcRemoved = 0;
async function collector(): Promise<void> {
  while (Date.now() < deadline) {
    const response = await call('POST', '/v1/hub/gc', undefined, undefined, true);
    if (response?.status === 200) {
      gcRuns++;
      gcRemoved += ((await response.json()) as { removed: number }).removed;
    } else await response?.arrayBuffer();
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

const rss: Array<{ at: number; mb: number }> = [];
const heap: Array<{ at: number; mb: number }> = [];
async function sampler(): Promise<void> {
  while (Date.now() < deadline) {
    const status = await readFile(`/proc/${service.pid}/status`, 'utf8').catch(() => '');
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
    if (Number.isFinite(kb)) rss.push({ at: Date.now(), mb: kb / 1024 });
    // The V8 heap in use, from the service's own /metrics (prom-client's process metrics).
    const text = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(5_000) }).then((r) => r.text()).catch(() => '');
    const used = Number(/^nodejs_heap_size_used_bytes (\S+)$/m.exec(text)?.[1] ?? NaN);
    if (Number.isFinite(used)) heap.push({ at: Date.now(), mb: used / 1024 / 1024 });
    await new Promise((resolve) => setTimeout(resolve, 2_000));
  }
}

async function redisOutage(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, (SECONDS * 1000) / 3));
  const outage = { from: Date.now(), to: Number.POSITIVE_INFINITY };
  outages.push(outage);
  await redis.kill();
  process.stderr.write(`soak: Redis killed at ${Math.round((outage.from - started) / 1000)} s\n`);
  await new Promise((resolve) => setTimeout(resolve, 10_000));
  await redis.restart();
  await waitFor('the service sees Redis again', async () => (await fetch(`${base}/health`).then((r) => r.status === 200).catch(() => false)), 30_000);
  // 503s answered within the next two seconds belong to the reconnect.
  outage.to = Date.now() + 2_000;
  process.stderr.write(`soak: Redis back after ${Math.round((outage.to - outage.from) / 1000)} s\n`);
}

const locks = { runbookKilled: false, startedEntryLeft: false, recovered: false, recoveryRecorded: false, auditChainHolds: false, dryRunExit: -1 };
async function killedRunbook(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, (SECONDS * 2000) / 3));
  const seed = new Redis(redis.url);
  for (let k = 0; k < CACHE_KEYS; k += 5_000) {
    const pipeline = seed.pipeline();
    for (let j = k; j < k + 5_000; j++) pipeline.set(`fai:cache:soak:${j}`, 'x');
    await pipeline.exec();
  }
  const run = spawn(process.execPath, [join(ROOT, 'bin/fai.js'), 'runbook', 'clear-cache', '--yes'], { cwd: ROOT, env: { ...process.env, FAI_DEPLOYMENT: deploymentFile }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  run.stdout?.on('data', (chunk) => (out += chunk));
  run.stderr?.on('data', (chunk) => (out += chunk));
  await waitFor('clear-cache applying', async () => out.includes('apply:') || run.exitCode !== null, 60_000);
  await new Promise((resolve) => setTimeout(resolve, 20));
  run.kill('SIGKILL');
  await new Promise((resolve) => run.once('close', resolve));
  locks.runbookKilled = true;
  const left = Number(await seed.eval("return #redis.call('keys', 'fai:cache:soak:*')", 0));
  process.stderr.write(`soak: clear-cache SIGKILLed mid-run (${CACHE_KEYS - left} of ${CACHE_KEYS} keys deleted)\n`);
  seed.disconnect();
  const audit = new AuditLog(join(dir, 'runbooks', 'audit.jsonl'));
  locks.startedEntryLeft = (await audit.entries()).some((e) => e.runbook === 'clear-cache' && e.outcome === 'started');
  const dry = spawn(process.execPath, [join(ROOT, 'bin/fai.js'), 'runbook', 'clear-cache', '--dry-run'], { cwd: ROOT, env: { ...process.env, FAI_DEPLOYMENT: deploymentFile }, stdio: ['ignore', 'pipe', 'pipe'] });
  let dryOut = '';
  dry.stdout?.on('data', (chunk) => (dryOut += chunk));
  dry.stderr?.on('data', (chunk) => (dryOut += chunk));
  locks.dryRunExit = await new Promise<number>((resolve) => dry.once('close', (code) => resolve(code ?? -1)));
  locks.recovered = /recovered the deployment lock/.test(dryOut);
  const entries = await audit.entries();
  locks.recoveryRecorded = entries.some((e) => e.outcome === 'recovered' && /clear-cache/.test(e.detail));
  locks.auditChainHolds = (await audit.verify()) === null;
}

// Store and pin racing on the same CID (issue 29): a recipe re-posted while it is being pinned. Every
// pin answered `pinned: true` must stay pinned, with no expiry, to the end.
const pinsAnswered: string[] = [];
async function storePinRace(): Promise<void> {
  let k = 0;
  while (Date.now() < deadline) {
    const body = JSON.stringify({ name: `pinned soak recipe ${k++}`, nonce: randomBytes(8).toString('hex') });
    const first = await call('POST', '/v1/hub/recipes?tags=first', body, 'application/json', true);
    if (first?.status !== 201) {
      await first?.arrayBuffer();
      await new Promise((resolve) => setTimeout(resolve, 200));
      continue;
    }
    const { cid } = (await first.json()) as { cid: string };
    const [again, pin] = await Promise.all([
      call('POST', '/v1/hub/recipes?tags=again', body, 'application/json', true),
      new Promise((resolve) => setTimeout(resolve, k % 4)).then(() => call('PUT', `/v1/hub/objects/${cid}/pin`, undefined, undefined, true)),
    ]);
    await again?.arrayBuffer();
    if (pin?.status === 200 && ((await pin.json()) as { pinned: boolean }).pinned) pinsAnswered.push(cid);
    else await pin?.arrayBuffer();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// gc meets a block it cannot read (issue 29): a pinned 3 MiB checkpoint's root block is damaged on
// disk halfway through; gc must abort with nothing removed, and once the block is back, restore works.
const gcReadError = { injected: false, abortedAnswers: 0, lostAfterRepair: -1 };
async function gcOnADamagedBlock(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, (SECONDS * 1000) / 2));
  const bytes = randomBytes(3 * 1024 * 1024);
  // Stored and pinned once Redis answers (the outage may still be on at half time).
  let cid: string | undefined;
  while (cid === undefined && Date.now() < deadline) {
    const stored = await fetch(`${base}/v1/hub/checkpoints?tags=gc-read-error`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/octet-stream' }, body: bytes }).catch(() => null);
    const pinned = stored?.status === 201 ? await fetch(`${base}/v1/hub/objects/${((await stored.json()) as { cid: string }).cid}/pin`, { method: 'PUT', headers: AUTH }).catch(() => null) : null;
    if (pinned?.status === 200) cid = ((await pinned.json()) as { cid: string }).cid;
    else await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
  if (cid === undefined) return;
  const { dir: shard, file } = new NextToLast().encode(CID.parse(cid));
  const rootFile = join(dir, 'hub', 'blocks', shard, file);
  const original = await readFile(rootFile);
  gcDamaged = true;
  await writeFile(rootFile, Buffer.from('a damaged root block'));
  gcReadError.injected = true;
  for (let k = 0; k < 3; k++) {
    const response = await fetch(`${base}/v1/hub/gc`, { method: 'POST', headers: AUTH }).catch(() => null);
    if (response !== null && response.status >= 500 && /nothing removed/.test(await response.text())) gcReadError.abortedAnswers++;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  await writeFile(rootFile, original);
  // gc calls already in flight may still answer from the damaged block: give them a moment.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  gcDamaged = false;
  const back = await fetch(`${base}/v1/hub/objects/${cid}`).catch(() => null);
  gcReadError.lostAfterRepair = back?.status === 200 && Buffer.from(await back.arrayBuffer()).equals(bytes) ? 0 : 1;
}

// The stale-lock race (issue 29), beside the traffic: 200 trials of 4 callers taking over a lock a
// dead process left; no trial may have two holders at once.
const lockRace = { trials: 0, doubles: 0 };
async function staleLockRace(): Promise<void> {
  const deadPid = spawnSync(process.execPath, ['-e', '']).pid!;
  await mkdir(join(dir, 'locks'), { recursive: true });
  for (let trial = 0; trial < 200 && Date.now() < deadline; trial++) {
    const { most } = await raceForDeadLock(join(dir, 'locks', `race-${trial}.lock`), deadPid, { waitMs: 10_000, label: 'soak racer' });
    lockRace.trials++;
    if (most > 1) lockRace.doubles++;
  }
}

const started = Date.now();
process.stderr.write(`soak: ${SECONDS} s of mixed traffic against ${base} (Redis ${redis.url})\n`);
await Promise.all([traffic(), traffic(), traffic(), traffic(), collector(), sampler(), redisOutage(), killedRunbook(), storePinRace(), gcOnADamagedBlock(), staleLockRace()]);

// Every acknowledged write, read back and compared.
await waitFor('Redis answering for the read-back', async () => (await fetch(`${base}/health`).then((r) => r.status === 200).catch(() => false)), 30_000);
let lost = 0;
const lostSamples: string[] = [];
for (const write of acknowledged) {
  const response = await fetch(`${base}/v1/hub/objects/${write.cid}`).catch(() => null);
  let same = false;
  if (response?.status === 200) {
    if (write.kind === 'checkpoint') same = Buffer.from(await response.arrayBuffer()).equals(Buffer.from(write.body as Uint8Array));
    // dag-json orders keys: compared as values, not as text.
    else same = isDeepStrictEqual(((await response.json()) as { data: unknown }).data, JSON.parse(write.body as string));
  }
  if (!same) {
    lost++;
    if (lostSamples.length < 5) lostSamples.push(`${write.kind} ${write.cid}: ${response?.status ?? 'no answer'}`);
  }
}

// Every pin answered pinned: true, still pinned and without an expiry.
const check2 = new Redis(redis.url);
let pinsLost = 0;
for (const cid of pinsAnswered) {
  const [pinned, ttl] = [await check2.hget(`fai:hub:object:${cid}`, 'pinned'), await check2.ttl(`fai:hub:object:${cid}`)];
  if (pinned !== '1' || ttl !== -1) pinsLost++;
}
check2.disconnect();

// Memory slopes over the second half (after warm-up and the outage's allocations), by least squares.
const slopeOf = (series: Array<{ at: number; mb: number }>): number => {
  const half = series.filter((s) => s.at >= started + (SECONDS * 1000) / 2);
  if (half.length < 3) return NaN;
  const xs = half.map((s) => (s.at - half[0]!.at) / 60_000);
  const ys = half.map((s) => s.mb);
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  const num = xs.reduce((a, x, k) => a + (x - mx) * (ys[k]! - my), 0);
  const den = xs.reduce((a, x) => a + (x - mx) ** 2, 0);
  return num / den;
};
const slope = slopeOf(rss);
const heapSlope = slopeOf(heap);
// The heap's floor per minute (its lowest sample: after a collection). A leak raises the floor; the
// sawtooth between collections moves the mean and the slope by tens of MB without leaking anything.
const floors = Array.from({ length: Math.ceil(SECONDS / 60) }, (_, m) => heap.filter((s) => s.at >= started + m * 60_000 && s.at < started + (m + 1) * 60_000).map((s) => s.mb))
  .filter((values) => values.length > 0)
  .map((values) => Math.min(...values));
const floorGrowth = floors.length < 2 ? NaN : floors.at(-1)! - floors[0]!;
const minute = (series: Array<{ at: number; mb: number }>) =>
  Array.from({ length: Math.ceil(SECONDS / 60) }, (_, m) => series.filter((s) => s.at >= started + m * 60_000 && s.at < started + (m + 1) * 60_000).map((s) => s.mb))
    .map((values) => (values.length === 0 ? '-' : (values.reduce((a, b) => a + b, 0) / values.length).toFixed(0)))
    .join(' → ');

await stopChild(service, 'SIGTERM');
await redis.stop();
await rm(dir, { recursive: true, force: true });

const rows: Array<[string, string, boolean | null]> = [
  ['duration', `${SECONDS} s, ${requests} requests (${(requests / SECONDS).toFixed(1)} req/s)`, null],
  ['acknowledged writes read back', `${acknowledged.length - lost} of ${acknowledged.length} (${lost} lost)`, lost === 0],
  ['hub gc beside the stores', `${gcRuns} runs, ${gcRemoved} blocks removed; ${gcExpected5xx} aborted while a block was damaged on purpose`, gcRuns > 0],
  ['5xx outside the Redis outage', String(fiveOutside), fiveOutside === 0],
  ['5xx inside the Redis outage (expected)', String(fiveInside), null],
  ['requests that hung past 10 s', String(hung), hung === 0],
  ['service RSS', rss.length === 0 ? 'not sampled' : `${rss[0]!.mb.toFixed(0)} MB → ${rss.at(-1)!.mb.toFixed(0)} MB (max ${Math.max(...rss.map((s) => s.mb)).toFixed(0)})`, null],
  ['RSS, mean per minute', `${minute(rss)} MB`, null],
  ['V8 heap in use, mean per minute', `${minute(heap)} MB`, null],
  ['RSS slope, second half', `${slope.toFixed(2)} MB/min`, null],
  ['V8 heap-in-use slope, second half (sawtooth included)', `${heapSlope.toFixed(2)} MB/min`, null],
  ['V8 heap floor per minute (the leak test: last ≤ first + 16 MB)', `${floors.map((f) => f.toFixed(0)).join(' → ')} MB (${floorGrowth >= 0 ? '+' : ''}${floorGrowth.toFixed(0)} MB)`, floorGrowth <= 16],
  ['runbook SIGKILLed mid-run; its intent in the audit log', `${locks.runbookKilled ? 'killed' : 'not killed'}; started entry ${locks.startedEntryLeft ? 'left' : 'missing'}`, locks.runbookKilled && locks.startedEntryLeft],
  ['pins answered while a store of the same CID raced them: lost', `${pinsLost} of ${pinsAnswered.length}`, pinsLost === 0 && pinsAnswered.length > 0],
  ['gc on a damaged block of a pinned checkpoint: aborted, nothing removed', `${gcReadError.injected ? 'injected' : 'not injected'}; ${gcReadError.abortedAnswers} of 3 gc runs aborted; after the repair ${gcReadError.lostAfterRepair === 0 ? 'restored whole' : 'LOST'}`, gcReadError.injected && gcReadError.abortedAnswers === 3 && gcReadError.lostAfterRepair === 0],
  ['stale-lock race beside the traffic: double holders', `${lockRace.doubles} in ${lockRace.trials} trials of 4 callers`, lockRace.doubles === 0 && lockRace.trials > 0],
  ['its lock recovered by the next run, and recorded', `dry run exit ${locks.dryRunExit}; recovered ${locks.recovered}; recorded ${locks.recoveryRecorded}; audit chain ${locks.auditChainHolds ? 'holds' : 'broken'}`, locks.dryRunExit === 0 && locks.recovered && locks.recoveryRecorded && locks.auditChainHolds],
];
process.stdout.write('\nsoak (issues 18 and 29)\n');
for (const [what, value, ok] of rows) process.stdout.write(`  ${ok === null ? '    ' : ok ? 'ok  ' : 'FAIL'}  ${what.padEnd(56)} ${value}\n`);
if (outsideSamples.length > 0) process.stdout.write(`  5xx outside the outage, e.g.:\n${outsideSamples.map((s) => `    ${s}`).join('\n')}\n`);
if (lostSamples.length > 0) process.stdout.write(`  lost, e.g.:\n${lostSamples.map((s) => `    ${s}`).join('\n')}\n`);
process.stdout.write(`  answers by route and status:\n${[...statuses].sort().map(([k, v]) => `    ${k}: ${v}`).join('\n')}\n`);
if (rows.some(([, , ok]) => ok === false)) {
  if (serviceLog !== '') process.stdout.write(`  service log (tail):\n${serviceLog.slice(-2000)}\n`);
  process.exitCode = 1;
}
