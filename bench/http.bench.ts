/**
 * The service's per-request cost over real sockets (issue 26, item 3): autocannon over HTTP on
 * loopback against the service's app (every hook: request accounting, the rate limit, the instance
 * header, validation) and against a bare Fastify app serving the same handlers, each server in a
 * process of its own (bench/http-server.ts), the load from this one. Alternating rounds of a few
 * seconds each; per round the service's requests/s over bare Fastify's; the median ratio with its
 * distribution-free 95 % interval. Routes: a trivial GET, POST /v1/compliance/check (30 regulated
 * materials) and POST /v1/formulas (a structured brief). Goal ≥ 0.95 for the first two.
 *
 * Beside them, the floor: the trivial route on bare Fastify with only what any instrumentation of this
 * kind pays (two synchronous hooks, a clock read in each, one response header), against bare Fastify
 * alike. The service's ratio can pass the floor's only by noise; the distance between them is the service's own code.
 *
 * The rounds are spread over several pairs of server processes, started afresh for each route: one
 * process of the same code can run a few per cent faster or slower than the next for its whole life
 * (how its code was compiled, where its memory fell), and a ratio from one pair would carry that luck
 * whole. Each pair's own median is printed beside the pooled one.
 *
 *   make bench-http      (PAIRS=… server pairs, 3 by default; ROUNDS=… rounds per route and pair; SECONDS=… per
 *                         round; WARMUP=… s of load a side first, 5 by default; CONNECTIONS=…, PIPELINING=…;
 *                         ROUTES=trivial,floor,check,formulas: which routes, all by default; PIN=off: no taskset)
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { availableParallelism } from 'node:os';
import autocannon from 'autocannon';
import { table } from '../src/cli/table.ts';
import { RegulatoryCatalogue } from '../src/regulation/index.ts';
import { processCpuMicros } from '../src/system/index.ts';
import { interval, median } from './stats.ts';

const PAIRS = Number(process.env.PAIRS ?? 3);
const ROUNDS = Number(process.env.ROUNDS ?? 4);
const SECONDS = Number(process.env.SECONDS ?? 3);
/**
 * Seconds of load on each side before its rounds: the ratio is a long-running service's, not its start-up.
 * After one second of warm-up, the first one-second round of the trivial route cost 8–38 % more CPU per
 * request than the later rounds in the service (six processes), 12–19 % in bare Fastify: V8 was still
 * compiling, and the service has more code to compile.
 */
const WARMUP = Number(process.env.WARMUP ?? 5);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 10);
/**
 * Requests in flight per connection. Without pipelining one autocannon process tops out near 30 000
 * requests/s on these 2 cores while either server idles half the time: the ratio would measure the
 * client. With 10 in flight per connection each server is busy, and the ratio is the servers' cost.
 */
const PIPELINING = Number(process.env.PIPELINING ?? 10);
const ROUTES = new Set((process.env.ROUTES ?? 'trivial,floor,check,formulas').split(',').map((route) => route.trim()));
for (const [name, value] of [['PAIRS', PAIRS], ['ROUNDS', ROUNDS], ['SECONDS', SECONDS], ['WARMUP', WARMUP], ['CONNECTIONS', CONNECTIONS], ['PIPELINING', PIPELINING]] as const) {
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a whole number of at least 1 (got ${process.env[name]})`);
}
for (const route of ROUTES) if (!['trivial', 'floor', 'check', 'formulas'].includes(route)) throw new Error(`ROUTES: unknown route "${route}" (known: trivial, floor, check, formulas)`);

/**
 * The servers on one core and the load on the other (taskset), where the machine has two or more and
 * taskset is there; PIN=off turns it off. Unpinned, the scheduler moves the three processes between
 * the cores as it likes, and two identical servers read 6 to 15 % apart in one run here; pinned, within
 * about 1 %. This process runs the load: it starts itself again on core 0.
 */
// Decided before this process pins itself (the pinned one sees a single core): the core the servers get, or none.
const SERVER_CORE =
  process.env.FAI_BENCH_SERVER_CORE ??
  (process.env.PIN !== 'off' && process.platform === 'linux' && availableParallelism() >= 2 && spawnSync('taskset', ['-V']).status === 0 ? String(availableParallelism() - 1) : undefined);
const PINNED = SERVER_CORE !== undefined;
if (PINNED && process.env.FAI_BENCH_SERVER_CORE === undefined) {
  const load = spawnSync('taskset', ['-c', '0', process.execPath, ...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit', env: { ...process.env, FAI_BENCH_SERVER_CORE: SERVER_CORE } });
  process.exit(load.status ?? 1);
}

async function server(side: 'service' | 'bare' | 'floor'): Promise<{ url: string; child: ChildProcess }> {
  const node = [process.execPath, '--import', 'tsx', new URL('./http-server.ts', import.meta.url).pathname, side];
  const [command, ...args] = SERVER_CORE === undefined ? node : ['taskset', '-c', SERVER_CORE, ...node];
  const child = spawn(command!, args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, LOG_LEVEL: 'silent' } });
  const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
  return { url: `http://127.0.0.1:${chunk.toString().trim().split('\n').at(-1)}`, child };
}

