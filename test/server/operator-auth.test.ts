import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { createApp, type App } from '../../src/server/index.ts';
import { testConfig } from '../helpers/config.ts';
import { OPERATOR, TEST_ADMIN_TOKEN } from '../helpers/operator.ts';

/** The POSTs the public may make (DESIGN.md, principle 9); every other route that changes state is an operator's. */
const PUBLIC_WRITES = new Set(['POST /v1/briefs', 'POST /v1/formulas', 'POST /v1/compliance/check', 'POST /v1/compliance/certificate']);
const WEBHOOK = 'POST /v1/alerts/webhook';
const WEBHOOK_TOKEN = 'webhook-token-0123456789abcdef';

/** Builds an app and lists every route it serves (method and URL pattern). */
async function appWithRoutes(env: Record<string, string>): Promise<{ app: App; routes: string[] }> {
  const app = createApp(testConfig(env));
  const routes: string[] = [];
  app.server.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) if (method !== 'HEAD') routes.push(`${method} ${route.url}`);
  });
  await app.server.ready();
  return { app, routes };
}

/** A concrete URL for a route pattern (`:cid` and `:id` filled with values the params schemas accept). */
const concrete = (pattern: string) =>
  pattern.replace(':cid', 'bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e').replace(':id', 'rollback-abc123').replace(':mode', 'creative');

describe('operator routes: one token, one scope', () => {
  let app: App;
  let routes: string[];
  before(async () => ({ app, routes } = await appWithRoutes({ ALERT_WEBHOOK_TOKEN: WEBHOOK_TOKEN })));
  after(() => app.close());

  const stateChanging = () => routes.filter((route) => !route.startsWith('GET ') && !PUBLIC_WRITES.has(route));

  it('refuses every state-changing route without the operator token (401 naming FAI_ADMIN_TOKEN), with a wrong one, and with the webhook token', async () => {
    const operatorRoutes = stateChanging().filter((route) => route !== WEBHOOK);
    // The 14 of 16, and anything added since: a new route that changes state is refused until classified.
    assert.ok(operatorRoutes.length >= 11, operatorRoutes.join(', '));
    for (const route of operatorRoutes) {
      const [method, pattern] = route.split(' ') as ['POST' | 'PUT' | 'DELETE', string];
      for (const headers of [{}, { authorization: 'Bearer not-the-operator-token-at-all' }, { authorization: `Bearer ${WEBHOOK_TOKEN}` }, { authorization: `Basic ${TEST_ADMIN_TOKEN}` }]) {
        const response = await app.server.inject({ method, url: concrete(pattern), headers: { ...headers, 'content-type': 'application/json' }, payload: '{}' });
        assert.equal(response.statusCode, 401, `${route} with ${JSON.stringify(headers)}: ${response.body}`);
        assert.equal(response.json().error.code, 'FAI_ERR_UNAUTHORIZED');
        assert.match(response.json().error.message, /FAI_ADMIN_TOKEN/);
      }
      const authorized = await app.server.inject({ method, url: concrete(pattern), headers: { ...OPERATOR, 'content-type': 'application/json' }, payload: '{}' });
      assert.notEqual(authorized.statusCode, 401, `${route} with the operator token: ${authorized.body}`);
    }
  });

  it("keeps the webhook behind its own token: the operator's does not open it", async () => {
    const post = (authorization: string) =>
      app.server.inject({ method: 'POST', url: '/v1/alerts/webhook', headers: { authorization, 'content-type': 'application/json' }, payload: '{}' });
    assert.equal((await post(`Bearer ${TEST_ADMIN_TOKEN}`)).statusCode, 401);
    assert.match((await post(`Bearer ${TEST_ADMIN_TOKEN}`)).json().error.message, /ALERT_WEBHOOK_TOKEN/);
    // The right token gets past authentication to validation (an empty payload is not Alertmanager's).
    assert.equal((await post(`Bearer ${WEBHOOK_TOKEN}`)).statusCode, 400);
  });

  it('leaves reading and the public POSTs open', async () => {
    for (const url of ['/health', '/metrics', '/v1/compliance/strict', '/v1/llm/downshift', '/v1/training/jobs', '/v1/hub/objects?type=recipe']) {
      assert.equal((await app.server.inject({ method: 'GET', url })).statusCode, 200, url);
    }
    const check = await app.server.inject({ method: 'POST', url: '/v1/compliance/check', payload: { formula: [{ material: 'Hedione', concentrationPct: 10 }], category: '4', dosagePct: 15 } });
    assert.equal(check.statusCode, 200, check.body);
  });

  it('records the authenticated principal, never a name the caller typed', async () => {
    const forced = await app.server.inject({ method: 'PUT', url: '/v1/compliance/strict', headers: { ...OPERATOR, 'x-fai-actor': 'mallory' } });
    assert.equal(forced.json().by, 'operator');
    await app.server.inject({ method: 'DELETE', url: '/v1/compliance/strict', headers: OPERATOR });
    // An approval names no approver: a `by` field is refused, a note is kept beside the principal.
    const approve = (payload: unknown) => app.server.inject({ method: 'POST', url: '/v1/remediation/actions/rollback-abc123/approve', headers: OPERATOR, payload: payload as object });
    const typed = await approve({ by: 'mallory' });
    assert.equal(typed.statusCode, 400, typed.body);
    assert.equal(typed.json().error.field, 'body');
  });
});

