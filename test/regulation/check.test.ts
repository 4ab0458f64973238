import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FaiError } from '../../src/errors/index.ts';
import { checkFormula, RegulatoryCatalogue, type CheckRequest } from '../../src/regulation/index.ts';

const catalogue = RegulatoryCatalogue.load();
const check = (request: Partial<CheckRequest> & Pick<CheckRequest, 'formula'>) => checkFormula(catalogue, { category: '4', dosagePct: 100, ...request });
const line = (material: string, concentrationPct: number) => ({ material, concentrationPct });

describe('checkFormula: restrictions at their boundaries', () => {
  // Citronellal, IFRA category 4: 0.49 % of the finished product (IFRA_STD_CITRONELLAL).
  it('passes below 80 % of the limit, warns above it, passes at the limit, fails above it', () => {
    const at = (pct: number) => check({ formula: [line('Citronellal', pct)] });
    assert.deepEqual([at(0.392).checks.concentration, at(0.392).materials[0]?.verdict], ['pass', 'pass'], 'exactly 80 % of the limit');
    assert.equal(at(0.3921).checks.concentration, 'warning');
    const equal = at(0.49);
    assert.equal(equal.checks.concentration, 'warning', 'equal to the limit is within it (a warning, not a failure)');
    assert.equal(equal.materials[0]?.standards[0]?.excessPct, 0);
    const above = at(0.4901);
    assert.equal(above.checks.concentration, 'fail');
    assert.equal(above.verdict, 'fail');
    assert.equal(above.materials[0]?.standards[0]?.excessPct, 0.0001);
  });

  it('computes the finished-product concentration from the dosage', () => {
    // 3 % in the concentrate at 15 % dosage is 0.45 % in the product: under 0.49.
    const edp = check({ formula: [line('Citronellal', 3)], dosagePct: 15 });
    assert.equal(edp.materials[0]?.finishedPct, 0.45);
    assert.equal(edp.checks.concentration, 'warning');
    // 4 % at 15 % is 0.6 %: over.
    assert.equal(check({ formula: [line('Citronellal', 4)], dosagePct: 15 }).checks.concentration, 'fail');
    // 49 % at 1 % is exactly the limit, despite floating point.
    assert.equal(check({ formula: [line('Citronellal', 49)], dosagePct: 1 }).materials[0]?.finishedPct, 0.49);
  });

  it('applies the limit of the product category, with sub-categories', () => {
    const in5A = check({ formula: [line('Citronellal', 0.34)], category: '5A' }); // 5A: 0.33
    assert.equal(in5A.checks.concentration, 'fail');
    assert.equal(check({ formula: [line('Citronellal', 0.34)], category: '9' }).checks.concentration, 'pass'); // 9: 1.4
    const candle = check({ formula: [line('Citronellal', 40)], category: '12' }); // 12: no restriction
    assert.deepEqual([candle.checks.concentration, candle.materials[0]?.standards[0]?.limit], ['pass', 'no_restriction']);
  });

  it('refuses an unknown category, and a parent category that has sub-categories', () => {
    assert.throws(() => check({ formula: [line('Citronellal', 1)], category: '13' }), (e: unknown) => e instanceof FaiError && e.field === 'category' && /unknown IFRA category "13"/.test(e.message));
    assert.throws(() => check({ formula: [line('Citronellal', 1)], category: '5' }), /sub-categories 5A, 5B, 5C, 5D/);
  });

  it('reports a restricted material whose limit is not sourced as unknown, never as allowed', () => {
    const result = check({ formula: [line('Coumarin', 1)] });
    assert.equal(result.checks.concentration, 'unknown');
    assert.equal(result.materials[0]?.standards[0]?.limit, 'not_sourced');
    assert.ok(result.gaps.some((g) => /category 4 limit of Coumarin/.test(g)));
  });
});

describe('checkFormula: combinations ("sum of")', () => {
  it('sums every line a Standard covers against its one limit', () => {
    // Citronellal's Standard names two CAS numbers: 106-23-0 and 5949-05-3.
    const result = check({ formula: [line('106-23-0', 0.3), line('5949-05-3', 0.3)] });
    assert.equal(result.checks.concentration, 'pass', 'no single-line limit is involved');
    assert.equal(result.checks.combination, 'fail');
    const [sum] = result.combinations;
    assert.deepEqual([sum?.id, sum?.totalPct, sum?.limitPct, sum?.excessPct], ['citronellal', 0.6, 0.49, 0.11]);
    assert.deepEqual(sum?.lines, [0, 1]);
  });

  it('counts oakmoss and treemoss together against the treemoss limit', () => {
    // Treemoss, category 4: 0.1 % (SCENTREE_TREEMOSS); alone at 0.08 % (exactly 80 %) it passes, at 0.09 % with a warning.
    assert.equal(check({ formula: [line('Treemoss absolute', 0.08)] }).checks.concentration, 'pass');
    assert.equal(check({ formula: [line('Treemoss absolute', 0.09)] }).checks.concentration, 'warning');
    const both = check({ formula: [line('Treemoss absolute', 0.08), line('Oakmoss absolute', 0.03)] });
    const group = both.combinations.find((c) => c.id === 'oakmoss_treemoss');
    assert.deepEqual([group?.totalPct, group?.limitPct, group?.verdict], [0.11, 0.1, 'fail']);
    assert.equal(both.checks.combination, 'fail');
  });
});

