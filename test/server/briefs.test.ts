import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createApp, type App } from '../../src/server/index.ts';
import { testConfig } from '../helpers/config.ts';
import { startLlmServer, type LlmTestServer } from '../helpers/llm-server.ts';
import { OPERATOR } from '../helpers/operator.ts';

let app: App;
let qwen: LlmTestServer;
before(async () => {
  qwen = await startLlmServer('qwen');
  app = createApp(testConfig({ LLM_QWEN_URL: qwen.url }));
  await app.server.ready();
});
after(async () => {
  await app.close();
  await qwen.stop();
});

const post = (payload: unknown) => app.server.inject({ method: 'POST', url: '/v1/briefs', headers: { 'content-type': 'application/json' }, payload: typeof payload === 'string' ? payload : JSON.stringify(payload) });

describe('POST /v1/briefs', () => {
  it('answers {brief, mode, model, elapsedMs}', async () => {
    const response = await post({ text: 'a warm amber for winter evenings, no musk', mode: 'balanced' });
    assert.equal(response.statusCode, 200);
    const body = response.json();
    assert.deepEqual([body.mode, body.model], ['balanced', 'qwen']);
    assert.equal(typeof body.elapsedMs, 'number');
    assert.equal(body.brief.language, 'en');
  });

  it('answers 200 from the local model for a text past the schema\'s bounds (13 top notes, 21 refusals), saying what it trimmed', async () => {
    const tops = ['bergamot', 'lemon', 'grapefruit', 'orange', 'mandarin', 'mint', 'green tea', 'cucumber', 'apple', 'peach', 'berry', 'sea salt'];
    const refusals = ['rose', 'jasmine', 'lavender', 'iris', 'violet', 'cinnamon', 'pepper', 'vanilla', 'tonka', 'caramel', 'coffee', 'chocolate', 'sandalwood', 'cedar', 'vetiver', 'patchouli', ...tops];
    // qwen answers prose: the local model is the last resort.
    qwen.setDefault({ kind: 'not-json' });
    const response = await post({ text: refusals.map((r) => `no ${r}`).join(', '), mode: 'balanced' });
    qwen.setDefault({ kind: 'valid' });
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(response.json().model, 'local');
    assert.equal(response.json().brief.forbiddenIngredients.length, 20);
    assert.match(response.json().trimmed.join(' '), /forbiddenIngredients/);
  });

  it('names the field of bad input with a 400', async () => {
    for (const [payload, field] of [
      [{ text: '' }, 'body.text'],
      [{ text: '   ' }, 'body.text'],
      [{ text: 'x'.repeat(4001) }, 'body.text'],
      [{ text: 'amber', mode: 'turbo' }, 'body.mode'],
      [{}, 'body.text'],
      [{ text: 42 }, 'body.text'],
      [{ text: 'amber', temperature: 2 }, 'body'],
    ] as const) {
      const response = await post(payload);
      assert.equal(response.statusCode, 400, JSON.stringify(payload));
      assert.equal(response.json().error.field, field, JSON.stringify(payload));
    }
    assert.equal((await post('{"text": ')).statusCode, 400);
  });
});

describe('downshift over HTTP (what the runbook calls)', () => {
  it('forces, reports and clears a downshift; /health/llm shows it', async () => {
    const forced = await app.server.inject({ method: 'PUT', url: '/v1/llm/downshift/creative', headers: OPERATOR });
    assert.equal(forced.statusCode, 200);
    assert.equal(forced.json().modes.find((m: { mode: string }) => m.mode === 'creative').active, true);
    const brief = (await post({ text: 'amber', mode: 'creative' })).json();
    assert.deepEqual([brief.mode, brief.downshiftedFrom], ['balanced', 'creative']);
    const health = (await app.server.inject({ method: 'GET', url: '/health/llm?model=qwen' })).json();
    assert.equal(health.status, 'up');
    assert.equal(health.downshift.find((m: { mode: string }) => m.mode === 'creative').forced, true);
    assert.equal((await app.server.inject({ method: 'DELETE', url: '/v1/llm/downshift/creative', headers: OPERATOR })).statusCode, 200);
    assert.equal((await post({ text: 'amber', mode: 'creative' })).json().mode, 'creative');
    assert.equal((await app.server.inject({ method: 'PUT', url: '/v1/llm/downshift/fast', headers: OPERATOR })).statusCode, 400);
    assert.equal((await app.server.inject({ method: 'PUT', url: '/v1/llm/downshift/turbo', headers: OPERATOR })).json().error.field, 'params.mode');
  });
});
