import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FormulationEnv, MAX_MATERIALS, Random, STEPS } from '../../src/learning/index.ts';
import { localBrief } from '../../src/llm/index.ts';

const env = new FormulationEnv();
const amber = localBrief('a warm amber for winter evenings, no musk');
const index = (name: string) => env.palette.findIndex((m) => m.name === name);

describe('formulation environment', () => {
  it('uses the palette materials whose note position is sourced, two actions each', () => {
    assert.equal(env.palette.length, 112);
    assert.equal(env.actions, 224);
    assert.ok(env.palette.every((m) => m.notePosition !== null));
  });

  it('adds, raises, lowers and removes, and never holds more than MAX_MATERIALS materials', () => {
    const units = new Map<number, number>();
    env.apply(units, 0);
    env.apply(units, 0);
    assert.equal(units.get(0), 2);
    env.apply(units, env.palette.length + 0);
    assert.equal(units.get(0), 1);
    env.apply(units, env.palette.length + 0);
    assert.equal(units.has(0), false);
    for (let i = 0; i < 20; i++) env.apply(units, i);
    assert.equal(units.size, MAX_MATERIALS);
  });

  it('is deterministic given a seed', () => {
    const run = () => env.episode(amber, (_, r) => r.int(env.actions), new Random(42));
    assert.deepEqual(run().actions, run().actions);
    assert.equal(run().reward.total, run().reward.total);
    assert.equal(run().states.length, STEPS);
  });

  it('rewards the brief: wanted families and notes, pyramid balance; penalises refused and prohibited materials', () => {
    // The brief wants ambery/balsamic: Cashmeran (heart) and Benzyl benzoate (base), a citrus top, no musk.
    const good = new Map<number, number>([[index('Bergamot oil'), 1], [index('Cashmeran'), 1], [index('Benzyl benzoate'), 2]]);
    for (const key of good.keys()) assert.notEqual(key, -1);
    const withMusk = new Map([...good, [index('Galaxolide'), 2]]);
    const r1 = env.reward(amber, good);
    const r2 = env.reward(amber, withMusk);
    assert.ok(r1.familyMatch > 0, JSON.stringify(r1));
    assert.equal(r2.forbidden, -8, 'Galaxolide is musky: refused by "no musk"');
    assert.ok(r2.total < r1.total);
    const lilial = env.reward(amber, new Map([[index('Lilial'), 1]]));
    assert.equal(lilial.compliant, 'fail');
    assert.equal(lilial.compliance, -10);
  });

  it('scores a random policy well under 10 (calibration)', () => {
    const random = new Random(1);
    const briefs = [amber, localBrief('여름 바다 느낌, 상큼하고 가벼운 향. 바닐라는 싫어요'), localBrief('Romantic rose and jasmine eau de toilette for her')];
    let sum = 0;
    for (let i = 0; i < 300; i++) sum += env.episode(briefs[i % 3]!, (_, r) => r.int(env.actions), random).reward.total;
    const mean = sum / 300;
    assert.ok(mean < 10, `random mean ${mean}`);
  });
});
