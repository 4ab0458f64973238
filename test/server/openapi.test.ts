import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { createApp, type App } from '../../src/server/index.ts';
import { testConfig } from '../helpers/config.ts';
import { OPERATOR, TEST_ADMIN_TOKEN } from '../helpers/operator.ts';
import { ResponseValidator, type OpenApiDoc as Doc } from '../helpers/openapi.ts';

const WEBHOOK_TOKEN = 'openapi-test-webhook-token-0123456789';
const DOC_FILE = new URL('../../docs/openapi.json', import.meta.url);
const API_MD = new URL('../../docs/api.md', import.meta.url);

/** docs/api.md's examples: each shell block with the status its `<!-- expect N -->` comment names. */
function examples(): Array<{ expect: number; command: string }> {
  const text = readFileSync(API_MD, 'utf8');
  return [...text.matchAll(/<!-- expect (\d{3}) -->\n```sh\n([\s\S]*?)```/g)].map((match) => ({ expect: Number(match[1]), command: match[2]!.trim() }));
}

describe('OpenAPI 3.1 (GET /openapi.json, docs/openapi.json)', () => {
  let app: App;
  let doc: Doc;
  let validator: ResponseValidator;
  const call = async (method: string, url: string, options: { headers?: Record<string, string>; payload?: unknown } = {}): Promise<LightMyRequestResponse> => {
    const response = await app.server.inject({ method: method as 'GET', url, headers: options.headers, payload: options.payload as string });
    validator.validate(method, url, response.statusCode, response.headers['content-type'] as string | undefined, response.body);
    return response;
  };

  before(async () => {
    app = createApp({ ...testConfig({ PORT: '0', ALERT_WEBHOOK_TOKEN: WEBHOOK_TOKEN }), pinsFile: 'configs/model_pins.json' });
    await app.listen();
    doc = (await app.server.inject({ method: 'GET', url: '/openapi.json' })).json();
    validator = new ResponseValidator(doc);
  });
  after(() => app.close());

  it('is served at GET /openapi.json, OpenAPI 3.1, and is what docs/openapi.json holds (run `make generate` when it drifts)', () => {
    assert.equal(doc.openapi, '3.1.0');
    assert.deepEqual(doc, JSON.parse(readFileSync(DOC_FILE, 'utf8')), 'docs/openapi.json is stale: run `make generate`');
  });

  it('lists every route the service has, and every operation lists its error answers with the error shape', () => {
    const documented = Object.entries(doc.paths).flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`));
    // @fastify/swagger lists every route not hidden: one registered without a schema shows up with no error answers, and fails below.
    assert.ok(documented.length >= 28, documented.join('\n'));
    for (const key of documented) {
      const [method, path] = key.split(' ') as [string, string];
      assert.ok(app.server.hasRoute({ method: method as 'GET', url: path.replace(/\{([^}]+)\}/g, ':$1') }), `${key} is documented but not a route`);
    }
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        for (const status of ['400', '429', '500']) {
          assert.deepEqual(operation.responses[status]?.content?.['application/json']?.schema, { $ref: '#/components/schemas/Error' }, `${method} ${path} ${status}`);
        }
        if ('security' in operation) assert.ok(operation.responses['401'] !== undefined, `${method} ${path} documents 401`);
      }
    }
  });

  it('every route answers as documented: success and error answers validated against their schemas', async () => {
    const operator = { headers: OPERATOR };
    const json = (payload: unknown, headers: Record<string, string> = {}) => ({ headers: { 'content-type': 'application/json', ...headers }, payload: JSON.stringify(payload) });
    const formula = [
      { material: 'Limonene', concentrationPct: 20 },
      { material: 'Linalool', concentrationPct: 10 },
      { material: 'Iso E Super', concentrationPct: 30 },
    ];
    await call('GET', '/metrics');
    await call('GET', '/metrics?x=1');
    await call('GET', '/health');
    await call('GET', '/health/thresholds');
    await call('GET', '/health/policy');
    await call('GET', '/health/policy?pin=nope');
    await call('GET', '/health/llm?model=qwen');
    await call('GET', '/health/llm?model=gpt');
    await call('GET', '/health/llm');
    await call('POST', '/v1/briefs', json({ text: 'a fresh citrus cologne for summer' }));
    await call('POST', '/v1/briefs', json({ text: '' }));
    await call('POST', '/v1/briefs', { headers: { 'content-type': 'application/json' }, payload: '{"text": ' });
    await call('GET', '/v1/llm/downshift');
    await call('PUT', '/v1/llm/downshift/creative', operator);
    await call('PUT', '/v1/llm/downshift/creative');
    await call('DELETE', '/v1/llm/downshift/creative', operator);
    await call('DELETE', '/v1/llm/downshift/nope', operator);
    await call('POST', '/v1/compliance/check', json({ formula, category: '4', dosagePct: 20 }));
    await call('POST', '/v1/compliance/check', json({ formula: [{ material: 'Limonene', concentrationPct: -1 }], category: '4', dosagePct: 20 }));
    await call('POST', '/v1/compliance/check', { headers: { 'content-type': 'text/plain' }, payload: 'Limonene 20' });
    await call('POST', '/v1/compliance/check', json({ formula: Array.from({ length: 20_000 }, () => ({ material: 'Limonene', concentrationPct: 0 })), category: '4', dosagePct: 20 }));
    await call('POST', '/v1/compliance/certificate', json({ formula, name: 'Test' }));
    await call('POST', '/v1/compliance/certificate?format=html', json({ formula }));
    await call('POST', '/v1/compliance/certificate?format=pdf', json({ formula }));
    await call('GET', '/v1/compliance/strict');
    await call('PUT', '/v1/compliance/strict', operator);
    await call('DELETE', '/v1/compliance/strict', operator);
    await call('DELETE', '/v1/compliance/strict', { headers: { authorization: 'Bearer wrong' } });
    const recipe = (await call('POST', '/v1/hub/recipes?tags=a,b', json({ name: 'citrus' }, OPERATOR))).json();
    await call('POST', '/v1/hub/recipes', json([1, 2], OPERATOR));
    await call('POST', '/v1/hub/feedback', json({ recipeCid: recipe.cid, rating: 4 }, OPERATOR));
    await call('POST', '/v1/hub/feedback', json({ rating: 11 }, OPERATOR));
    const checkpoint = (await call('POST', '/v1/hub/checkpoints', { headers: { ...OPERATOR, 'content-type': 'application/octet-stream' }, payload: Buffer.alloc(4096, 7) as unknown as string })).json();
    await call('POST', '/v1/hub/checkpoints', json({ not: 'bytes' }, OPERATOR));
    await call('GET', '/v1/hub/objects?type=recipe');
    await call('GET', '/v1/hub/objects?type=nope');
    await call('GET', `/v1/hub/objects/${recipe.cid}`);
    await call('GET', `/v1/hub/objects/${checkpoint.cid}`);
    await call('GET', '/v1/hub/objects/bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy');
    await call('PUT', `/v1/hub/objects/${recipe.cid}/pin`, operator);
    await call('DELETE', `/v1/hub/objects/${recipe.cid}/pin`, operator);
    await call('PUT', '/v1/hub/objects/bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy/pin', operator);
    await call('POST', '/v1/hub/gc', operator);
    await call('POST', '/v1/hub/gc');
    await call('POST', '/v1/formulas', json({ text: 'a warm amber evening scent, no musk' }));
    await call('POST', '/v1/formulas', json({ brief: { nope: true } }));
    const job = (await call('POST', '/v1/training/jobs', json({ algo: 'ppo', episodes: 16, seed: 3, hidden: 16 }, OPERATOR))).json();
    await call('POST', '/v1/training/jobs', json({ algo: 'ppo', episodes: -1 }, OPERATOR));
    await call('GET', '/v1/training/jobs?limit=5');
    await call('GET', `/v1/training/jobs/${job.id}`);
    await call('GET', '/v1/training/jobs/nope');
    await call('POST', '/v1/alerts/webhook', json({ version: '4', status: 'resolved', receiver: 'automation', groupLabels: {}, commonLabels: {}, commonAnnotations: {}, externalURL: 'http://127.0.0.1:9093', groupKey: '{}', truncatedAlerts: 0, alerts: [] }, { authorization: `Bearer ${WEBHOOK_TOKEN}` }));
    await call('POST', '/v1/alerts/webhook', json({ version: '4' }, { authorization: `Bearer ${WEBHOOK_TOKEN}` }));
    await call('POST', '/v1/alerts/webhook', json({}, OPERATOR));
    await call('POST', '/v1/remediation/actions/ifra-abcdef/approve', json({ note: 'checked' }, OPERATOR));
    await call('POST', '/v1/remediation/actions/nope/approve', operator);

    // Every operation answered at least once with success, but the approval (an action awaiting approval
    // needs a firing alert and its runbook: test/integration/remediation-service.test.ts).
    const succeeded = new Set([...validator.seen].filter((key) => /\s2\d\d$/.test(key)).map((key) => key.replace(/\s\d+$/, '')));
    const missing = Object.entries(doc.paths)
      .flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`))
      .filter((key) => !succeeded.has(key) && key !== 'POST /v1/remediation/actions/{id}/approve');
    assert.deepEqual(missing, []);
  });

  it("docs/api.md's curl examples run against the service and answer as documented", async () => {
    const found = examples();
    assert.ok(found.length >= 10, `${found.length} examples`);
    assert.equal(found.length, (readFileSync(API_MD, 'utf8').match(/```sh/g) ?? []).length, 'every shell block has its <!-- expect N --> comment');
    const dir = mkdtempSync(join(tmpdir(), 'fai-api-md-'));
    const { port } = app.server.server.address() as { port: number };
    for (const [i, example] of found.entries()) {
      const bodyFile = join(dir, `body-${i}`);
      // curl as the page writes it, its answer's body to a file and its status and content type on stdout.
      const script = `curl() { command curl -o "$FAI_BODY" -w '%{http_code} %{content_type}' "$@"; }\n${example.command}\n`;
      const { stdout } = await promisify(execFile)('sh', ['-c', script], {
        env: { PATH: process.env.PATH, FAI_URL: `http://127.0.0.1:${port}`, FAI_ADMIN_TOKEN: TEST_ADMIN_TOKEN, FAI_BODY: bodyFile },
      });
      const [status, contentType] = stdout.trim().split(' ');
      const body = readFileSync(bodyFile, 'utf8');
      assert.equal(Number(status), example.expect, `${example.command}\n→ ${stdout} ${body.slice(0, 300)}`);
      const method = /-X (\w+)/.exec(example.command)?.[1] ?? (/ -d /.test(example.command) ? 'POST' : 'GET');
      const url = /\$FAI_URL(\/[^"\s]*)/.exec(example.command)![1]!;
      validator.validate(method, url, Number(status), contentType, body);
    }
  });
});
