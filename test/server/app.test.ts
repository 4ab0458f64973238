import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { catalogueEntries, catalogue, readHistogram, readSamples, type MetricDef } from '../../src/metrics/index.ts';
import { createApp, type App } from '../../src/server/index.ts';
import { testConfig } from '../helpers/config.ts';
import { OPERATOR } from '../helpers/operator.ts';

let app: App;

/** A route answering how many listeners its response has for its end ('finish', 'error'). */
const listeners = async (_request: FastifyRequest, reply: FastifyReply) => ({ finish: reply.raw.listenerCount('finish'), error: reply.raw.listenerCount('error') });

before(async () => {
  app = createApp(testConfig({ BODY_LIMIT_BYTES: '2048', LLM_MISTRAL_URL: 'http://127.0.0.1:9/v1' }));
  // A route with a body, to exercise the shared body handling every later POST route relies on.
  app.server.post('/test/echo', { config: { component: 'server' } }, async (request) => ({ received: request.body }));
  app.server.get('/test/listeners', { config: { component: 'server' } }, listeners);
  await app.server.ready();
});
after(async () => {
  await app.close();
});

const get = (url: string) => app.server.inject({ method: 'GET', url });

describe('GET /metrics', () => {
  it('answers Prometheus text with every catalogue family', async () => {
    const response = await get('/metrics');
    assert.equal(response.statusCode, 200);
    assert.match(response.headers['content-type'] as string, /^text\/plain; version=0\.0\.4/);
    for (const [, def] of catalogueEntries()) assert.match(response.body, new RegExp(`^# TYPE ${def.name} ${def.type}$`, 'm'));
  });

  it('refuses query parameters it does not take', async () => {
    const response = await get('/metrics?name[]=up');
    assert.equal(response.statusCode, 400);
    assert.equal(response.json().error.code, 'FAI_ERR_VALIDATION');
    assert.equal(response.json().error.field, 'query');
  });
});

describe('x-fai-instance (which instance answered: the runbooks verify traffic splits by it)', () => {
  it('is on every answer: success, validation error, unknown route, a URL that does not decode', async () => {
    const answers = await Promise.all([
      app.server.inject({ method: 'GET', url: '/health' }),
      app.server.inject({ method: 'POST', url: '/v1/compliance/check', headers: { 'content-type': 'application/json' }, payload: '{bad' }),
      app.server.inject({ method: 'GET', url: '/no/such/route' }),
      app.server.inject({ method: 'GET', url: '/v1/%zz' }),
    ]);
    assert.deepEqual(
      answers.map((answer) => [answer.statusCode, answer.headers['x-fai-instance']]),
      [
        [200, 'api'],
        [400, 'api'],
        [404, 'api'],
        [400, 'api'],
      ],
    );
  });
});

describe('GET /health', () => {
  it('lists every component; an optional LLM slot that is down makes the service degraded, not unhealthy', async () => {
    const response = await get('/health');
    assert.equal(response.statusCode, 200);
    const body = response.json();
    assert.equal(body.status, 'degraded', 'LLM_MISTRAL_URL points at a closed port');
    assert.deepEqual(Object.keys(body.services).sort(), ['hub', 'llm_llama', 'llm_mistral', 'llm_qwen', 'metrics', 'redis']);
    assert.equal(body.services.metrics.status, 'up');
    assert.equal(body.services.redis.status, 'not_configured');
    assert.equal(body.services.llm_mistral.status, 'down', 'probed: nothing listens there');
    assert.equal(body.services.llm_qwen.status, 'not_configured');
    assert.ok(!Number.isNaN(Date.parse(body.timestamp)));
  });

  it('answers unknown parameters with 400 naming them', async () => {
    const response = await get('/health?verbose=1');
    assert.equal(response.statusCode, 400);
    assert.match(response.json().error.message, /verbose/);
  });
});

