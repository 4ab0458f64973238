import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { drawBriefs, FormulationEnv, MAX_UNITS, PER_MATERIAL, PreparedBriefs, Random, STEPS, stateLayout } from '../../src/learning/index.ts';
import { localBrief } from '../../src/llm/index.ts';

const env = new FormulationEnv();
const amber = env.prepare(localBrief('a warm amber for winter evenings, no musk'));
const index = (name: string) => env.palette.findIndex((m) => m.name === name);

describe('formulation environment', () => {
  it('acts on the whole palette: one action per material, the brief as scalars, then one block per per-material feature, the mask last', () => {
    assert.equal(env.palette.length, 170);
    assert.equal(env.actions, 170);
    const layout = stateLayout(170);
    assert.equal(env.stateSize, layout.scalars + (PER_MATERIAL.length + 1) * 170);
    assert.equal(layout.blocks.allowed, env.stateSize - 170, 'the mask is the last block (policy.ts reads it there)');
    const state = env.encode(amber, new Map(), 0);
    assert.equal(state[layout.blocks.allowed + index('Galaxolide')], 0, 'refused ("no musk"): not allowed');
    assert.equal(state[layout.blocks.allowed + index('Cashmeran')], 1);
    assert.equal(state[layout.blocks.asked + index('Labdanum absolute')], 1, 'ambery/balsamic is asked');
    // A material at MAX_UNITS is masked: picking it again would waste the step.
    const full = env.encode(amber, new Map([[index('Cashmeran'), MAX_UNITS]]), 4);
    assert.equal(full[layout.blocks.allowed + index('Cashmeran')], 0);
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

  it('rewards character: the asked family and its fit score higher than off-brief fillers, which cost; nothing refused or non-compliant reaches the formula', () => {
    const ambery = new Map<number, number>([[index('Cashmeran'), 2], [index('Benzyl benzoate'), 4], [index('Labdanum absolute'), 2], [index('Vanillin'), 3], [index('Iso E Super'), 3], [index('Bergamot oil'), 1]]);
    const fillers = new Map<number, number>([[index('d-Limonene'), 4], [index('Dihydromyrcenol'), 4], [index('Linalyl acetate'), 4], [index('Eucalyptol'), 4]]);
    for (const key of [...ambery.keys(), ...fillers.keys()]) assert.notEqual(key, -1);
    const good = env.reward(amber, env.compose(amber, ambery));
    const poor = env.reward(amber, env.compose(amber, fillers));
    assert.ok(good.fidelity > poor.fidelity, `fidelity ${good.fidelity} vs ${poor.fidelity}`);
    assert.ok(good.character > poor.character, `character ${good.character} vs ${poor.character}`);
    assert.ok(poor.offCharacter < 0, 'fillers above 10 % of the concentrate cost');
    assert.ok(good.total > poor.total + 5, `${good.total} vs ${poor.total}`);
    const withMusk = env.reward(amber, env.compose(amber, new Map([...ambery, [index('Galaxolide'), 4]])));
    assert.equal(withMusk.forbidden, 0, 'Galaxolide is refused: the composer drops it');
    const lilial = env.reward(amber, env.compose(amber, new Map([[index('Lilial'), 4]])));
    assert.notEqual(lilial.compliant, 'fail', 'Lilial (EU Annex II) never reaches the formula');
    assert.equal(lilial.compliance, 0);
    // The composer's repairs are charged: no picks at all leaves every line to it.
    const alone = env.reward(amber, env.compose(amber, new Map()));
    assert.ok(alone.repairs <= -0.5 * 6, `repairs ${alone.repairs}`);
  });

  it('calibration: on briefs no run trains on, a random policy and the composer alone score well under the guide\'s normal band', () => {
    const random = new Random(1);
    const briefs = new PreparedBriefs(env, drawBriefs(31_337, 60));
    let randomSum = 0;
    let aloneSum = 0;
    for (const context of briefs) {
      randomSum += env.episode(context, (_, r) => r.int(env.actions), random).reward.total;
      aloneSum += env.reward(context, env.compose(context, new Map())).total;
    }
    const randomMean = randomSum / briefs.length;
    const aloneMean = aloneSum / briefs.length;
    assert.ok(randomMean < 12, `random ${randomMean.toFixed(2)}`);
    assert.ok(aloneMean < 14, `composer alone ${aloneMean.toFixed(2)}`);
  });

  it('doses the product: a body lotion at its usual dosage, a diffuser (not sourced) checked neat, a requested dosage as given', () => {
    const lotion = env.prepare(localBrief('a lavender body lotion'));
    assert.deepEqual([lotion.product, lotion.category, lotion.dosagePct, lotion.dosage.source], ['BODY_LOTION', '5A', 1, 'product']);
    assert.deepEqual([lotion.dosage.usualMinPct, lotion.dosage.usualMaxPct], [0.1, 2]);
    const candle = env.prepare(localBrief('a cozy vanilla candle'));
    assert.deepEqual([candle.category, candle.dosagePct], ['12', 6]);
    const diffuser = env.prepare(localBrief('a citrus diffuser'));
    assert.deepEqual([diffuser.dosagePct, diffuser.dosage.source], [100, 'not_sourced']);
    const asked = env.prepare(localBrief('a lavender body lotion'), { dosagePct: 0.5 });
    assert.deepEqual([asked.dosagePct, asked.dosage.source], [0.5, 'request']);
    assert.equal(env.compose(lotion, new Map()).request.dosagePct, 1);
  });
});
