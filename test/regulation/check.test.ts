import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { FaiError } from '../../src/errors/index.ts';
import { checkFormula, RegulatoryCatalogue, type CheckRequest } from '../../src/regulation/index.ts';
import { loadCatalogueParts } from '../../src/regulation/catalogue.ts';

const catalogue = RegulatoryCatalogue.load();
const check = (request: Partial<CheckRequest> & Pick<CheckRequest, 'formula'>) => checkFormula(catalogue, { category: '4', dosagePct: 100, ...request });
const line = (material: string, concentrationPct: number) => ({ material, concentrationPct });
const rows: Array<Record<string, string>> = parse(readFileSync(new URL('../../src/regulation/data/ifra-standards.csv', import.meta.url), 'utf8'), { columns: true });
/** A cell of ifra-standards.csv as written there. */
const limitCell = (material: string, column: string): string => rows.find((r) => r.material === material)![column]!;
const limitOf = (material: string, column: string): number => Number(limitCell(material, column));
/** The documented verdict rule: over the limit fails, over 80 % of it warns. */
const judgeByHand = (pct: number, limit: number) => (pct > limit ? 'fail' : pct > 0.8 * limit ? 'warning' : 'pass');

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
    // Isophorone: prohibition + restriction with no category limit in the data.
    const result = check({ formula: [line('78-59-1', 1)] });
    assert.equal(result.checks.ingredient, 'unknown');
    assert.ok(result.gaps.some((g) => /limits of Isophorone/.test(g)));
    // An empty cell of a restriction (a catalogue whose Coumarin cat 4 cell is emptied) answers unknown too.
    const dir = mkdtempSync(join(tmpdir(), 'fai-ifra-'));
    const file = join(dir, 'ifra-standards.csv');
    const records = parse(readFileSync(new URL('../../src/regulation/data/ifra-standards.csv', import.meta.url), 'utf8')) as string[][];
    records.find((r) => r[0] === 'Coumarin')![7] = ''; // cat4
    writeFileSync(file, records.map((r) => r.map((c) => `"${c.replaceAll('"', '""')}"`).join(',')).join('\n'));
    const emptied = checkFormula(RegulatoryCatalogue.load({ standards: file }), { formula: [line('Coumarin', 1)], category: '4', dosagePct: 100 });
    assert.equal(emptied.checks.concentration, 'unknown');
    assert.equal(emptied.materials[0]?.standards[0]?.limit, 'not_sourced');
    assert.ok(emptied.gaps.some((g) => /category 4 limit of Coumarin/.test(g)));
    rmSync(dir, { recursive: true });
  });
});