describe('GET /health/llm', () => {
  it('needs a model: 400 naming query.model', async () => {
    for (const url of ['/health/llm', '/health/llm?model=']) {
      const response = await get(url);
      assert.equal(response.statusCode, 400, url);
      assert.equal(response.json().error.field, 'query.model');
    }
  });

  it('answers 404 for a model that is not a slot', async () => {
    const response = await get('/health/llm?model=gpt-4');
    assert.equal(response.statusCode, 404);
    assert.deepEqual([response.json().error.code, response.json().error.field], ['FAI_ERR_NOT_FOUND', 'query.model']);
  });

  it('reports honestly what it knows of each slot', async () => {
    const qwen = await get('/health/llm?model=qwen');
    assert.equal(qwen.statusCode, 200);
    assert.deepEqual([qwen.json().status, qwen.json().backend], ['not_configured', null]);
    const mistral = (await get('/health/llm?model=mistral')).json();
    assert.deepEqual([mistral.status, mistral.backend, mistral.breaker], ['down', 'http://127.0.0.1:9/v1', 'closed']);
    assert.equal(typeof mistral.latencyMs, 'number');
  });

  it('never shows the credentials of a slot URL', async () => {
    const withSecret = createApp(testConfig({ LLM_LLAMA_URL: 'http://fai-user:s3cret-pass@127.0.0.1:9/v1' }));
    try {
      await withSecret.server.ready();
      const response = await withSecret.server.inject({ method: 'GET', url: '/health/llm?model=llama' });
      assert.equal(response.json().backend, 'http://***@127.0.0.1:9/v1');
      assert.ok(!response.body.includes('s3cret') && !response.body.includes('fai-user'), response.body);
      const health = await withSecret.server.inject({ method: 'GET', url: '/health' });
      assert.ok(!health.body.includes('s3cret'), health.body);
    } finally {
      await withSecret.close();
    }
  });
});

describe('request timeout', () => {
  it('answers 408 and closes a connection whose body stalls, within REQUEST_TIMEOUT_MS', async () => {
    const slow = createApp(testConfig({ PORT: '0', REQUEST_TIMEOUT_MS: '300' }));
    const url = new URL(await slow.listen());
    try {
      const started = performance.now();
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(url.port), url.hostname, () => {
          // Headers promising 100 bytes, then 10 of them, then nothing.
          socket.write('POST /v1/compliance/check HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"formula"');
        });
        let received = '';
        socket.on('data', (chunk) => (received += chunk.toString()));
        socket.on('close', () => resolve(received));
        socket.on('error', reject);
        setTimeout(() => reject(new Error('the connection was still open after 5 s')), 5_000).unref();
      });
      const elapsedMs = performance.now() - started;
      assert.match(answer, /^HTTP\/1\.1 408/);
      assert.match(answer, /"code":"FAI_ERR_REQUEST_TIMEOUT"/, 'in our error format');
      assert.match(answer, /the upload stalled/);
      assert.ok(elapsedMs < 3_000, `closed after ${elapsedMs.toFixed(0)} ms`);
    } finally {
      await slow.close();
    }
  });

  it("cuts a stalled body that follows whole ones on the same keep-alive connection (the connection's watch is reused)", async () => {
    const slow = createApp(testConfig({ PORT: '0', REQUEST_TIMEOUT_MS: '300' }));
    const url = new URL(await slow.listen());
    try {
      const whole = '{"formula":[{"material":"limonene","concentrationPct":1}],"category":"4","dosagePct":20}';
      const post = (body: string, length = Buffer.byteLength(body)) => `POST /v1/compliance/check HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n${body}`;
      const answer = await new Promise<string>((resolve, reject) => {
        // Two whole bodies, then one that promises 100 bytes and sends 10.
        const socket = connect(Number(url.port), url.hostname, () => socket.write(post(whole) + post(whole) + post('{"formula"', 100)));
        let received = '';
        socket.on('data', (chunk) => (received += chunk.toString()));
        socket.on('close', () => resolve(received));
        socket.on('error', reject);
        setTimeout(() => reject(new Error('the connection was still open after 5 s')), 5_000).unref();
      });
      // A body ends with no newline: the next status line follows it on the same line.
      const statuses = [...answer.matchAll(/HTTP\/1\.1 (\d+)/g)].map((m) => Number(m[1]));
      assert.deepEqual(statuses, [200, 200, 408]);
      assert.match(answer, /the upload stalled/);
    } finally {
      await slow.close();
    }
  });

  it('cuts a body that drips a few bytes at a time (fewer than 16 KiB a window) with a 408, though bytes keep coming', async () => {
    const slow = createApp(testConfig({ PORT: '0', REQUEST_TIMEOUT_MS: '300' }));
    const url = new URL(await slow.listen());
    try {
      const answer = await new Promise<string>((resolve, reject) => {
        let drip: NodeJS.Timeout | undefined;
        const socket = connect(Number(url.port), url.hostname, () => {
          socket.write('POST /v1/compliance/check HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{');
          drip = setInterval(() => socket.write(' '), 20);
        });
        let received = '';
        socket.on('data', (chunk) => (received += chunk.toString()));
        socket.on('close', () => {
          clearInterval(drip);
          resolve(received);
        });
        socket.on('error', () => undefined);
        setTimeout(() => reject(new Error('the connection was still open after 5 s')), 5_000).unref();
      });
      assert.match(answer, /^HTTP\/1\.1 408/);
      assert.match(answer, /the upload stalled: \d+ bytes in the last 300 ms, fewer than 16384/);
    } finally {
      await slow.close();
    }
  });

  it('times an upload by its progress, not one total: 3 MiB at 1 MiB/s passes with REQUEST_TIMEOUT_MS=1000', async () => {
    const slow = createApp(testConfig({ PORT: '0', REQUEST_TIMEOUT_MS: '1000', HUB_DIR: await mkdtemp(join(tmpdir(), 'fai-upload-')) }));
    const url = new URL(await slow.listen());
    try {
      const started = performance.now();
      const body = Readable.from(
        (async function* () {
          for (let i = 0; i < 12; i++) {
            yield new Uint8Array(256 * 1024).fill(i);
            await new Promise((resolve) => setTimeout(resolve, 250));
          }
        })(),
      );
      const response = await fetch(new URL('/v1/hub/checkpoints', url), { method: 'POST', headers: { ...OPERATOR, 'content-type': 'application/octet-stream' }, body: body as never, duplex: 'half' } as RequestInit);
      const elapsedMs = performance.now() - started;
      assert.equal(response.status, 201, await response.text());
      assert.ok(elapsedMs > 2_500, `the upload took ${elapsedMs.toFixed(0)} ms, more than one REQUEST_TIMEOUT_MS`);
    } finally {
      await slow.close();
    }
  });
});