interface Case {
  readonly key: string;
  readonly name: string;
  readonly path: string;
  readonly method: 'GET' | 'POST';
  readonly body?: string;
  readonly goal: boolean;
  /** Which server is measured against bare Fastify: the service, or the floor (bench/http-server.ts). */
  readonly side: 'service' | 'floor';
}


/** Requests/s (autocannon's mean over the seconds) and the requests answered in all. */
async function load(url: string, route: Case, seconds: number): Promise<{ rps: number; total: number }> {
  const result = await autocannon({
    url: `${url}${route.path}`,
    method: route.method,
    connections: CONNECTIONS,
    pipelining: PIPELINING,
    duration: seconds,
    ...(route.body === undefined ? {} : { body: route.body, headers: { 'content-type': 'application/json' } }),
  });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${url}${route.path}: ${result.non2xx} answers not 2xx, ${result.errors} errors`);
  return { rps: result.requests.average, total: result.requests.total };
}

/** One round against one server: its requests/s, and the CPU µs it spent per request answered (undefined without /proc). */
async function round(side: { url: string; child: ChildProcess }, route: Case, seconds: number): Promise<{ rps: number; cpuPerRequest: number | undefined }> {
  // The server's CPU time per request is its cost without the load generator's share of the two cores: a round where
  // the client got less of the machine lowers requests/s but not this.
  const before = processCpuMicros(side.child.pid!);
  const { rps, total } = await load(side.url, route, seconds);
  const after = processCpuMicros(side.child.pid!);
  return { rps, cpuPerRequest: before === undefined || after === undefined ? undefined : (after - before) / total };
}

const catalogue = RegulatoryCatalogue.load();
const regulated = catalogue.standards.filter((s) => s.cas.length === 1 && s.limits['4']?.kind === 'limit').slice(0, 30);
const check = { formula: regulated.map((s, i) => ({ material: i % 2 === 0 ? s.name : s.cas[0]!, concentrationPct: 0.01 + (i % 5) * 0.01 })), category: '4', dosagePct: 20 };

interface Pair {
  readonly ours: { url: string; child: ChildProcess };
  readonly bare: { url: string; child: ChildProcess };
}

/** Per round: the service's and bare Fastify's requests/s, their ratio and the CPU/request ratio (bare ÷ service). */
interface Rounds {
  readonly ours: number[];
  readonly bare: number[];
  readonly ratios: number[];
  readonly cpuRatios: number[];
  /** Each pair's median ratio, in the order the pairs ran. */
  readonly pairMedians: number[];
}

/** ROUNDS alternating rounds of one route against one pair, after a warm-up of each side; added to `into`. */
async function measure(pair: Pair, route: Case, into: Rounds): Promise<void> {
  await load(pair.ours.url, route, WARMUP);
  await load(pair.bare.url, route, WARMUP);
  const ratios: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    // Alternating which goes first, so drift hits both alike.
    const first = i % 2 === 0 ? pair.ours : pair.bare;
    const a = await round(first, route, SECONDS);
    const b = await round(first === pair.ours ? pair.bare : pair.ours, route, SECONDS);
    const [o, r] = first === pair.ours ? [a, b] : [b, a];
    // A round in which a side answered nothing (autocannon's mean rounds down to 0 for a slow route) has no ratio.
    if (o.rps === 0 || r.rps === 0) {
      console.error(`    round ${i + 1}: ${o.rps === 0 ? 'the service' : 'bare Fastify'} answered no request in ${SECONDS} s; the round is left out`);
      continue;
    }
    into.ours.push(o.rps);
    into.bare.push(r.rps);
    ratios.push(o.rps / r.rps);
    // Without /proc a round has no CPU ratio, and the table says n/a (fewer CPU ratios than rounds).
    if (o.cpuPerRequest !== undefined && r.cpuPerRequest !== undefined) into.cpuRatios.push(r.cpuPerRequest / o.cpuPerRequest);
  }
  into.ratios.push(...ratios);
  if (ratios.length > 0) into.pairMedians.push(median(ratios));
}

const allCases: Case[] = [
  { key: 'trivial', name: 'trivial route', path: '/bench/trivial', method: 'GET', goal: true, side: 'service' },
  { key: 'floor', name: 'trivial route, floor', path: '/bench/trivial', method: 'GET', goal: false, side: 'floor' },
  { key: 'check', name: 'POST /v1/compliance/check', path: '/v1/compliance/check', method: 'POST', body: JSON.stringify(check), goal: true, side: 'service' },
  { key: 'formulas', name: 'POST /v1/formulas', path: '/v1/formulas', method: 'POST', goal: false, side: 'service' },
];
const cases = allCases.filter((c) => ROUTES.has(c.key));
const results = new Map<string, Rounds>(cases.map((c) => [c.key, { ours: [], bare: [], ratios: [], cpuRatios: [], pairMedians: [] }]));
// Each route gets a fresh pair of processes: two sides of one age. A side measured after others had run
// in its partner for half a minute read up to 25 % lower (the floor, measured after the trivial route
// against a bare Fastify already warm from it: 0.70 against 0.93 alone).
for (let p = 0; p < PAIRS; p++) {
  for (const route of cases) {
    console.error(`pair ${p + 1} of ${PAIRS}, ${route.name}: starting the ${route.side === 'floor' ? 'floor' : 'service'} and bare Fastify, each in a process of its own…`);
    const [ours, bare] = await Promise.all([server(route.side), server('bare')]);
    try {
      // The formulas route's brief is the service's own reading of a sentence, asked of each pair's service (it is the same).
      const body =
        route.key === 'formulas'
          ? JSON.stringify({ brief: ((await (await fetch(`${ours.url}/v1/briefs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'a fresh citrus cologne for summer' }) })).json()) as { brief: unknown }).brief })
          : route.body;
      console.error(`  warm-up of ${WARMUP} s a side, then ${ROUNDS} rounds of ${SECONDS} s a side`);
      await measure({ ours, bare }, body === undefined ? route : { ...route, body }, results.get(route.key)!);
    } finally {
      ours.child.kill();
      bare.child.kill();
      await Promise.all([once(ours.child, 'exit'), once(bare.child, 'exit')]);
    }
  }
}

