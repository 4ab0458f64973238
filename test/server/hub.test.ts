import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { catalogue, readSamples } from '../../src/metrics/index.ts';
import { createApp, type App } from '../../src/server/index.ts';
import { testConfig } from '../helpers/config.ts';
import { OPERATOR } from '../helpers/operator.ts';

let app: App;
before(async () => {
  app = createApp(testConfig({ HUB_MAX_CHECKPOINT_MB: '8' }));
  await app.server.ready();
});
after(async () => {
  await app.close();
});

const json = (method: 'POST' | 'GET' | 'PUT' | 'DELETE', url: string, payload?: unknown) =>
  app.server.inject({ method, url, headers: { ...OPERATOR, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) }, ...(payload === undefined ? {} : { payload: JSON.stringify(payload) }) });

describe('Cloud Hub over HTTP', () => {
  let recipeCid: string;

  it('stores a recipe (201 with its CID) and returns it by CID', async () => {
    const stored = await json('POST', '/v1/hub/recipes?tags=summer,marine', { name: 'Sea breeze', formula: [{ material: 'Calone', concentrationPct: 0.4 }] });
    assert.equal(stored.statusCode, 201);
    recipeCid = stored.json().cid;
    assert.match(recipeCid, /^baguqeera/);
    assert.deepEqual(stored.json().tags, ['summer', 'marine']);
    const fetched = await json('GET', `/v1/hub/objects/${recipeCid}`);
    assert.equal(fetched.statusCode, 200);
    assert.equal(fetched.json().data.name, 'Sea breeze');
    assert.equal(fetched.json().record.data_type, 'recipe');
  });

  it('validates feedback at the edge, naming the field', async () => {
    const good = await json('POST', '/v1/hub/feedback', { recipeCid, rating: 5, text: '상큼해요', preferredNotes: ['citrus'], dislikedAspects: [] });
    assert.equal(good.statusCode, 201);
    for (const [payload, field] of [
      [{ recipeCid, rating: 6 }, 'body.rating'],
      [{ recipeCid, rating: 2.5 }, 'body.rating'],
      [{ recipeCid: 'not-a-cid', rating: 3 }, 'body.recipeCid'],
      [{ rating: 3 }, 'body.recipeCid'],
      [{ recipeCid, rating: 3, mood: 'x' }, 'body'],
    ] as const) {
      const response = await json('POST', '/v1/hub/feedback', payload);
      assert.equal(response.statusCode, 400, JSON.stringify(payload));
      assert.equal(response.json().error.field, field, JSON.stringify(payload));
    }
  });

  it('stores a checkpoint as bytes and returns the same bytes with its CID and checksum', async () => {
    const bytes = Buffer.alloc(1_500_000, 0).map((_, i) => i % 241);
    const stored = await app.server.inject({ method: 'POST', url: '/v1/hub/checkpoints?tags=ppo', headers: { ...OPERATOR, 'content-type': 'application/octet-stream' }, payload: bytes });
    assert.equal(stored.statusCode, 201);
    const { cid, checksum, size } = stored.json();
    assert.equal(size, bytes.length);
    const fetched = await app.server.inject({ method: 'GET', url: `/v1/hub/objects/${cid}` });
    assert.equal(fetched.statusCode, 200);
    assert.equal(fetched.headers['content-type'], 'application/octet-stream');
    assert.equal(fetched.headers['x-fai-checksum-sha256'], checksum);
    assert.equal(Buffer.compare(fetched.rawPayload, bytes), 0);
  });

  it('refuses a checkpoint over the size limit (413) and one sent as JSON (400)', async () => {
    const huge = await app.server.inject({ method: 'POST', url: '/v1/hub/checkpoints', headers: { ...OPERATOR, 'content-type': 'application/octet-stream' }, payload: Buffer.alloc(9 * 1024 * 1024) });
    assert.equal(huge.statusCode, 413);
    const asJson = await json('POST', '/v1/hub/checkpoints', { weights: [1, 2] });
    assert.equal(asJson.statusCode, 400);
    assert.equal(asJson.json().error.field, 'body');
  });

  it('lists by type, pins and unpins', async () => {
    const list = await json('GET', '/v1/hub/objects?type=recipe');
    assert.deepEqual(list.json().objects.map((o: { cid: string }) => o.cid), [recipeCid]);
    assert.equal((await json('PUT', `/v1/hub/objects/${recipeCid}/pin`)).json().pinned, true);
    assert.equal((await json('DELETE', `/v1/hub/objects/${recipeCid}/pin`)).json().pinned, false);
    const ops = await readSamples(app.metrics.registry, catalogue.ipfsOperationsTotal);
    assert.ok((ops.find((s) => s.labels.operation === 'pin')?.value ?? 0) >= 1);
  });

  it('answers a malformed CID with 400, an unknown one with 404, a bad type with 400', async () => {
    const malformed = await json('GET', '/v1/hub/objects/zzz');
    assert.deepEqual([malformed.statusCode, malformed.json().error.code], [400, 'FAI_ERR_VALIDATION']);
    const unknown = await json('GET', '/v1/hub/objects/bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku');
    assert.equal(unknown.statusCode, 404);
    const badType = await json('GET', '/v1/hub/objects?type=perfume');
    assert.deepEqual([badType.statusCode, badType.json().error.field], [400, 'query.type']);
    assert.equal((await json('PUT', '/v1/hub/objects/zzz/pin')).statusCode, 400);
  });

  it('collects garbage on request', async () => {
    const response = await json('POST', '/v1/hub/gc');
    assert.equal(response.statusCode, 200);
    assert.ok(response.json().kept >= 3, 'the live recipe, feedback and checkpoint blocks stay');
  });
  it('refuses at write what dag-json cannot store faithfully (400 naming the path), and every stored recipe reads back as sent', async () => {
    const raw = (payload: string) => app.server.inject({ method: 'POST', url: '/v1/hub/recipes', headers: { ...OPERATOR, 'content-type': 'application/json' }, payload });
    const deep = `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`;
    const cases: Array<[string, RegExp]> = [
      ['{"a":1e400}', /body\.a: Infinity is not a finite number/],
      [deep, /nested deeper than 64 levels/],
      ['{"/":"notacid"}', /"\/" is reserved by dag-json/],
      ['{"a":{"/":"zzz"}}', /body\.a: the key "\/" is reserved/],
      ['{"x":{"/":{"bytes":"aGVsbG8"}}}', /body\.x: the key "\/" is reserved/],
    ];
    for (const [payload, message] of cases) {
      const response = await raw(payload);
      assert.equal(response.statusCode, 400, `${payload.slice(0, 40)} → ${response.statusCode} ${response.body.slice(0, 200)}`);
      assert.match(response.json().error.message, message);
    }
    // Just under the depth limit, and awkward but valid values, round-trip exactly.
    const nested = JSON.parse(`${'{"a":'.repeat(60)}[1.5, -0, "é\\u0000", null, true]${'}'.repeat(60)}`);
    for (const value of [nested, { emptyKey: { '': 1 }, slash: 'a/b', unicode: '장미 🌹', big: 1e300 }]) {
      const stored = await json('POST', '/v1/hub/recipes', value);
      assert.equal(stored.statusCode, 201, stored.body);
      const read = await json('GET', `/v1/hub/objects/${stored.json().cid}`);
      assert.equal(read.statusCode, 200, read.body);
      assert.deepEqual(read.json().data, JSON.parse(JSON.stringify(value)));
    }
  });

});