describe('GET /health/thresholds', () => {
  it('evaluates every row of the thresholds table', async () => {
    const response = await get('/health/thresholds');
    assert.equal(response.statusCode, 200);
    const body = response.json();
    assert.equal(body.rows.length, 11);
    const errorRate = body.rows.find((r: { id: string }) => r.id === 'system_error_rate');
    // The requests of this suite so far succeeded or were 4xx; with fewer than 50 of a component in the window there is no value.
    assert.ok(['OK', 'NO_DATA'].includes(errorRate.status), errorRate.detail);
  });
});

describe('bad input', () => {
  it('answers an unknown route with a JSON 404', async () => {
    const response = await app.server.inject({ method: 'DELETE', url: '/metrics' });
    assert.equal(response.statusCode, 404);
    assert.deepEqual(response.json().error, { code: 'FAI_ERR_NOT_FOUND', message: 'no route DELETE /metrics', field: 'url' });
  });

  it('answers malformed JSON with 400 naming the body', async () => {
    const response = await app.server.inject({ method: 'POST', url: '/test/echo', headers: { 'content-type': 'application/json' }, payload: '{"a": ' });
    assert.equal(response.statusCode, 400);
    assert.deepEqual([response.json().error.code, response.json().error.field], ['FAI_ERR_MALFORMED_BODY', 'body']);
  });

  it('answers an oversized body with 413', async () => {
    const response = await app.server.inject({
      method: 'POST',
      url: '/test/echo',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ text: 'x'.repeat(4096) }),
    });
    assert.equal(response.statusCode, 413);
    assert.deepEqual([response.json().error.code, response.json().error.field], ['FAI_ERR_BODY_TOO_LARGE', 'body']);
  });

  it('answers an unsupported content type with 4xx', async () => {
    const response = await app.server.inject({ method: 'POST', url: '/test/echo', headers: { 'content-type': 'application/x-unknown' }, payload: 'x' });
    assert.equal(response.statusCode, 415);
    assert.equal(response.json().error.field, 'headers.content-type');
  });
});

