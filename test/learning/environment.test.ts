import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { drawBriefs, FormulationEnv, MAX_UNITS, Random, STEPS } from '../../src/learning/index.ts';
import { localBrief } from '../../src/llm/index.ts';

const env = new FormulationEnv();
const amber = localBrief('a warm amber for winter evenings, no musk');
const index = (name: string) => env.palette.findIndex((m) => m.name === name);

describe('formulation environment', () => {
  it('acts on the whole palette: one action per material, the brief and its masks in the state', () => {
    assert.equal(env.palette.length, 170);
    assert.equal(env.actions, 170);
    assert.equal(env.stateSize, 2 * 14 + 3 + 3 * 170 + 1);
    const state = env.encode(amber, new Map(), 0);
    const allowedOffset = 2 * 14 + 3 + 2 * 170 + 1;
    assert.equal(state[allowedOffset + index('Galaxolide')], 0, 'refused ("no musk"): not allowed');
    assert.equal(state[allowedOffset + index('Cashmeran')], 1);
  });

  it('raises a material a unit at a time up to MAX_UNITS, and never picks what the brief refuses', () => {
    const units = new Map<number, number>();
    for (let i = 0; i < MAX_UNITS + 2; i++) env.apply(units, 3);
    assert.equal(units.get(3), MAX_UNITS);
    const galaxolide = index('Galaxolide');
    const episode = env.episode(amber, () => galaxolide, new Random(1));
    assert.equal(episode.units.size, 0, 'every step tried a refused material: nothing was picked');
  });

  it('is deterministic given a seed', () => {
    const run = () => env.episode(amber, (_, r) => r.int(env.actions), new Random(42));
    assert.deepEqual(run().actions, run().actions);
    assert.equal(run().reward.total, run().reward.total);
    assert.equal(run().states.length, STEPS);
  });

  it('rewards the brief: more of the wanted family and a balanced pyramid score higher; the composer leaves nothing refused or non-compliant', () => {
    // The brief wants ambery/balsamic: picks in that family against picks outside it.
    const ambery = new Map<number, number>([[index('Bergamot oil'), 1], [index('Cashmeran'), 2], [index('Benzyl benzoate'), 4], [index('Labdanum absolute'), 2]]);
    const elsewhere = new Map<number, number>([[index('Hedione'), 4], [index('Linalool'), 4], [index('Dihydromyrcenol'), 4]]);
    for (const key of [...ambery.keys(), ...elsewhere.keys()]) assert.notEqual(key, -1);
    const good = env.reward(amber, ambery);
    const poor = env.reward(amber, elsewhere);
    assert.ok(good.familyMatch > poor.familyMatch, `${good.familyMatch} vs ${poor.familyMatch}`);
    assert.ok(good.total > poor.total);
    const withMusk = env.reward(amber, new Map([...ambery, [index('Galaxolide'), 4]]));
    assert.equal(withMusk.forbidden, 0, 'Galaxolide is refused: the composer drops it');
    const lilial = env.reward(amber, new Map([[index('Lilial'), 4]]));
    assert.notEqual(lilial.compliant, 'fail', 'Lilial (EU Annex II) never reaches the formula');
    assert.equal(lilial.compliance, 2);
  });

  it('calibration: a random policy scores below what the composer makes of no picks, on briefs it never saw', () => {
    const random = new Random(1);
    const briefs = drawBriefs(31_337, 60);
    let randomSum = 0;
    let aloneSum = 0;
    for (const brief of briefs) {
      randomSum += env.episode(brief, (_, r) => r.int(env.actions), random).reward.total;
      aloneSum += env.reward(brief, new Map()).total;
    }
    const randomMean = randomSum / briefs.length;
    const aloneMean = aloneSum / briefs.length;
    assert.ok(randomMean < aloneMean, `random ${randomMean.toFixed(2)} vs composer alone ${aloneMean.toFixed(2)}`);
    assert.ok(randomMean > 10 && randomMean < 22, `random ${randomMean.toFixed(2)}`);
  });
});
