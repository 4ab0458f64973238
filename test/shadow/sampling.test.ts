import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/index.ts';
import { DEFAULT_RATES, RatesSchema, sampled } from '../../src/shadow/index.ts';

describe('shadow sampling', () => {
  it('samples each stage\'s share of request ids within ±0.5 points over 100 000 ids', () => {
    for (const [stage, rate] of Object.entries(DEFAULT_RATES)) {
      let hits = 0;
      for (let i = 0; i < 100_000; i++) if (sampled(`req-${i}`, rate)) hits++;
      assert.ok(Math.abs(hits / 100_000 - rate) < 0.005, `${stage}: ${hits / 1000} % sampled, ${rate * 100} % wanted`);
    }
    assert.deepEqual(DEFAULT_RATES, { development: 1, staging: 0.5, production: 0.05, incident: 0.1 });
  });

  it('decides by the request id: a retried request (same id) is in or out again', () => {
    for (let i = 0; i < 1000; i++) assert.equal(sampled(`retry-${i}`, 0.05), sampled(`retry-${i}`, 0.05));
    assert.equal(sampled('anything', 0), false);
    assert.equal(sampled('anything', 1), true);
  });

  it('takes rates from SHADOW_RATES and refuses a malformed one naming it', () => {
    assert.deepEqual(RatesSchema.parse('production=0.02, incident=0.2'), { development: 1, staging: 0.5, production: 0.02, incident: 0.2 });
    assert.equal(loadConfig({ SHADOW_RATES: 'staging=0.25' }).shadow.rates.staging, 0.25);
    for (const bad of ['production=2', 'moon=0.1', 'production', 'production=0.1=2', 'production=abc']) {
      assert.throws(() => loadConfig({ SHADOW_RATES: bad }), /SHADOW_RATES/, bad);
    }
    assert.throws(() => loadConfig({ SHADOW_STAGE: 'moon' }), /SHADOW_STAGE/);
  });
});