describe('operator routes with no FAI_ADMIN_TOKEN set', () => {
  let app: App;
  before(async () => ({ app } = await appWithRoutes({ FAI_ADMIN_TOKEN: '' })));
  after(() => app.close());

  it('answers 401 saying the service has no operator token, whatever the request carries', async () => {
    for (const headers of [{}, OPERATOR]) {
      const response = await app.server.inject({ method: 'POST', url: '/v1/hub/gc', headers });
      assert.equal(response.statusCode, 401);
      assert.match(response.json().error.message, /needs FAI_ADMIN_TOKEN, and the service has none set/);
    }
  });
});

describe('who acted: named operators, on-behalf-of, every state change recorded', () => {
  it('names each operator by their token from FAI_OPERATOR_TOKENS_FILE, re-read when it changes; FAI_ADMIN_TOKEN stays the single-operator default', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fai-operators-'));
    const file = join(dir, 'operators.json');
    const sha = (token: string) => createHash('sha256').update(token).digest('hex');
    await writeFile(file, JSON.stringify({ operators: [{ name: 'alice', sha256: sha('alice-token-0123456789abcdef') }] }));
    const { app } = await appWithRoutes({ FAI_OPERATOR_TOKENS_FILE: file });
    try {
      const put = (token: string, headers: Record<string, string> = {}) => app.server.inject({ method: 'PUT', url: '/v1/compliance/strict', headers: { authorization: `Bearer ${token}`, ...headers } });
      assert.equal((await put('alice-token-0123456789abcdef')).json().by, 'alice');
      assert.equal((await put(TEST_ADMIN_TOKEN)).json().by, 'alice', 'still forced by alice (a second force changes nothing)');
      const lifted = await app.server.inject({ method: 'DELETE', url: '/v1/compliance/strict', headers: OPERATOR });
      assert.equal(lifted.json().forced, false);
      assert.equal((await put(TEST_ADMIN_TOKEN)).json().by, 'operator', 'FAI_ADMIN_TOKEN: the single-operator default');
      assert.equal((await put('bob-token-0123456789abcdef0')).statusCode, 401, 'bob is not in the file yet');
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      await writeFile(file, JSON.stringify({ operators: [{ name: 'bob', sha256: sha('bob-token-0123456789abcdef0') }] }));
      await app.server.inject({ method: 'DELETE', url: '/v1/compliance/strict', headers: OPERATOR });
      assert.equal((await put('bob-token-0123456789abcdef0')).json().by, 'bob', 'the file was re-read: bob added');
      assert.equal((await put('alice-token-0123456789abcdef')).statusCode, 401, 'and alice revoked');
      // A runbook acting for the remediation loop says so; the route records whom it acted for.
      await app.server.inject({ method: 'DELETE', url: '/v1/compliance/strict', headers: OPERATOR });
      assert.equal((await put(TEST_ADMIN_TOKEN, { 'x-fai-on-behalf-of': 'alertmanager (rule IFRAViolation)' })).json().by, 'alertmanager (rule IFRAViolation)');
      const forced = await app.server.inject({ method: 'PUT', url: '/v1/llm/downshift/creative', headers: { ...OPERATOR, 'x-fai-on-behalf-of': 'alertmanager (rule HighLLMLatency)' } });
      assert.equal(forced.json().modes.find((m: { mode: string }) => m.mode === 'creative').forcedBy, 'alertmanager (rule HighLLMLatency)');
      // On a public route the header means nothing.
      assert.equal((await app.server.inject({ method: 'GET', url: '/v1/compliance/strict', headers: { 'x-fai-on-behalf-of': 'mallory' } })).json().by, 'alertmanager (rule IFRAViolation)');
    } finally {
      await app.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses to start with a tokens file that does not parse, naming it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fai-operators-'));
    const file = join(dir, 'operators.json');
    await writeFile(file, JSON.stringify({ operators: [{ name: 'alice', sha256: 'not-a-hash' }] }));
    const app = createApp(testConfig({ FAI_OPERATOR_TOKENS_FILE: file }));
    try {
      await assert.rejects(async () => { await app.server.ready(); }, (error: Error) => error.message.includes(file) && /sha256/.test(error.message));
    } finally {
      await app.close().catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('rate limit and the training queue cap', () => {
  it('answers 429 with Retry-After past RATE_LIMIT_PER_MINUTE from one client; 0 turns it off', async () => {
    const { app } = await appWithRoutes({ RATE_LIMIT_PER_MINUTE: '3' });
    try {
      const statuses: number[] = [];
      let last;
      for (let i = 0; i < 5; i++) {
        last = await app.server.inject({ method: 'GET', url: '/health' });
        statuses.push(last.statusCode);
      }
      assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
      assert.equal(last!.json().error.code, 'FAI_ERR_TOO_MANY_REQUESTS');
      assert.ok(Number(last!.headers['retry-after']) > 0);
      assert.deepEqual([last!.headers['x-ratelimit-limit'], last!.headers['x-ratelimit-remaining']], ['3', '0']);
      assert.match(last!.json().error.message, /at most 3 a minute from one client \(RATE_LIMIT_PER_MINUTE\); retry in \d+ s/);
      // Another client address has its own allowance.
      assert.equal((await app.server.inject({ method: 'GET', url: '/health', remoteAddress: '10.0.0.7' })).statusCode, 200);
    } finally {
      await app.close();
    }
    const { app: unlimited } = await appWithRoutes({ RATE_LIMIT_PER_MINUTE: '0' });
    try {
      for (let i = 0; i < 20; i++) assert.equal((await unlimited.server.inject({ method: 'GET', url: '/health' })).statusCode, 200);
    } finally {
      await unlimited.close();
    }
  });

  it('limits before the token check: wrong-token guesses are limited (401 until the allowance is spent, then 429), counted and logged at warn; /openapi.json is limited; the webhook has its own bucket', async () => {
    const { app } = await appWithRoutes({ RATE_LIMIT_PER_MINUTE: '3', ALERT_WEBHOOK_TOKEN: WEBHOOK_TOKEN });
    try {
      const guesses: number[] = [];
      for (let i = 0; i < 6; i++) guesses.push((await app.server.inject({ method: 'PUT', url: '/v1/compliance/strict', headers: { authorization: `Bearer guess-${i}` }, remoteAddress: '10.0.0.1' })).statusCode);
      assert.deepEqual(guesses, [401, 401, 401, 429, 429, 429], 'guesses past the allowance never reach the token check');
      const failures = (await app.metrics.registry.getSingleMetric('system_auth_failures_total')!.get()).values.find((v) => v.labels.scope === 'operator');
      assert.equal(failures?.value, 3);
      const openapi: number[] = [];
      for (let i = 0; i < 4; i++) openapi.push((await app.server.inject({ method: 'GET', url: '/openapi.json', remoteAddress: '10.0.0.2' })).statusCode);
      assert.deepEqual(openapi, [200, 200, 200, 429]);
      // Public traffic from Alertmanager's address spends the public allowance, not the webhook's.
      for (let i = 0; i < 5; i++) await app.server.inject({ method: 'GET', url: '/health', remoteAddress: '10.0.0.3' });
      const webhook = await app.server.inject({ method: 'POST', url: '/v1/alerts/webhook', headers: { authorization: `Bearer ${WEBHOOK_TOKEN}`, 'content-type': 'application/json' }, payload: '{}', remoteAddress: '10.0.0.3' });
      assert.notEqual(webhook.statusCode, 429, 'the webhook is answered from its own bucket');
      assert.notEqual(webhook.statusCode, 401);
    } finally {
      await app.close();
    }
  });

  it('refuses a training job past TRAINING_MAX_PENDING (429) and takes one again when a place frees', async () => {
    const { app } = await appWithRoutes({ TRAINING_MAX_PENDING: '2' });
    try {
      const submit = (episodes: number) => app.server.inject({ method: 'POST', url: '/v1/training/jobs', headers: OPERATOR, payload: { algo: 'reinforce', episodes } });
      assert.equal((await submit(1_000_000)).statusCode, 202);
      assert.equal((await submit(1_000_000)).statusCode, 202);
      const third = await submit(1_000_000);
      assert.equal(third.statusCode, 429, third.body);
      assert.match(third.json().error.message, /training queue full: 2 jobs waiting or running \(TRAINING_MAX_PENDING=2\)/);
    } finally {
      await app.close();
    }
  });
});

describe('checkpoint uploads', () => {
  let app: App;
  before(async () => ({ app } = await appWithRoutes({ HUB_MAX_CHECKPOINT_MB: '1' })));
  after(() => app.close());

  const upload = (body: Readable | Buffer) =>
    app.server.inject({ method: 'POST', url: '/v1/hub/checkpoints', headers: { ...OPERATOR, 'content-type': 'application/octet-stream' }, payload: body });

  it('streams a checkpoint sent without a length into the hub, chunk by chunk, and reads back the same bytes', async () => {
    const bytes = Buffer.alloc(900 * 1024).map((_, i) => (i * 7) % 251);
    const chunks = Array.from({ length: 9 }, (_, i) => bytes.subarray(i * 100 * 1024, (i + 1) * 100 * 1024));
    const stored = await upload(Readable.from(chunks));
    assert.equal(stored.statusCode, 201, stored.body);
    const back = await app.server.inject({ method: 'GET', url: `/v1/hub/objects/${stored.json().cid}` });
    assert.deepEqual(back.rawPayload, bytes);
    assert.equal(stored.json().size, bytes.length);
  });

  it('refuses past the limit with 413, whether the length is declared or the stream just keeps coming', async () => {
    const declared = await upload(Buffer.alloc(1024 * 1024 + 1));
    assert.equal(declared.statusCode, 413, declared.body);
    const streamed = await upload(Readable.from(Array.from({ length: 12 }, () => Buffer.alloc(100 * 1024, 1))));
    assert.equal(streamed.statusCode, 413, streamed.body);
    assert.match(streamed.json().error.message, /HUB_MAX_CHECKPOINT_MB/);
    const listed = await app.server.inject({ method: 'GET', url: '/v1/hub/objects?type=checkpoint' });
    assert.equal(listed.json().objects.length, 1, 'no record for a refused upload');
  });
});
