/**
 * One side of bench/http.bench.ts, in a process of its own: `service` (the service's app, every hook),
 * `bare` (a bare Fastify app serving the same handlers) or `floor` (the bare app with only what any
 * instrumentation of this kind pays: a synchronous onRequest hook that reads the clock and sets one
 * response header, and a synchronous onSend hook that reads it again for the duration). Listens on a
 * free loopback port, prints it, and runs until killed.
 */
import { existsSync } from 'node:fs';
import Fastify from 'fastify';
import type * as HubModule from '../src/hub/index.ts';
import type * as LearningModule from '../src/learning/index.ts';
import type * as LlmModule from '../src/llm/index.ts';
import type * as MetricsModule from '../src/metrics/index.ts';
import type * as RegulationModule from '../src/regulation/index.ts';
import type * as ServerModule from '../src/server/index.ts';
import type { CreativeBrief } from '../src/llm/index.ts';
import { testConfig } from '../test/helpers/config.ts';

// Both sides run the compiled code in dist/ (make build), as the service does: tsx's transform of the sources wraps
// every function it creates in a naming helper, which production never runs.
const compiled = async <T>(path: string): Promise<T> => {
  const url = new URL(`../dist/${path}`, import.meta.url);
  if (!existsSync(url)) throw new Error('dist/ is not built: run `make build` (make bench-http does)');
  return (await import(url.href)) as T;
};
const { openHub } = await compiled<typeof HubModule>('hub/index.js');
const { FormulaService, seedShippedPolicies } = await compiled<typeof LearningModule>('learning/index.js');
const { readPins } = await compiled<typeof LlmModule>('llm/index.js');
const { createMetrics } = await compiled<typeof MetricsModule>('metrics/index.js');
const { ComplianceChecker, parseCheckRequest } = await compiled<typeof RegulationModule>('regulation/index.js');
const { createApp } = await compiled<typeof ServerModule>('server/index.js');

const side = process.argv[2];
const trivial = async () => ({ ok: true });
if (side === 'service') {
  const app = createApp(testConfig({ PORT: '0', RATE_LIMIT_PER_MINUTE: process.env.RATE_LIMIT_PER_MINUTE ?? '100000000' }));
  app.server.register(async (scope) => {
    scope.get('/bench/trivial', { config: { component: 'health' } }, trivial);
  });
  console.log(new URL(await app.listen()).port);
} else if (side === 'bare' || side === 'floor') {
  const config = testConfig({ PORT: '0' });
  const metrics = createMetrics();
  const compliance = new ComplianceChecker({ metrics });
  const { hub } = openHub(config, { metrics });
  const pins = await readPins(config.pinsFile);
  await seedShippedPolicies(hub, pins);
  const formulas = new FormulaService({ hub, compliance, pins: () => pins, metrics });
  const bare = Fastify();
  if (side === 'floor') {
    // The durations are summed and the sum read at exit: each request's clock reads feed something, as the service's feed a histogram.
    let durations = 0;
    bare.addHook('onRequest', (request, reply, done) => {
      request.startedAt = performance.now();
      reply.header('x-fai-instance', 'floor');
      done();
    });
    bare.addHook('onSend', (request, _reply, payload, done) => {
      durations += performance.now() - request.startedAt!;
      done(null, payload);
    });
    process.on('exit', () => durations < 0 && console.error('a negative duration'));
  }
  bare.get('/bench/trivial', trivial);
  bare.post('/v1/compliance/check', async (request) => compliance.check(parseCheckRequest(request.body, 'body')));
  bare.post('/v1/formulas', async (request) => {
    const body = request.body as { brief: CreativeBrief; dosagePct?: number };
    return { brief: body.brief, ...(await formulas.compose(body.brief, request.id, body.dosagePct === undefined ? {} : { dosagePct: body.dosagePct })) };
  });
  console.log(new URL(await bare.listen({ port: 0, host: '127.0.0.1' })).port);
} else {
  throw new Error('usage: http-server.ts service|bare|floor');
}
// Exit on a signal through process.exit, so a --cpu-prof run writes its profile.
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => process.exit(0));