describe('checkFormula: prohibitions and unknowns', () => {
  it('fails a material IFRA prohibits', () => {
    const result = check({ formula: [line('Diphenylamine', 0.01)] });
    assert.equal(result.checks.ingredient, 'fail');
    assert.match(result.prohibited[0]?.reason ?? '', /IFRA prohibition/);
  });

  it('fails a material the EU moved to Annex II (Lilial), whatever its concentration', () => {
    const result = check({ formula: [line('Lilial', 0.0001)] });
    assert.equal(result.checks.ingredient, 'fail');
    assert.ok(result.prohibited.some((p) => /Annex II/.test(p.reason)));
    assert.equal(result.allergens.found[0]?.status, 'prohibited');
  });

  it('reports an unknown material as unknown in normal mode and fails it in strict mode', () => {
    const normal = check({ formula: [line('Unobtainium', 1), line('Hedione', 10)] });
    assert.deepEqual([normal.checks.ingredient, normal.verdict], ['unknown', 'unknown']);
    assert.deepEqual(normal.unknownMaterials, [{ line: 0, input: 'Unobtainium' }]);
    assert.equal(normal.materials[0]?.known, false);
    const strict = check({ formula: [line('Unobtainium', 1), line('Hedione', 10)], strict: true });
    assert.deepEqual([strict.checks.ingredient, strict.verdict], ['fail', 'fail']);
  });

  it('fails warnings in strict mode', () => {
    assert.equal(check({ formula: [line('Citronellal', 0.45)], strict: true }).checks.concentration, 'fail');
  });

  it('passes a known material without any Standard', () => {
    const result = check({ formula: [line('Hedione', 30)] });
    assert.equal(result.verdict, 'pass');
    assert.match(result.materials[0]?.notes[0] ?? '', /no IFRA Standard/);
  });

  it('refuses a material listed twice, by name and by CAS', () => {
    assert.throws(() => check({ formula: [line('Linalool', 1), line('78-70-6', 1)] }), (e: unknown) => e instanceof FaiError && e.field === 'formula.1.material');
  });
});

describe('checkFormula: EU allergens', () => {
  it('declares above 0.001 % in leave-on and 0.01 % in rinse-off products, not at the threshold', () => {
    const leaveOn = (pct: number) => check({ formula: [line('Linalool', pct)], exposure: 'leave_on' }).allergens;
    assert.equal(leaveOn(0.001).declare.length, 0, 'exactly the threshold: no declaration');
    assert.deepEqual(leaveOn(0.0011).declare.map((a) => [a.labelName, a.totalPct, a.thresholdPct]), [['Linalool', 0.0011, 0.001]]);
    const rinseOff = (pct: number) => check({ formula: [line('Linalool', pct)], exposure: 'rinse_off' }).allergens;
    assert.equal(rinseOff(0.005).declare.length, 0);
    assert.equal(rinseOff(0.0101).declare.length, 1);
  });

  it('takes leave-on or rinse-off from the category unless told', () => {
    assert.equal(check({ formula: [line('Linalool', 1)], category: '9' }).exposure, 'rinse_off');
    assert.equal(check({ formula: [line('Linalool', 1)], category: '4' }).exposure, 'leave_on');
    assert.equal(check({ formula: [line('Linalool', 1)], category: '9', exposure: 'leave_on' }).exposure, 'leave_on');
  });

  it('declares a natural that is itself a listed allergen, and says its constituents were not assessed', () => {
    const result = check({ formula: [line('Bergamot oil', 10)], dosagePct: 15 });
    assert.deepEqual(result.allergens.declare.map((a) => a.totalPct), [1.5]);
    assert.deepEqual(result.allergens.notAssessed, [{ line: 0, material: 'Bergamot oil' }]);
    assert.ok(result.gaps.some((g) => /composition of natural materials/.test(g)));
  });
});