describe('checkFormula: 51st-Amendment limits, computed by hand from the CSV', () => {
  it('judges a single limit under and over it (Coumarin in category 4 and 5A)', () => {
    const cat4 = limitOf('Coumarin', 'cat4');
    const cat5a = limitOf('Coumarin', 'cat5a');
    // At an EDP dosage of 15 %, x % in the concentrate is 0.15·x % in the product.
    const under = (0.7 * cat4) / 0.15; // 70 % of the limit
    const over = (1.05 * cat4) / 0.15;
    const u = check({ formula: [line('Coumarin', under)], dosagePct: 15 });
    assert.deepEqual([u.checks.concentration, u.verdict], ['pass', 'pass']);
    assert.ok(Math.abs(u.materials[0]!.standards[0]!.shareOfLimit! - 0.7) < 1e-6);
    const o = check({ formula: [line('Coumarin', over)], dosagePct: 15 });
    assert.deepEqual([o.checks.concentration, o.verdict], ['fail', 'fail']);
    assert.ok(Math.abs(o.materials[0]!.standards[0]!.excessPct - 0.05 * cat4) < 1e-6);
    // The same concentrate in a body lotion (5A) at 2 %.
    const lotion = check({ formula: [line('Coumarin', (1.01 * cat5a) / 0.02)], category: '5A', dosagePct: 2 });
    assert.equal(lotion.checks.concentration, 'fail');
  });

  it('sums methyl heptine + methyl octine carbonate within the MHC limit, and MOC within its own', () => {
    // Category 10A (household: not a cosmetic, so no EU Annex III maximum): the IFRA rules alone.
    const mhc = limitOf('Methyl heptine carbonate', 'cat10a');
    const moc = limitOf('Methyl octine carbonate', 'cat10a');
    // Each alone within its own limit (MHC at 60 %, MOC at 70 %), together over the MHC limit.
    const mhcPct = 0.6 * mhc;
    const mocPct = 0.7 * moc;
    assert.ok(mhcPct + mocPct <= mhc, 'this pair is within the MHC limit');
    const within = check({ formula: [line('111-12-6', mhcPct), line('111-80-8', mocPct)], category: '10A' });
    const group = within.combinations.find((c) => c.id === 'mhc_moc')!;
    assert.deepEqual([group.rule, group.limitPct, group.verdict], ['total', mhc, judgeByHand(mhcPct + mocPct, mhc)]);
    assert.ok(Math.abs(group.totalPct - (mhcPct + mocPct)) < 1e-9);
    // MHC at 90 % of its limit + MOC at 50 % of its own: each passes or warns alone, the sum exceeds the MHC limit.
    const over = check({ formula: [line('111-12-6', 0.9 * mhc), line('111-80-8', 0.5 * moc)], category: '10A' });
    assert.ok(0.9 * mhc + 0.5 * moc > mhc);
    assert.equal(over.combinations.find((c) => c.id === 'mhc_moc')!.verdict, 'fail');
    assert.equal(over.checks.combination, 'fail');
    assert.notEqual(over.checks.concentration, 'fail', 'neither alone is over its own limit');
    // MOC over its own limit fails on its own Standard even when the sum is within the MHC limit.
    const mocOver = check({ formula: [line('111-12-6', 0.0001), line('111-80-8', 1.1 * moc)], category: '10A' });
    assert.equal(mocOver.checks.concentration, 'fail');
  });

  it('applies the phototoxic-oil sum in a leave-on category and not in a rinse-off one', () => {
    const bergamot = limitOf('Bergamot oil expressed', 'cat4');
    // Grapefruit rather than lemon oil: lemon carries 7-methoxycoumarin, whose limits are not sourced (the naturals' tests).
    const grapefruit = limitOf('Grapefruit oil expressed', 'cat4');
    // Bergamot at 60 % of its limit and grapefruit at 50 % of its own: each alone passes, the shares add to 110 %.
    const formula = [line('Bergamot oil', 0.6 * bergamot), line('Grapefruit oil', 0.5 * grapefruit)];
    const leaveOn = check({ formula });
    assert.equal(leaveOn.checks.concentration, 'pass');
    const sum = leaveOn.combinations.find((c) => c.id === 'furocoumarin_oils')!;
    assert.deepEqual([sum.rule, sum.limitPct, sum.verdict, sum.lines], ['share', 100, 'fail', [0, 1]]);
    assert.ok(Math.abs(sum.totalPct - 110) < 1e-6);
    assert.equal(leaveOn.checks.combination, 'fail');
    // Shares of 40 % + 35 % = 75 %: within.
    const within = check({ formula: [line('Bergamot oil', 0.4 * bergamot), line('Grapefruit oil', 0.35 * grapefruit)] });
    assert.equal(within.combinations.find((c) => c.id === 'furocoumarin_oils')!.verdict, 'pass');
    // Category 9 (rinse-off body products): every member reads "no restriction", the sum restricts nothing.
    assert.equal(limitCell('Bergamot oil expressed', 'cat9'), 'no restriction');
    // (Five times their leave-on limits: at 20 times, the 2-hexenal grapefruit oil carries would itself exceed its cat 9 limit.)
    const rinseOff = check({ formula: [line('Bergamot oil', 5 * bergamot), line('Grapefruit oil', 5 * grapefruit)], category: '9' });
    assert.deepEqual([rinseOff.checks.concentration, rinseOff.checks.combination], ['pass', 'pass']);
    assert.ok(!rinseOff.gaps.some((g) => /bergapten/.test(g)), 'the bergapten rule is not a gap where it does not apply');
    assert.ok(leaveOn.gaps.some((g) => /bergapten/.test(g)), 'the bergapten rule, which the data cannot apply, is a gap');
  });

  it('fails a material in a category whose cell reads "prohibited" (p-BMHCA in 1 and 6)', () => {
    assert.equal(limitCell('p-tert-Butyl-α-methylhydrocinnamic aldehyde (p-BMHCA)', 'cat6'), 'prohibited');
    const toothpaste = check({ formula: [line('80-54-6', 0.001)], category: '6' });
    assert.equal(toothpaste.materials[0]!.standards.find((s) => s.standardId.startsWith('p_tert'))!.limit, 'prohibited');
    assert.ok(toothpaste.prohibited.some((p) => /IFRA prohibits .* in category 6/.test(p.reason)));
    assert.equal(toothpaste.checks.ingredient, 'fail');
    // In category 4 its IFRA limit is a number (the EU prohibition, Annex II, still fails it).
    const edp = check({ formula: [line('80-54-6', 0.001)] });
    assert.equal(edp.materials[0]!.standards.find((s) => s.standardId.startsWith('p_tert'))!.limitPct, limitOf('p-tert-Butyl-α-methylhydrocinnamic aldehyde (p-BMHCA)', 'cat4'));
  });

  it('writes a specification note on the line; with --strict an undeclared specification is a warning', () => {
    const normal = check({ formula: [line('Linalool', 5), line('Hedione', 20)], dosagePct: 15 });
    assert.equal(normal.verdict, 'pass');
    assert.match(normal.materials[0]!.notes.join(' '), /specification \(Linalool\): the raw material's certificate must show: .*peroxide value < 20 mmol\/L/);
    assert.deepEqual(normal.specifications.map((s) => [s.line, s.standardId, s.met]), [[0, 'linalool', false]]);
    const strict = check({ formula: [line('Linalool', 5), line('Hedione', 20)], dosagePct: 15, strict: true });
    assert.deepEqual([strict.checks.ingredient, strict.verdict, strict.materials[0]!.verdict], ['warning', 'warning', 'warning']);
    const declared = check({ formula: [{ material: 'Linalool', concentrationPct: 5, specificationMet: true }, line('Hedione', 20)], dosagePct: 15, strict: true });
    assert.deepEqual([declared.verdict, declared.specifications[0]!.met], ['pass', true]);
  });

  it('applies the limits of a Standard that prohibits one grade and restricts another, with the grade as a specification', () => {
    const peru = limitOf('Peru balsam', 'cat4');
    const result = check({ formula: [line('Peru balsam distillate', 0.5 * peru)] });
    assert.equal(result.checks.concentration, 'pass');
    assert.match(result.specifications[0]!.note, /CRUDE is prohibited/);
  });
});

describe('checkFormula: the shipped example', () => {
  it('answers a verdict, not unknown, for examples/edp-fresh-citrus.json', () => {
    const example = JSON.parse(readFileSync(new URL('../../examples/edp-fresh-citrus.json', import.meta.url), 'utf8'));
    const result = checkFormula(catalogue, example);
    assert.notEqual(result.verdict, 'unknown');
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

  it('declares a natural that is itself a listed allergen as the oil, and each allergen it carries as itself (hand-computed)', () => {
    // Bergamot oil at 10 % of the concentrate, 15 % dosage: 1.5 % of the product (entry 352, the oil itself).
    // natural-allergens.csv, rows naming bergamot oil itself: geranial 0.28 + neral 0.2 (IFRA Annex) = citral 0.48 % → 0.0072 %;
    // limonene 30–50 % → 0.75 %; linalool 6–15 % → 0.225 %; linalyl acetate 23–35 % → 0.525 %; beta-pinene 5–10 % → 0.15 %
    // (EMA ranges, maximum taken); geraniol 0.04 % → 0.0006 %, under the 0.001 % leave-on threshold.
    const result = check({ formula: [line('Bergamot oil', 10)], dosagePct: 15 });
    const declared = Object.fromEntries(result.allergens.declare.map((a) => [a.labelName, a.totalPct]));
    assert.equal(Object.keys(declared).length, 6);
    assert.equal(declared.Citral, 0.0072);
    assert.deepEqual(Object.values(declared).sort((a, b) => a - b), [0.0072, 0.15, 0.225, 0.525, 0.75, 1.5]);
    const citral = result.allergens.declare.find((a) => a.labelName === 'Citral')!;
    assert.deepEqual(citral.lines, [0], 'the natural line carries it');
    assert.deepEqual(citral.contributions, [{ line: 0, material: 'Bergamot oil', pct: 0.0072, basis: 'geranial 0.28 % + neral 0.2 % of Bergamot oil' }]);
    const geraniol = result.allergens.found.find((a) => /geraniol/i.test(a.labelName))!;
    assert.deepEqual([geraniol.totalPct, geraniol.status], [0.0006, 'below_threshold']);
    assert.deepEqual(result.allergens.notAssessed, [], 'its constituents are sourced');
    assert.ok(!result.gaps.some((g) => /constituents of Bergamot oil/.test(g)), 'its IFRA-restricted constituents are sourced too');
    assert.equal(result.constituents.find((c) => c.standardId === 'citral')!.totalPct, 0.0072, 'the same citral counts against the Citral Standard');
  });

  it('declares an allergen only a natural carries, and says when the threshold falls inside the range', () => {
    // 0.1 % bergamot oil in the concentrate at 10 % dosage: 0.01 % of the product. Linalool 6–15 % of the oil:
    // 0.0006–0.0015 % of the product; the 0.001 % threshold falls inside: declared on the maximum, and said so.
    const result = check({ formula: [line('Hedione', 99.9), line('Bergamot oil', 0.1)], dosagePct: 10 });
    const linalool = result.allergens.declare.find((a) => a.labelName === 'Linalool')!;
    assert.equal(linalool.totalPct, 0.0015);
    assert.deepEqual(linalool.lines, [1]);
    assert.ok(linalool.notes.some((n) => /threshold \(0\.001 %\) falls inside the range its naturals give \(0\.0006–0\.0015 %/.test(n)), linalool.notes.join('; '));
    // Rinse-off (threshold 0.01 %): not declared.
    const rinse = check({ formula: [line('Hedione', 99.9), line('Bergamot oil', 0.1)], dosagePct: 10, exposure: 'rinse_off' });
    assert.equal(rinse.allergens.declare.find((a) => a.labelName === 'Linalool'), undefined);
  });

  it('sums an allergen over a line that is it and a natural that carries it, and takes a variant-only natural\'s highest grade', () => {
    // Linalool 1 % + lavender oil 2 % (linalool 20–45 %, the higher of two exact sources) at 10 % dosage:
    // 0.1 % + 0.2 % × 45 % = 0.1 + 0.09 = 0.19 % of the product.
    const result = check({ formula: [line('Linalool', 1), line('Lavender oil', 2), line('Hedione', 97)], dosagePct: 10 });
    const linalool = result.allergens.declare.find((a) => a.labelName === 'Linalool')!;
    assert.deepEqual([linalool.totalPct, linalool.lines], [0.19, [0, 1]]);
    assert.deepEqual(linalool.contributions.map((c) => [c.line, c.pct]), [[1, 0.09]]);
    // Ylang ylang oil (1 % of the product): only grades of it in the Annex; benzyl benzoate 5.73–7.81 % across them → the
    // highest, 7.81 % (ylang II), never their sum: 0.0781 % of the product.
    const ylang = check({ formula: [line('Ylang ylang oil', 10)], dosagePct: 10 });
    const benzoate = ylang.allergens.found.find((a) => a.labelName === 'Benzyl benzoate')!;
    assert.equal(benzoate.totalPct, 0.0781);
    assert.match(benzoate.contributions[0]!.basis, /7\.81 % \(highest grade: Ylang ylang oil II\)/);
  });

  it('never adds a whole entry and its parts, and maps a part the EU row does not list by CAS through its entry (hand-computed)', () => {
    // Lemongrass oil, East Indian at 10 % of the concentrate, 10 % dosage: 1 % of the product. Citral: geranial 41.42 % +
    // neral 30.54 % (exact) = 71.96 % → 0.7196 %; the grade's "Citral 73 %" (a variant) is not added to them.
    const lemongrass = check({ formula: [line('Lemongrass oil, East Indian', 10)], dosagePct: 10 });
    const citral = lemongrass.allergens.declare.find((a) => a.labelName === 'Citral')!;
    assert.deepEqual([citral.totalPct, citral.contributions[0]!.basis], [0.7196, 'geranial 41.42 % + neral 30.54 % of Lemongrass oil, East Indian']);
    // Grapefruit oil: "Citral 0.1 %" and geranial 0.06 % + neral 0.04 % (all exact) are one content read twice: 0.1 %, not 0.2 %.
    const grapefruit = check({ formula: [line('Grapefruit oil', 10)], dosagePct: 10 });
    assert.equal(grapefruit.allergens.found.find((a) => a.labelName === 'Citral')!.totalPct, 0.001);
    // Ylang ylang: farnesol 1.5 % (whole, a grade) against trans,trans-farnesol 2.35 % (a part, CAS 106-28-5, which the EU row
    // does not list: mapped by its entry 82) — the larger reading counts: 0.0235 %.
    const ylang = check({ formula: [line('Ylang ylang oil', 10)], dosagePct: 10 });
    const farnesol = ylang.allergens.found.find((a) => a.labelName === 'Farnesol')!;
    assert.deepEqual([farnesol.totalPct, farnesol.contributions[0]!.basis], [0.0235, 'trans,trans-farnesol 2.35 % (highest grade: Ylang ylang oil II) of Ylang ylang oil']);
  });

  it('keeps a natural none of whose constituents is sourced under "not assessed", and says so in gaps', () => {
    const result = check({ formula: [line('Patchouli oil', 10)], dosagePct: 15 });
    assert.deepEqual(result.allergens.notAssessed, [{ line: 0, material: 'Patchouli oil' }]);
    assert.ok(result.gaps.includes('allergens contained in Patchouli oil (constituents not sourced)'));
  });
});

describe("checkFormula: what naturals carry, counted against IFRA Standards (hand-computed from ifra-natural-contributions.csv)", () => {
  it('fails a natural whose carried substance is over its limit, warns near it and passes under it (lemongrass citral)', () => {
    // Lemongrass oil, East Indian (exact rows): geranial 41.42 % + neral 30.54 % = 71.96 % citral. EDP, category 4, dosage 15 %:
    // 6 % → 0.9 % of the product × 71.96 % = 0.64764 % > 0.6 (Citral, cat 4): fail.
    assert.equal(limitOf('Citral', 'cat4'), 0.6);
    const over = check({ formula: [line('Lemongrass oil, East Indian', 6), line('Hedione', 94)], dosagePct: 15 });
    assert.equal(over.verdict, 'fail');
    const citral = over.constituents.find((c) => c.standardId === 'citral')!;
    assert.deepEqual([citral.totalPct, citral.limitPct, citral.verdict], [0.64764, 0.6, 'fail']);
    assert.deepEqual(citral.sources, [{ line: 0, material: 'Lemongrass oil, East Indian', pct: 0.64764, basis: 'geranial 41.42 % + neral 30.54 % of Lemongrass oil, East Indian' }]);
    assert.equal(citral.summary, 'Citral 0.64764 % of the product (limit 0.6 %): line 0 Lemongrass oil, East Indian (0.64764 %: geranial 41.42 % + neral 30.54 % of Lemongrass oil, East Indian)');
    assert.deepEqual(over.materials[0]!.standards, [], 'the line is no Standard itself: what it carries is in constituents');
    assert.deepEqual([over.materials[0]!.verdict, over.checks.concentration], ['fail', 'fail']);
    // 5 % → 0.75 × 71.96 % = 0.5397 %: above 80 % of 0.6 (0.48), a warning; 4 % → 0.43176 %: pass.
    const near = check({ formula: [line('Lemongrass oil, East Indian', 5), line('Hedione', 95)], dosagePct: 15 });
    assert.deepEqual([near.constituents.find((c) => c.standardId === 'citral')!.totalPct, near.verdict], [0.5397, 'warning']);
    const under = check({ formula: [line('Lemongrass oil, East Indian', 4), line('Hedione', 96)], dosagePct: 15 });
    assert.deepEqual([under.constituents.find((c) => c.standardId === 'citral')!.totalPct, under.verdict], [0.43176, 'pass']);
    // Its other rows count too: eugenol 0.08 % of the oil → 0.0005 % at 4 % (× 0.6 % of the product).
    assert.equal(under.constituents.find((c) => c.standardId === 'eugenol')!.totalPct, 0.00048);
  });

  it('sums a line that is the substance and a natural that carries it against one limit', () => {
    // Citral 1.5 % → 0.225 % of the product; lemongrass 4 % → 0.43176 %; together 0.65676 % > 0.6: the sum fails, each alone would pass.
    const result = check({ formula: [line('Citral', 1.5), line('Lemongrass oil, East Indian', 4), line('Hedione', 94.5)], dosagePct: 15 });
    const sum = result.combinations.find((c) => c.id === 'citral')!;
    assert.deepEqual([sum.lines, sum.totalPct, sum.limitPct, sum.verdict, sum.excessPct], [[0, 1], 0.65676, 0.6, 'fail', 0.05676]);
    assert.match(sum.note, /and of what naturals carry/);
    const citral = result.constituents.find((c) => c.standardId === 'citral')!;
    assert.deepEqual(citral.sources.map((s) => [s.line, s.pct, s.basis === null]), [[0, 0.225, true], [1, 0.43176, false]]);
    assert.deepEqual([result.materials[0]!.verdict, result.materials[1]!.verdict, result.checks.combination], ['fail', 'fail', 'fail']);
  });

  it('takes the highest grade of a variant-only natural, never the sum of its grades', () => {
    // Lemon oil: only grades of it in the Annex (expressed, essence, distilled). Citral: "Citral" 3.5 % (expressed) and 2.03 %
    // (essence) are wholes, geranial 1.36 % + neral 0.81 % = 2.17 % (distilled) are parts: the highest reading, 3.5 %.
    // 2 % of the concentrate at 15 % → 0.3 % of the product × 3.5 % = 0.0105 %.
    const result = check({ formula: [line('Lemon oil', 2), line('Hedione', 98)], dosagePct: 15 });
    const citral = result.constituents.find((c) => c.standardId === 'citral')!;
    assert.equal(citral.totalPct, 0.0105);
    assert.equal(citral.sources[0]!.basis, 'citral 3.5 % (highest grade: Lemon oil, expressed) of Lemon oil');
    // Geraniol 0.1 / 0.09 / 0.07 % across the grades → 0.1 %: 0.0003 %.
    assert.equal(result.constituents.find((c) => c.standardId === 'geraniol')!.totalPct, 0.0003);
    // It also carries 7-methoxycoumarin (0.05 %, expressed), a prohibition + restriction Standard whose limits are not
    // sourced: unknown, never allowed — named, with the gap.
    const methoxy = result.constituents.find((c) => c.standardId === '7_methoxycoumarin')!;
    assert.deepEqual([methoxy.verdict, methoxy.limitPct, methoxy.totalPct], ['unknown', null, 0.00015]);
    assert.deepEqual([result.materials[0]!.verdict, result.verdict], ['unknown', 'unknown']);
    assert.ok(result.gaps.includes('limits of 7-Methoxycoumarin (a prohibition + restriction Standard)'), result.gaps.join('; '));
  });

  it('reads a related natural only where the natural has no row of its own, and says so', () => {
    // Labdanum absolute: its only Annex rows are Cistus (related). Eugenol 0.06 % → 10 % at 15 %: 1.5 % × 0.06 % = 0.0009 %.
    const result = check({ formula: [line('Labdanum absolute', 10), line('Hedione', 90)], dosagePct: 15 });
    const eugenol = result.constituents.find((c) => c.standardId === 'eugenol')!;
    assert.equal(eugenol.totalPct, 0.0009);
    assert.match(eugenol.sources[0]!.basis!, /^eugenol 0\.06 % \(related natural: .+, for lack of a row for this one\) of Labdanum absolute$/);
    // The rule is per Standard: mandarin oil has its own row for methyl N-methylanthranilate (0.4 %), and for citral only
    // tangerine's (related, 0.1 %) — each Standard takes the best row it has.
    const mandarin = check({ formula: [line('Mandarin oil', 10), line('Hedione', 90)], dosagePct: 15 });
    const basis = (id: string) => mandarin.constituents.find((c) => c.standardId === id)!.sources[0]!.basis!;
    assert.equal(basis('methyl_n_methylanthranilate'), 'methyl N-methylanthranilate 0.4 % of Mandarin oil');
    assert.match(basis('citral'), /^citral 0\.1 % \(related natural: Tangerine oil, for lack of a row for this one\) of Mandarin oil$/);
  });

  it('keeps a natural with no Annex row in gaps, never as carrying nothing without saying so', () => {
    const result = check({ formula: [line('Patchouli oil', 10), line('Hedione', 90)], dosagePct: 15 });
    assert.deepEqual(result.constituents, []);
    assert.ok(result.gaps.includes("IFRA-restricted constituents of Patchouli oil (no row in IFRA's Annex on natural contributions: constituents not sourced)"), result.gaps.join('; '));
    assert.ok(result.materials[0]!.notes.some((n) => /Annex on natural contributions has no row for it/.test(n)));
  });

  it('maps a row by the Standard IFRA names when its CAS is in no Standard, and says which rows count towards none', () => {
    // Ylang ylang: trans,trans-farnesol (106-28-5, in no Standard's CAS list) counts as Farnesol (IFRA_STD_036): 2.35 % (highest
    // grade) against the whole "Farnesol" rows' 1.5 %: the larger. 10 % at 10 % → 1 % × 2.35 % = 0.0235 %.
    const ylang = check({ formula: [line('Ylang ylang oil', 10), line('Hedione', 90)], dosagePct: 10 });
    assert.equal(ylang.constituents.find((c) => c.standardId === 'farnesol')!.totalPct, 0.0235);
    // Styrax resinoid: benzyl trans-cinnamate, which IFRA maps to no Standard: said on the line, not counted.
    const styrax = check({ formula: [line('Styrax resinoid', 10), line('Hedione', 90)], dosagePct: 10 });
    assert.ok(styrax.materials[0]!.notes.some((n) => /benzyl trans-cinnamate 0\.93 %.*no IFRA Standard covers it/.test(n)), styrax.materials[0]!.notes.join('; '));
  });

  it('counts contributions in a sum rule over several Standards', () => {
    // A catalogue whose only addition is a test sum rule "Citral + Geraniol ≤ the Citral limit", to run the path the shipped
    // rules (no Annex row feeds them) cannot: Geraniol 0.5 % → 0.075 %; lemongrass 4 % → citral 0.43176 % + geraniol 0.6 % ×
    // 5.25 % = 0.0315 %; total 0.075 + 0.43176 + 0.0315 = 0.53826 % against 0.6: above 80 %, a warning.
    const parts = loadCatalogueParts();
    const test = new RegulatoryCatalogue({ ...parts, groups: [...parts.groups, { id: 'test_sum', name: 'Citral + Geraniol (test)', rule: 'total', standardIds: ['citral', 'geraniol'], limitFrom: 'citral', note: 'test', sourceIds: [] }] });
    const result = checkFormula(test, { category: '4', dosagePct: 15, formula: [line('Geraniol', 0.5), line('Lemongrass oil, East Indian', 4), line('Hedione', 95.5)] });
    const sum = result.combinations.find((c) => c.id === 'test_sum')!;
    assert.deepEqual([sum.lines, sum.totalPct, sum.verdict], [[0, 1], 0.53826, 'warning']);
  });
});

describe('checkFormula: EU Annex III maximums, checked like limits (hand-computed from eu-allergens.csv)', () => {
  const eu = (result: ReturnType<typeof check>, entry: string) => result.allergens.found.find((a) => a.entry === entry)!;

  it('fails isoeugenol at 0.03 % of an EDP: within IFRA (0.11 %), over the EU 0.02 %', () => {
    // 0.2 % of the concentrate at 15 %: 0.03 % of the product.
    const result = check({ formula: [line('Isoeugenol', 0.2), line('Hedione', 99.8)], dosagePct: 15 });
    assert.equal(result.materials[0]!.standards.find((s) => s.standardId === 'isoeugenol')!.verdict, 'pass');
    const isoeugenol = eu(result, '73');
    assert.deepEqual(isoeugenol.euMaximum, { products: 'Cosmetic products other than oral products', limitPct: 0.02, verdict: 'fail', excessPct: 0.01 });
    assert.deepEqual([result.materials[0]!.verdict, result.checks.concentration, result.verdict], ['fail', 'fail', 'fail']);
    // In a candle (category 12: not a cosmetic product) the EU maximum does not apply.
    assert.equal(eu(check({ formula: [line('Isoeugenol', 0.2), line('Hedione', 99.8)], dosagePct: 15, category: '12' }), '73').euMaximum, null);
  });

  it('fails MHC, hydroxycitronellal and 3-propylidenephthalide over their EU maximums while IFRA passes them', () => {
    // Dosage 100: the concentrate % is the product %. MHC 0.02 (IFRA cat 4 0.047, EU 0.01); hydroxycitronellal 1.2 (IFRA 2.1, EU 1);
    // 3-propylidenephthalide 0.02 (IFRA 0.4, EU 0.01).
    for (const [material, pct, entry, limit] of [['111-12-6', 0.02, '89', 0.01], ['Hydroxycitronellal', 1.2, '72', 1], ['3-Propylidenephthalide', 0.02, '175', 0.01]] as const) {
      const result = check({ formula: [line(material, pct), line('Hedione', 50)] });
      assert.ok(result.materials[0]!.standards.every((s) => s.verdict === 'pass' || s.verdict === 'warning'), `${material}: IFRA passes`);
      assert.deepEqual([eu(result, entry).euMaximum?.limitPct, eu(result, entry).euMaximum?.verdict, result.verdict], [limit, 'fail', 'fail'], material);
    }
    // MHC's condition with methyl octine carbonate cannot be judged from a formula: a gap.
    assert.ok(check({ formula: [line('111-12-6', 0.005)] }).gaps.some((g) => /EU Annex III entry 89 .*condition, not judged from the formula: When used alone/.test(g)));
  });

  it('sums the rose ketones of entry 157 against its 0.02 %', () => {
    // Two isomers at 0.012 % each: each within 0.02, together 0.024 — over; the IFRA Rose ketones Standard (0.043 in cat 4) passes.
    const one = check({ formula: [line('23726-91-2', 0.012)] });
    assert.equal(eu(one, '157').euMaximum?.verdict, 'pass');
    const both = check({ formula: [line('23726-91-2', 0.012), line('57378-68-4', 0.012)] });
    assert.deepEqual([eu(both, '157').totalPct, eu(both, '157').euMaximum?.verdict, eu(both, '157').lines], [0.024, 'fail', [0, 1]]);
    assert.equal(both.combinations.find((c) => c.id === 'rose_ketones')!.verdict, 'pass');
    assert.ok(!both.gaps.some((g) => /entry 157/.test(g)), 'the sum condition is what the check does: no gap');
  });

  it('applies Peru balsam 0.4 % to every cosmetic product, and methyl salicylate by product type (the lowest the category may hold)', () => {
    // Peru balsam distillate 0.5 % of the product: over 0.4 in category 9 (a cosmetic), not limited by the EU in 12.
    assert.equal(eu(check({ formula: [line('8007-00-9', 0.5)], category: '9' }), '154').euMaximum?.limitPct, 0.4);
    assert.equal(eu(check({ formula: [line('8007-00-9', 0.5)], category: '12' }), '154').euMaximum, null);
    // Methyl salicylate: cat 4 hydroalcoholic fragrances 0.6; cat 5A leave-on skin 0.06 and body lotion spray 0.04 → 0.04;
    // cat 6 toothpaste 2.52, mouthwashes 0.1 / 0.6, mouth spray 0.65 → 0.1; cat 7B leave-on hair 0.06 and hair spray 0.009 → 0.009.
    const limits = Object.fromEntries(['4', '5A', '6', '7B', '12'].map((category) => [category, eu(check({ formula: [line('119-36-8', 0.01)], category }), '324').euMaximum?.limitPct ?? null]));
    assert.deepEqual(limits, { '4': 0.6, '5A': 0.04, '6': 0.1, '7B': 0.009, '12': null });
    assert.ok(check({ formula: [line('119-36-8', 0.01)], category: '4' }).gaps.some((g) => /children under 6/.test(g)));
  });

  it('counts what naturals carry against an EU maximum', () => {
    // Lemongrass oil, East Indian carries isoeugenol 0.47 % (natural-allergens.csv). 30 % of an EDP concentrate at 15 %: 4.5 % of
    // the product × 0.47 % = 0.02115 % > 0.02: the EU maximum fails on what the natural carries.
    const result = check({ formula: [line('Lemongrass oil, East Indian', 30), line('Hedione', 70)], dosagePct: 15 });
    const isoeugenol = eu(result, '73');
    assert.deepEqual([isoeugenol.totalPct, isoeugenol.euMaximum?.verdict, isoeugenol.contributions.map((c) => c.line)], [0.02115, 'fail', [0]]);
  });
});

describe('checkFormula: a line that gives material and cas', () => {
  it('refuses two substances, naming both; the CAS wins where they agree or the name is unknown', () => {
    assert.throws(
      () => check({ formula: [{ material: 'Linalool', cas: '80-54-6', concentrationPct: 1 }] }),
      (e: unknown) => e instanceof FaiError && e.field === 'formula.0.cas' && /material "Linalool" is Linalool \(78-70-6\) but cas "80-54-6" is/.test(e.message),
    );
    // The same substance, spelled two ways; a group name and one of its CAS numbers; a name the data does not know.
    assert.equal(check({ formula: [{ material: 'linalool', cas: '78-70-6', concentrationPct: 1 }] }).materials[0]!.cas, '78-70-6');
    assert.equal(check({ formula: [{ material: 'Citral', cas: '5392-40-5', concentrationPct: 0.1 }] }).materials[0]!.cas, '5392-40-5');
    const trade = check({ formula: [{ material: 'Our house linalool', cas: '78-70-6', concentrationPct: 1 }] });
    assert.deepEqual([trade.materials[0]!.known, trade.materials[0]!.cas, trade.materials[0]!.input], [true, '78-70-6', 'Our house linalool']);
    // A CAS the data does not know beside a name it knows: refused, never guessed.
    assert.throws(() => check({ formula: [{ material: 'Linalool', cas: '50-00-0', concentrationPct: 1 }] }), (e: unknown) => e instanceof FaiError && /is not in the sourced data, but material "Linalool" is Linalool/.test(e.message));
  });
});

describe('checkFormula: allergens matched through the IFRA Standard their EU entry stands for (eu-entry-standards.csv)', () => {
  it('declares oakmoss and treemoss absolutes, anisyl alcohol isomers and a linalool enantiomer under their entries, once, summed', () => {
    // 0.1 % of the concentrate at dosage 100: 0.1 % of the product, above the 0.001 % leave-on threshold.
    const result = check({ formula: [line('9000-50-4', 0.1), line('68648-41-9', 0.05), line('1331-81-3', 0.1), line('126-91-0', 0.2), line('Linalool', 0.3)] });
    const declared = (entry: string) => result.allergens.declare.filter((a) => a.entry === entry);
    assert.deepEqual(declared('91').map((a) => [a.labelName, a.lines, a.totalPct]), [['Evernia prunastri (oak moss) extract', [0], 0.1]]);
    assert.deepEqual(declared('92').map((a) => [a.lines, a.totalPct]), [[[1], 0.05]]);
    assert.deepEqual(declared('80').map((a) => [a.labelName, a.lines]), [['Anisyl alcohol', [2]]]);
    // Linalool: the enantiomer and linalool itself, one entry summed: 0.2 + 0.3 = 0.5 %.
    assert.deepEqual(declared('84').map((a) => [a.labelName, a.lines, a.totalPct]), [['Linalool', [3, 4], 0.5]]);
  });

  it('does not link an entry to a broader Standard: methyl ionone (mixed isomers) is not labelled alpha-isomethyl ionone', () => {
    const mixed = check({ formula: [line('1335-46-2', 1)] });
    assert.equal(mixed.allergens.found.find((a) => a.entry === '90'), undefined);
  });
});

describe('checkFormula: one row, one rule (split Standards, prohibited grades)', () => {
  it('prohibits Tagetes erecta and restricts T. patula / minuta, each by its own row', () => {
    assert.deepEqual(check({ formula: [line('90131-43-4', 0.001)] }).materials[0]!.standards.map((s) => [s.limit, s.verdict]), [['prohibited', 'fail']]);
    const patula = check({ formula: [line('91722-29-1', 0.005)] }).materials[0]!.standards;
    assert.deepEqual(patula.map((s) => [s.limit, s.limitPct, s.verdict]), [['limit', limitOf('Tagetes oil and absolute (Tagetes patula and Tagetes minuta)', 'cat4'), 'pass']]);
  });

  it('prohibits Savin oil of Juniperus sabina and passes that of J. phoenicea (its specification), each by its own row', () => {
    for (const cas of ['8024-00-8', '90046-04-1']) {
      const sabina = check({ formula: [line(cas, 0.1), line('Hedione', 99.9)], dosagePct: 10 });
      assert.deepEqual([sabina.verdict, sabina.prohibited.length, sabina.materials[0]!.standards[0]!.limit], ['fail', 1, 'prohibited'], cas);
    }
    for (const cas of ['68916-94-9', '90046-03-0']) {
      const phoenicea = check({ formula: [line(cas, 0.1), line('Hedione', 99.9)], dosagePct: 10 });
      assert.deepEqual([phoenicea.verdict, phoenicea.prohibited, phoenicea.materials[0]!.standards.map((s) => s.verdict)], ['pass', [], ['pass']], cas);
      assert.equal(phoenicea.specifications[0]!.standard, 'Savin oil (Juniperus phoenicea L.)');
    }
  });

  it('judges Tagetes oil 8016-84-0, which IFRA lists under both parts, by the declared part: unknown undeclared, the T. patula / minuta limits declared', () => {
    const tagetes = (pct: number, specificationMet?: boolean) => check({ formula: [{ material: '8016-84-0', concentrationPct: pct, specificationMet }, line('Hedione', 100 - pct)], dosagePct: 10 });
    const undeclared = tagetes(0.05);
    assert.equal(undeclared.materials[0]!.name, 'Tagetes oil and absolute');
    assert.deepEqual([undeclared.verdict, undeclared.checks.ingredient, undeclared.prohibited], ['unknown', 'unknown', []]);
    assert.deepEqual(undeclared.materials[0]!.standards.map((s) => [s.standardId, s.limit, s.verdict]), [
      ['tagetes_oil_and_absolute_tagetes_erecta', 'grade_not_declared', 'unknown'],
      ['tagetes_oil_and_absolute_tagetes_patula_and_tagetes_minuta', 'limit', 'pass'],
    ]);
    assert.ok(undeclared.gaps.some((g) => /CAS 8016-84-0 .*declare specificationMet for the allowed part/.test(g)), undeclared.gaps.join('; '));
    // Declared T. patula / minuta: 0.05 % × 10 % = 0.005 % of the product, within 0.01 %; 0.2 % gives 0.02 %, over it.
    assert.deepEqual([tagetes(0.05, true).verdict, tagetes(0.05, true).checks.ingredient], ['pass', 'pass']);
    assert.deepEqual([tagetes(0.2, true).verdict, tagetes(0.2, true).checks.concentration], ['fail', 'fail']);
    // T. erecta's own CAS stays prohibited, declared or not.
    const erecta = check({ formula: [{ material: '90131-43-4', concentrationPct: 0.05, specificationMet: true }, line('Hedione', 99.95)], dosagePct: 10 });
    assert.deepEqual([erecta.verdict, erecta.prohibited.length], ['fail', 1]);
  });

  it('judges a prohibited grade by the declared specification: unknown without it, never a bare "prohibited"', () => {
    for (const cas of ['8013-10-3', '8001-88-5']) {
      // Cade oil, birch tar: crude prohibited, rectified allowed (no category limits).
      const undeclared = check({ formula: [line(cas, 0.1)] });
      assert.deepEqual([undeclared.materials[0]!.verdict, undeclared.materials[0]!.standards[0]!.limit, undeclared.prohibited], ['unknown', 'grade_not_declared', []], cas);
      assert.ok(undeclared.gaps.some((g) => /declare specificationMet for the specified grade/.test(g)));
      const declared = check({ formula: [{ material: cas, concentrationPct: 0.1, specificationMet: true }] });
      assert.deepEqual([declared.materials[0]!.verdict, declared.verdict], ['pass', 'pass'], cas);
    }
    // Styrax: crude gums prohibited, the rest restricted (cat 4: 0.64). Declared: judged by the limit.
    const styrax = (pct: number, specificationMet?: boolean) => check({ formula: [{ material: '8046-19-3', concentrationPct: pct, specificationMet }] });
    assert.equal(styrax(0.1).materials[0]!.verdict, 'unknown');
    assert.equal(styrax(0.1, true).materials[0]!.verdict, 'pass');
    assert.equal(styrax(0.7, true).materials[0]!.verdict, 'fail');
    assert.match(styrax(0.1).materials[0]!.notes.join(' '), /Styrax crude gums are prohibited/);
    // A prohibition + specification whose specification is not sourced (toluene): unknown, with the gap.
    const toluene = check({ formula: [line('108-88-3', 0.1)] });
    assert.equal(toluene.materials[0]!.verdict, 'unknown');
    assert.ok(toluene.gaps.includes('specification of Toluene (a prohibition + specification Standard: which grade is allowed)'), toluene.gaps.join('; '));
  });

  it("reads no specification into p-BMHCA's category cells: strict mode warns of none", () => {
    const strict = check({ formula: [line('80-54-6', 0.001)], strict: true, category: '4' });
    assert.deepEqual(strict.specifications, []);
  });
});

describe('checkFormula: exact numbers', () => {
  it('keeps an excess a millionth of a tight limit: rounding takes away binary noise only', () => {
    // Methyl eugenol, category 5D: 0.000069 %. At dosage 100, 0.000069000069 % is over it by 6.9e-11 % (a relative 1e-6):
    // an absolute rounding to 1e-9 % would erase it.
    assert.equal(limitOf('Methyl eugenol', 'cat5d'), 0.000069);
    const over = check({ formula: [line('Methyl eugenol', 0.000069000069)], category: '5D' });
    assert.equal(over.materials[0]!.standards[0]!.verdict, 'fail');
    // Noise still goes: 0.8 × 0.1 is 0.08, exactly at a limit of 0.08 → pass with a warning, not a fail.
    const atLimit = check({ formula: [line('Citronellal', 0.8)], dosagePct: 0.1 * 100 });
    assert.equal(atLimit.materials[0]!.finishedPct, 0.08);
  });

  it('prints a failing figure with the digits that tell it from its limit', async () => {
    const { renderResult } = await import('../../src/cli/commands/check-formula.ts');
    // Citronellal 0.490004 % against 0.49 %: at 4 digits both read 0.49.
    const text = renderResult('test', check({ formula: [line('Citronellal', 0.490004)] }));
    assert.match(text, /Citronellal\s+106-23-0\s+0\.49%\s+0\.490004%\s+0\.49%\s+FAIL/);
  });

  it("shows a row's EU Annex III maximum beside its IFRA limit, and the figure with the digits that tell it from the maximum", async () => {
    const { renderResult } = await import('../../src/cli/commands/check-formula.ts');
    // Isoeugenol 0.0200001 % of an EDP: within IFRA's 0.11 %, over the EU's 0.02 %.
    const text = renderResult('test', check({ formula: [line('97-54-1', 0.0200001), line('Hedione', 99.9799999)] }));
    assert.match(text, /Isoeugenol\s+97-54-1\s+0\.02%\s+0\.0200001%\s+0\.11%, EU 0\.02%\s+FAIL/);
  });
});

describe('checkFormula: a group Standard by its name', () => {
  it('reads "Allyl esters" as the group, not as allyl hexanoate, its one listed member', () => {
    const group = check({ formula: [line('Allyl esters', 0.5)] });
    assert.deepEqual([group.materials[0]!.name, group.materials[0]!.cas], ['Allyl esters', null]);
    assert.deepEqual(group.specifications.map((s) => s.standard), ['Allyl esters']);
    assert.equal(check({ formula: [line('Allyl hexanoate', 0.5)] }).materials[0]!.cas, '123-68-2');
  });
});

describe('checkFormula: exposure by category (category-exposure.csv)', () => {
  it('reads each category as leave-on, rinse-off or not a cosmetic product, with the request as the override', () => {
    const exposures = Object.fromEntries(['1', '4', '5D', '6', '7A', '7B', '8', '9', '10A', '10B', '11A', '11B', '12'].map((category) => [category, check({ formula: [line('Linalool', 1)], category }).exposure]));
    assert.deepEqual(exposures, { '1': 'leave_on', '4': 'leave_on', '5D': 'leave_on', '6': 'rinse_off', '7A': 'rinse_off', '7B': 'leave_on', '8': 'leave_on', '9': 'rinse_off', '10A': 'not_cosmetic', '10B': 'not_cosmetic', '11A': 'not_cosmetic', '11B': 'not_cosmetic', '12': 'not_cosmetic' });
    // Toothpaste (6): linalool 0.005 % is under the rinse-off threshold 0.01 %: not declared.
    const toothpaste = check({ formula: [line('Linalool', 0.005)], category: '6' });
    assert.equal(toothpaste.allergens.found[0]!.status, 'below_threshold');
  });

  it('says EU cosmetic labelling does not apply to a candle, naming the law that does, unless the request overrides', () => {
    const candle = check({ formula: [line('Linalool', 1)], category: '12' });
    assert.deepEqual([candle.allergens.declare, candle.allergens.found[0]!.status, candle.allergens.found[0]!.thresholdPct], [[], 'not_applicable', null]);
    assert.match(candle.allergens.found[0]!.notes.join(' '), /EU cosmetic labelling does not apply: .*CLP/);
    assert.ok(candle.gaps.some((g) => /allergen labelling of IFRA category 12 products \(not a cosmetic product/.test(g)));
    const asked = check({ formula: [line('Linalool', 1)], category: '12', exposure: 'leave_on' });
    assert.equal(asked.allergens.declare[0]!.labelName, 'Linalool');
  });
});

describe('checkFormula: label names', () => {
  it('prints the prescribed names (clove: Eugenia Caryophyllus Oil), and says where only the ECHA chemical name is sourced', () => {
    const clove = check({ formula: [line('Clove bud oil', 1)] });
    assert.ok(clove.allergens.declare.some((a) => a.labelName === 'Eugenia Caryophyllus Oil'));
    assert.ok(!clove.gaps.some((g) => /INCI label name of Eugenia/.test(g)));
    // Geranium oil (entry 364): no name prescribed and three glossary names — declared under ECHA's name, and the gap says so.
    const geranium = check({ formula: [line('8000-46-2', 0.01)] });
    assert.equal(geranium.allergens.declare.find((a) => a.entry === '364')!.labelName, 'Pelargonium graveolens oil');
    assert.ok(geranium.gaps.some((g) => /INCI label name of Pelargonium graveolens oil \(EU entry 364\): not sourced/.test(g)), geranium.gaps.join('; '));
  });

  it('names an entry that prescribes no name by its one glossary name (vanillin, methyl salicylate), never by the ECHA chemical name', () => {
    const result = check({ formula: [line('121-33-5', 0.01), line('119-36-8', 0.01), line('4180-23-8', 0.01)] });
    assert.deepEqual(result.allergens.declare.map((a) => [a.entry, a.labelName, a.id]).sort(), [
      ['324', 'Methyl Salicylate', 'methyl_salicylate'],
      ['329', 'Anethole', 'anethole'],
      ['346', 'Vanillin', 'vanillin'],
    ]);
    assert.ok(!result.gaps.some((g) => /INCI label name/.test(g)), result.gaps.join('; '));
    assert.ok(result.allergens.declare.every((a) => !/Hydroxy-3-methoxybenzaldehyde|2-hydroxybenzoate/.test(a.labelName)));
  });
});

describe('checkFormula: the review\'s other label cases', () => {
  it('declares dl-limonene and citronellol under their entries by the CAS numbers the EU lists', () => {
    const result = check({ formula: [line('7705-14-8', 0.1), line('26489-01-0', 0.1)] });
    assert.deepEqual(result.allergens.declare.map((a) => [a.labelName, a.lines]).sort(), [['Citronellol', [1]], ['Limonene', [0]]]);
  });

  it('sums two bitter orange flower oil lines under entry 350, and keeps the peel oil apart (entry 351)', () => {
    const result = check({ formula: [line('8016-38-4', 0.1), line('72968-50-4', 0.1), line('68916-04-1', 0.1)] });
    const flower = result.allergens.declare.filter((a) => a.entry === '350');
    const peel = result.allergens.declare.filter((a) => a.entry === '351');
    assert.deepEqual(flower.map((a) => [a.labelName, a.lines, a.totalPct]), [['Citrus Aurantium Flower Oil', [0, 1], 0.2]]);
    // 72968-50-4 is listed by the EU under both entries: counted in each (the conservative reading), with the peel oil line.
    assert.deepEqual(peel.map((a) => [a.labelName, a.lines]), [['Citrus Aurantium Peel Oil', [1, 2]]]);
  });
});

describe('checkFormula: the answer', () => {
  // Naturals carrying restricted substances and allergens, one over a limit, an allergen only a natural carries.
  const request: CheckRequest = {
    category: '4',
    dosagePct: 15,
    formula: [line('Lemongrass oil, East Indian', 6), line('Clove bud oil', 2), line('Linalool', 5), line('Coumarin', 1), line('Hydroxycitronellal', 2)],
  };

  it('serialises every part of ComplianceResult, in its order, as the getters read them', () => {
    const answer = checkFormula(catalogue, request);
    const json = JSON.parse(JSON.stringify(answer)) as Record<string, unknown>;
    assert.deepEqual(Object.keys(json), ['verdict', 'strict', 'category', 'dosagePct', 'exposure', 'checks', 'materials', 'prohibited', 'combinations', 'constituents', 'specifications', 'allergens', 'unknownMaterials', 'gaps']);
    for (const key of Object.keys(json)) assert.deepEqual(json[key], JSON.parse(JSON.stringify((answer as unknown as Record<string, unknown>)[key])), key);
    assert.ok(answer.materials.length === 5 && answer.constituents.length > 0 && answer.allergens.found.length > 0);
  });

  it('counts for the metrics what its parts show, without building them', () => {
    const answer = checkFormula(catalogue, request);
    const counts = answer.counts;
    const failingOwn = answer.materials.flatMap((m) => m.standards.filter((s) => s.verdict === 'fail' && s.combination === null).map((s) => s.standardId));
    const failingCarried = answer.constituents.filter((c) => c.verdict === 'fail' && c.sources.length === 1).map((c) => c.standardId);
    const failingSums = answer.combinations.filter((c) => c.verdict === 'fail').map((c) => c.id);
    assert.ok(failingCarried.length > 0, 'the lemongrass oil carries citral over its limit');
    assert.deepEqual(counts.violations.map((v) => v.ingredient).sort(), [...failingOwn, ...failingCarried, ...failingSums].sort());
    assert.deepEqual(counts.declared.sort(), answer.allergens.declare.map((a) => a.id).sort());
    assert.ok(answer.allergens.declare.some((a) => a.lines.length === 1 && a.contributions.length === 1), 'an allergen declared only for what a natural carries');
  });
});