describe('request accounting', () => {
  it('counts each answered request into system_requests_total, system_rps and system_error_rate', async () => {
    const requests = async () => (await readSamples(app.metrics.registry, catalogue.systemRequestsTotal))[0]?.value ?? 0;
    const before = await requests();
    for (let i = 0; i < 5; i++) await get('/health');
    await get('/health/llm');
    await get('/metrics');
    assert.equal(await requests(), before, 'probes and scrapes are not the service\'s traffic');
    for (let i = 0; i < 6; i++) await get('/v1/compliance/strict');
    assert.equal(await requests(), before + 6);
    const rps = await readSamples(app.metrics.registry, catalogue.systemRps);
    assert.ok((rps[0]?.value ?? 0) > 0, 'system_rps moved');
    const errors = await readSamples(app.metrics.registry, catalogue.systemErrorsTotal);
    const healthClientErrors = errors.find((s) => s.labels.component === 'health' && s.labels.error_type === 'client_error');
    assert.ok((healthClientErrors?.value ?? 0) >= 1, 'the 400 was counted against the health component');
    const rates = await readSamples(app.metrics.registry, catalogue.systemErrorRate);
    const healthServerErrors = rates.find((s) => s.labels.component === 'health' && s.labels.error_type === 'server_error');
    assert.equal(healthServerErrors?.value, 0, 'an explicit 0% for server errors');
  });

  it("counts each answer once under its route's component, unknown routes under server's, with its duration", async () => {
    const count = async (family: MetricDef, labels: Record<string, string>) =>
      (await readSamples(app.metrics.registry, family)).find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value ?? 0;
    const durations = async (component: string) => (await readHistogram(app.metrics.registry, catalogue.systemRequestDurationSeconds)).find((h) => h.labels.component === component)?.count ?? 0;
    const before = {
      server: await count(catalogue.systemOperationsTotal, { component: 'server' }),
      serverClient: await count(catalogue.systemErrorsTotal, { component: 'server', error_type: 'client_error' }),
      compliance: await count(catalogue.systemOperationsTotal, { component: 'regulation' }),
      complianceClient: await count(catalogue.systemErrorsTotal, { component: 'regulation', error_type: 'client_error' }),
      complianceDurations: await durations('regulation'),
    };
    assert.equal((await get('/no/such/route')).statusCode, 404);
    assert.equal((await app.server.inject({ method: 'PUT', url: '/v1/compliance/strict' })).statusCode, 401, 'an operator route without the token');
    assert.equal((await app.server.inject({ method: 'POST', url: '/v1/compliance/check', headers: { 'content-type': 'application/json' }, payload: '{bad' })).statusCode, 400);
    assert.equal((await get('/v1/compliance/strict')).statusCode, 200);
    assert.equal(await count(catalogue.systemOperationsTotal, { component: 'server' }), before.server + 1, 'the 404, once');
    assert.equal(await count(catalogue.systemErrorsTotal, { component: 'server', error_type: 'client_error' }), before.serverClient + 1);
    assert.equal(await count(catalogue.systemOperationsTotal, { component: 'regulation' }), before.compliance + 3, 'the 401, the 400 and the 200, each once');
    assert.equal(await count(catalogue.systemErrorsTotal, { component: 'regulation', error_type: 'client_error' }), before.complianceClient + 2);
    assert.equal(await durations('regulation'), before.complianceDurations + 3, 'a duration for each');
  });

  it("counts an answer given before any hook (a malformed URL's 400, in our error format) as the server's, with no time: its request never started the clock", async () => {
    const server = async () => (await readSamples(app.metrics.registry, catalogue.systemOperationsTotal)).find((s) => s.labels.component === 'server')?.value ?? 0;
    const histogram = async () => (await readHistogram(app.metrics.registry, catalogue.systemRequestDurationSeconds)).find((h) => h.labels.component === 'server');
    const before = { count: await server(), observed: (await histogram())?.count ?? 0, sum: (await histogram())?.sum ?? 0 };
    const answer = await get('/v1/%zz');
    assert.equal(answer.statusCode, 400);
    assert.equal(answer.json().error.field, 'url');
    assert.match(answer.json().error.message, /%zz/);
    assert.equal(await server(), before.count + 1);
    const after = await histogram();
    assert.equal(after?.count, before.observed + 1);
    assert.equal(after?.sum, before.sum, 'observed as 0 s, not NaN');
  });

  it('adds no listener to a response for its accounting: as many as bare Fastify has', async () => {
    const bare = Fastify();
    bare.get('/test/listeners', listeners);
    try {
      const ours = (await get('/test/listeners')).json();
      const theirs = (await bare.inject({ method: 'GET', url: '/test/listeners' })).json();
      assert.deepEqual(ours, theirs);
    } finally {
      await bare.close();
    }
  });
});
