/**
 * The service's per-request cost over real sockets (issue 26, item 3): autocannon over HTTP on
 * loopback against the service's app (every hook: request accounting, the rate limit, the instance
 * header, validation) and against a bare Fastify app serving the same handlers, each server in a
 * process of its own (bench/http-server.ts), the load from this one. Alternating rounds of a few
 * seconds each; per round the service's requests/s over bare Fastify's; the median ratio with its
 * distribution-free 95 % interval. Routes: a trivial GET, POST /v1/compliance/check (30 regulated
 * materials) and POST /v1/formulas (a structured brief). Goal ≥ 0.95 for the first two.
 *
 *   make bench-http      (ROUNDS=… rounds per route, SECONDS=… per round, CONNECTIONS=…, PIPELINING=…,
 *                         ROUTES=trivial,check,formulas: which routes, all by default)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import autocannon from 'autocannon';
import { table } from '../src/cli/table.ts';
import { RegulatoryCatalogue } from '../src/regulation/index.ts';
import { interval, median } from './stats.ts';

const ROUNDS = Number(process.env.ROUNDS ?? 8);
const SECONDS = Number(process.env.SECONDS ?? 3);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 10);
/**
 * Requests in flight per connection. Without pipelining one autocannon process tops out near 30 000
 * requests/s on these 2 cores while either server idles half the time: the ratio would measure the
 * client. With 10 in flight per connection each server is busy, and the ratio is the servers' cost.
 */
const PIPELINING = Number(process.env.PIPELINING ?? 10);
const ROUTES = new Set((process.env.ROUTES ?? 'trivial,check,formulas').split(',').map((route) => route.trim()));
for (const route of ROUTES) if (!['trivial', 'check', 'formulas'].includes(route)) throw new Error(`ROUTES: unknown route "${route}" (known: trivial, check, formulas)`);

async function server(side: 'service' | 'bare'): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', new URL('./http-server.ts', import.meta.url).pathname, side], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, LOG_LEVEL: 'silent' } });
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
}

async function load(url: string, route: Case, seconds: number): Promise<number> {
  const result = await autocannon({
    url: `${url}${route.path}`,
    method: route.method,
    connections: CONNECTIONS,
    pipelining: PIPELINING,
    duration: seconds,
    ...(route.body === undefined ? {} : { body: route.body, headers: { 'content-type': 'application/json' } }),
  });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${url}${route.path}: ${result.non2xx} answers not 2xx, ${result.errors} errors`);
  return result.requests.average;
}

const catalogue = RegulatoryCatalogue.load();
const regulated = catalogue.standards.filter((s) => s.cas.length === 1 && s.limits['4']?.kind === 'limit').slice(0, 30);
const check = { formula: regulated.map((s, i) => ({ material: i % 2 === 0 ? s.name : s.cas[0]!, concentrationPct: 0.01 + (i % 5) * 0.01 })), category: '4', dosagePct: 20 };

console.error('starting the service and bare Fastify, each in its own process…');
const [ours, bare] = await Promise.all([server('service'), server('bare')]);
try {
  const brief = ((await (await fetch(`${ours.url}/v1/briefs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'a fresh citrus cologne for summer' }) })).json()) as { brief: unknown }).brief;
  const cases: Case[] = [
    { key: 'trivial', name: 'trivial route', path: '/bench/trivial', method: 'GET', goal: true },
    { key: 'check', name: 'POST /v1/compliance/check', path: '/v1/compliance/check', method: 'POST', body: JSON.stringify(check), goal: true },
    { key: 'formulas', name: 'POST /v1/formulas', path: '/v1/formulas', method: 'POST', body: JSON.stringify({ brief }), goal: false },
  ];
  const rows = [['route', 'service req/s (median)', 'bare Fastify req/s (median)', 'ratio (95 % interval)', 'goal', '']];
  for (const route of cases.filter((c) => ROUTES.has(c.key))) {
    console.error(`  ${route.name}: warm-up, then ${ROUNDS} rounds of ${SECONDS} s a side`);
    await load(ours.url, route, 1);
    await load(bare.url, route, 1);
    const oursRps: number[] = [];
    const bareRps: number[] = [];
    const ratios: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // Alternating which goes first, so drift hits both alike.
      const first = round % 2 === 0 ? ours : bare;
      const a = await load(first.url, route, SECONDS);
      const b = await load((first === ours ? bare : ours).url, route, SECONDS);
      const [o, r] = first === ours ? [a, b] : [b, a];
      oursRps.push(o);
      bareRps.push(r);
      ratios.push(o / r);
    }
    const { median: ratio, low, high } = interval(ratios);
    rows.push([route.name, median(oursRps).toFixed(0), median(bareRps).toFixed(0), `${ratio.toFixed(3)} (${low.toFixed(3)}–${high.toFixed(3)})`, route.goal ? '≥ 0.95' : '', route.goal ? (ratio >= 0.95 ? 'at goal' : 'NOT at goal') : '']);
  }
  console.log(`\nper-request cost over HTTP on loopback: autocannon, ${CONNECTIONS} connections × ${PIPELINING} pipelined, ${ROUNDS} alternating rounds of ${SECONDS} s\n`);
  console.log(table(rows));
} finally {
  ours.child.kill();
  bare.child.kill();
}