const rows = [['route', 'service req/s (median)', 'bare Fastify req/s (median)', 'ratio (95 % interval)', "each pair's median ratio", 'CPU/request, bare ÷ service', 'goal', '']];
for (const route of cases) {
  const { ours, bare, ratios, cpuRatios, pairMedians } = results.get(route.key)!;
  if (ratios.length === 0) throw new Error(`${route.name}: no round in which both sides answered (raise SECONDS)`);
  const { median: ratio, low, high } = interval(ratios);
  const cpu = cpuRatios.length === ratios.length ? interval(cpuRatios) : undefined;
  rows.push([
    route.name,
    median(ours).toFixed(0),
    median(bare).toFixed(0),
    `${ratio.toFixed(3)} (${low.toFixed(3)}–${high.toFixed(3)})`,
    pairMedians.map((m) => m.toFixed(3)).join(' '),
    cpu === undefined ? 'n/a (no /proc)' : `${cpu.median.toFixed(3)} (${cpu.low.toFixed(3)}–${cpu.high.toFixed(3)})`,
    route.goal ? '≥ 0.95' : '',
    route.goal ? (ratio >= 0.95 ? 'at goal' : 'NOT at goal') : '',
  ]);
}
console.log(`\nper-request cost over HTTP on loopback: autocannon, ${CONNECTIONS} connections × ${PIPELINING} pipelined; ${PAIRS} pairs of server processes, ${WARMUP} s of warm-up a side, then ${ROUNDS} alternating rounds of ${SECONDS} s each; ${PINNED ? `servers on core ${SERVER_CORE}, the load on core 0` : 'not pinned to cores'}\n`);
console.log(table(rows));
console.log("\nratio: the service's requests/s over bare Fastify's, per round, pooled over the pairs (the goal's measure). The floor row is the same ratio for bare Fastify with only what any such instrumentation pays (bench/http-server.ts): a synchronous onRequest and onSend hook, a clock read in each, one response header. CPU/request: the CPU time bare Fastify's process spent per request over the service's, per round (/proc): the same cost without the load generator's share of the cores.");
