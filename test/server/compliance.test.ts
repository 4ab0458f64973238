import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { catalogue, readSamples } from '../../src/metrics/index.ts';
import { useTestApp } from '../helpers/app.ts';

const app = useTestApp();

const post = (payload: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
  app().server.inject({ method: 'POST', url: '/v1/compliance/check', headers, payload: typeof payload === 'string' ? payload : JSON.stringify(payload) });

describe('POST /v1/compliance/certificate', () => {
  const certificate = (payload: unknown, url = '/v1/compliance/certificate') =>
    app().server.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: typeof payload === 'string' ? payload : JSON.stringify(payload) });

  it('answers the maximum dosage in each of the 18 categories, from the check\'s formula input', async () => {
    const response = await certificate({ name: 'Citrus', category: '4', dosagePct: 15, formula: [{ material: 'Bergamot oil', concentrationPct: 12 }, { material: 'Grapefruit oil', concentrationPct: 6 }] });
    assert.equal(response.statusCode, 200);
    const body = response.json();
    assert.equal(body.amendment, 51);
    assert.equal(body.name, 'Citrus');
    assert.equal(body.categories.length, 18);
    const cat4 = body.categories.find((c: { category: string }) => c.category === '4');
    // Bergamot 0.4, grapefruit 4: 100 / (12/0.4 + 6/4) = 3.174 (rounded down).
    assert.deepEqual([cat4.maxDosagePct, cat4.limitedBy[0].id], [3.174, 'furocoumarin_oils']);
  });

  it('answers the printable page with ?format=html', async () => {
    const response = await certificate({ formula: [{ material: 'Coumarin', concentrationPct: 2 }] }, '/v1/compliance/certificate?format=html');
    assert.equal(response.statusCode, 200);
    assert.match(response.headers['content-type'] as string, /^text\/html/);
    assert.match(response.body, /<h1>IFRA Certificate of Conformity<\/h1>/);
  });

  it('answers 400 naming the field for bad input', async () => {
    const cases: Array<[unknown, string, string?]> = [
      [{ formula: [{ material: 'Linalool', concentrationPct: -1 }] }, 'body.formula.0.concentrationPct'],
      [{ formula: [] }, 'body.formula'],
      [{ formula: [{ material: 'Linalool', concentrationPct: 1 }, { material: '78-70-6', concentrationPct: 1 }] }, 'formula.1.material'],
      [{ formula: [{ material: 'Linalool', concentrationPct: 1 }] }, 'query.format', '/v1/compliance/certificate?format=pdf'],
      ['{"formula": [', 'body'],
    ];
    for (const [payload, field, url] of cases) {
      const response = await certificate(payload, url);
      assert.equal(response.statusCode, 400, JSON.stringify(payload));
      assert.equal(response.json().error.field, field, JSON.stringify(payload));
    }
  });
});

describe('POST /v1/compliance/check', () => {
  it('answers the check result and moves the regulation metrics', async () => {
    const response = await post({ category: '4', dosagePct: 15, formula: [{ material: 'Citronellal', concentrationPct: 4 }, { material: 'Linalool', concentrationPct: 8 }] });
    assert.equal(response.statusCode, 200);
    const body = response.json();
    assert.equal(body.verdict, 'fail');
    assert.equal(body.checks.concentration, 'fail');
    assert.equal(body.materials[0].finishedPct, 0.6);
    assert.equal(body.materials[0].standards[0].limitPct, 0.49);
    assert.deepEqual(body.allergens.declare.map((a: { labelName: string }) => a.labelName), ['Linalool']);
    const violations = await readSamples(app().metrics.registry, catalogue.ifraViolationsTotal);
    // A customer's own check: counted as source="check", which IFRAViolation does not alert on.
    assert.deepEqual(violations.map((s) => s.labels), [{ ingredient: 'citronellal', violation_type: 'over_limit', source: 'check' }]);
    const rate = await readSamples(app().metrics.registry, catalogue.ifraComplianceRate);
    assert.equal(rate.find((s) => s.labels.check_type === 'concentration')?.value, 0);
  });

  it('answers 400 naming the field for bad values', async () => {
    const cases: Array<[unknown, string]> = [
      [{ category: '4', dosagePct: 15, formula: [{ material: 'Linalool', concentrationPct: -2 }] }, 'body.formula.0.concentrationPct'],
      [{ category: '4', dosagePct: 15, formula: [{ material: 'Linalool', concentrationPct: 120 }] }, 'body.formula.0.concentrationPct'],
      [{ category: '4', dosagePct: 15, formula: [{ material: 'Linalool', concentrationPct: 70 }, { material: 'Hedione', concentrationPct: 40 }] }, 'body.formula'],
      [{ category: '99', dosagePct: 15, formula: [{ material: 'Linalool', concentrationPct: 1 }] }, 'category'],
      [{ category: '4', formula: [{ material: 'Linalool', concentrationPct: 1 }] }, 'body.dosagePct'],
      // A line whose material and CAS name two substances (linalool, and Lilial's CAS).
      [{ category: '4', dosagePct: 15, formula: [{ material: 'Linalool', cas: '80-54-6', concentrationPct: 1 }] }, 'formula.0.cas'],
    ];
    for (const [payload, field] of cases) {
      const response = await post(payload);
      assert.equal(response.statusCode, 400, JSON.stringify(payload));
      assert.equal(response.json().error.field, field, JSON.stringify(payload));
    }
    const conflict = await post({ category: '4', dosagePct: 15, formula: [{ material: 'Linalool', cas: '80-54-6', concentrationPct: 1 }] });
    assert.match(conflict.json().error.message, /material "Linalool" is Linalool \(78-70-6\) but cas "80-54-6" is .*: a line names one substance/);
  });

  it('answers a malformed body with 400, an oversized one with 413, another content type with 415', async () => {
    const malformed = await post('{"category": "4", "formula": [');
    assert.deepEqual([malformed.statusCode, malformed.json().error.code], [400, 'FAI_ERR_MALFORMED_BODY']);
    const huge = await post({ category: '4', dosagePct: 15, formula: [{ material: 'x'.repeat(300_000), concentrationPct: 1 }] });
    assert.deepEqual([huge.statusCode, huge.json().error.field], [413, 'body']);
    const csv = await post('material,concentration_pct\nLinalool,1\n', { 'content-type': 'text/csv' });
    assert.equal(csv.statusCode, 415);
  });

  it('counts its requests against the regulation component', async () => {
    const operations = await readSamples(app().metrics.registry, catalogue.systemOperationsTotal);
    assert.ok((operations.find((s) => s.labels.component === 'regulation')?.value ?? 0) >= 4);
  });
});
