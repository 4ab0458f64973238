import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { FaiError } from '../../src/errors/index.ts';
import { certificateHtml, checkFormula, floorSignificant, ifraCertificate, limitedByText, RegulatoryCatalogue, type CertificateCategory, type FormulaLine } from '../../src/regulation/index.ts';

/** Every expected value below is computed from the cells of ifra-standards.csv, by the certificate's rule d ≤ 100·L / c. */
const catalogue = RegulatoryCatalogue.load();
const rows: Array<Record<string, string>> = parse(readFileSync(new URL('../../src/regulation/data/ifra-standards.csv', import.meta.url), 'utf8'), { columns: true });
const cell = (material: string, column: string): string => rows.find((r) => r.material === material)![column]!;
const limitOf = (material: string, column: string): number => Number(cell(material, column));
const line = (material: string, concentrationPct: number): FormulaLine => ({ material, concentrationPct });
const certificate = (formula: FormulaLine[]) => ifraCertificate(catalogue, { formula, name: 'test', date: new Date('2026-12-03T10:00:00Z') });
const inCategory = (cert: { categories: readonly CertificateCategory[] }, id: string) => cert.categories.find((c) => c.category === id)!;
/** Expected value as printed: the exact maximum rounded down to 4 significant digits. */
const close = (actual: number | null, exact: number, what: string) => {
  assert.ok(actual !== null, `${what}: null`);
  assert.ok(actual <= exact + 1e-12 && actual >= exact * (1 - 1e-3), `${what}: ${actual} vs ${exact}`);
};
const COLUMN: Record<string, string> = { '1': 'cat1', '4': 'cat4', '5A': 'cat5a', '6': 'cat6', '9': 'cat9', '11A': 'cat11a', '12': 'cat12' };

describe('IFRA certificate: maximum dosage per category', () => {
  it('covers the 18 categories, names the 51st Amendment, the date and the name', () => {
    const cert = certificate([line('Hedione', 30)]);
    assert.deepEqual(cert.categories.map((c) => c.category), ['1', '2', '3', '4', '5A', '5B', '5C', '5D', '6', '7A', '7B', '8', '9', '10A', '10B', '11A', '11B', '12']);
    assert.deepEqual([cert.amendment, cert.date, cert.name], [51, '2026-12-03', 'test']);
    // Nothing in Hedione is restricted: 100 in every category, limited by nothing.
    for (const c of cert.categories) assert.deepEqual([c.maxDosagePct, c.limitedBy, c.reason], [100, [], null], c.category);
  });

  it('a single restriction: 100·L / c, rounded down, limited by that Standard', () => {
    const cert = certificate([line('Coumarin', 2), line('Hedione', 30)]);
    for (const [category, column] of Object.entries(COLUMN)) {
      const value = cell('Coumarin', column);
      const c = inCategory(cert, category);
      if (value === 'no restriction') assert.equal(c.maxDosagePct, 100, category);
      else {
        const exact = Math.min(100, (100 * Number(value)) / 2);
        close(c.maxDosagePct, exact, `cat ${category}`);
        if (exact < 100) assert.deepEqual(c.limitedBy.map((item) => [item.kind, item.id]), [['standard', 'coumarin']]);
      }
    }
    // Category 4 by hand: Coumarin cat 4 = 1.5 % → 100 × 1.5 / 2 = 75 %.
    assert.equal(limitOf('Coumarin', 'cat4'), 1.5);
    assert.equal(inCategory(cert, '4').maxDosagePct, 75);
  });

  it('sums the lines a multi-CAS Standard covers (two Citronellal CAS numbers)', () => {
    const cert = certificate([line('106-23-0', 1), line('5949-05-3', 0.5)]);
    close(inCategory(cert, '4').maxDosagePct, (100 * limitOf('Citronellal', 'cat4')) / 1.5, 'cat 4');
  });

  it('methyl heptine + methyl octine carbonate: the sum against the MHC limit, MOC against its own', () => {
    const mhc = (column: string) => limitOf('Methyl heptine carbonate', column);
    const moc = (column: string) => limitOf('Methyl octine carbonate', column);
    const cert = certificate([line('111-12-6', 0.2), line('111-80-8', 0.02), line('Hedione', 30)]);
    // In the cosmetic categories other than oral care, the EU Annex III maximum of MHC (0.01 % of the product) applies too:
    // 100 × 0.01 / 0.2 = 5.
    const euMaximum = (category: string) => (['1', '2', '3', '4', '5A', '5B', '5C', '5D', '7A', '7B', '8', '9'].includes(category) ? (100 * 0.01) / 0.2 : 100);
    for (const [category, column] of Object.entries(COLUMN)) {
      if (cell('Methyl heptine carbonate', column) === 'no restriction') continue;
      const exact = Math.min(100, (100 * mhc(column)) / 0.22, (100 * mhc(column)) / 0.2, (100 * moc(column)) / 0.02, euMaximum(category));
      close(inCategory(cert, category).maxDosagePct, exact, `cat ${category}`);
    }
    // Cat 11A (not a cosmetic: no EU maximum): MHC 0.18, MOC 0.04 → sum 100×0.18/0.22 = 81.81; MOC alone 200; MHC alone 90: the sum rule limits.
    const cat11A = inCategory(cert, '11A');
    assert.deepEqual(cat11A.limitedBy.map((item) => [item.kind, item.id]), [['sum_rule', 'mhc_moc']]);
    assert.equal(cat11A.maxDosagePct, 81.81);
    // Cat 4: the sum allows 100×0.047/0.22 = 21.36, the EU maximum 5: the EU binds, and says so.
    const cat4 = inCategory(cert, '4');
    assert.deepEqual([cat4.maxDosagePct, cat4.limitedBy.map((item) => item.kind)], [5, ['eu_maximum']]);
    assert.match(cat4.limitedBy[0]!.name, /EU Annex III entry 89: at most 0\.01 % in Cosmetic products other than oral products/);
    // With more MOC, MOC's own limit binds (cat 11A): own 100×0.04/0.1 = 40 < sum 100×0.18/0.3 = 60.
    const mocBinds = inCategory(certificate([line('111-12-6', 0.2), line('111-80-8', 0.1)]), '11A');
    assert.deepEqual(mocBinds.limitedBy.map((item) => item.id), ['methyl_octine_carbonate']);
    assert.equal(mocBinds.maxDosagePct, 40);
  });

  it('phototoxic oils: 100 / Σ cᵢ/Lᵢ in leave-on categories, no limit from them in rinse-off ones', () => {
    // (Grapefruit rather than lemon oil: lemon carries 7-methoxycoumarin, whose limits are not sourced — see the naturals' tests.)
    const cert = certificate([line('Bergamot oil', 12), line('Grapefruit oil', 6), line('Hedione', 30)]);
    // Cat 4: bergamot 0.4, grapefruit 4 → 100 / (12/0.4 + 6/4) = 100/31.5 = 3.1746… → 3.174 (rounded down)
    assert.deepEqual([limitOf('Bergamot oil expressed', 'cat4'), limitOf('Grapefruit oil expressed', 'cat4')], [0.4, 4]);
    const cat4 = inCategory(cert, '4');
    assert.equal(cat4.maxDosagePct, 3.174);
    assert.deepEqual(cat4.limitedBy.map((item) => [item.kind, item.id]), [['sum_rule', 'furocoumarin_oils']]);
    for (const rinseOff of ['9', '11A', '12']) {
      assert.equal(cell('Bergamot oil expressed', COLUMN[rinseOff]!), 'no restriction');
      // What binds there, if anything, is a substance the oils carry (counted by their own Standards), never the sum rule.
      assert.ok(inCategory(cert, rinseOff).limitedBy.every((item) => item.kind === 'standard' && item.carriedBy.length > 0), `cat ${rinseOff}`);
    }
    assert.ok(cert.gaps.some((g) => /bergapten/.test(g)));
  });

  it('a "prohibited" cell gives 0 in that category only (p-BMHCA in 1 and 6)', () => {
    const cert = certificate([line('80-54-6', 1)]);
    for (const category of ['1', '6']) {
      const c = inCategory(cert, category);
      assert.deepEqual([c.maxDosagePct, c.limitedBy.map((item) => item.kind)], [0, ['prohibition']], category);
    }
    close(inCategory(cert, '5D').maxDosagePct, (100 * limitOf('p-tert-Butyl-α-methylhydrocinnamic aldehyde (p-BMHCA)', 'cat5d')) / 1, 'cat 5D');
    assert.deepEqual(cert.euProhibited.map((p) => p.line), [0], 'outside IFRA, the EU prohibits it');
  });

  it('a prohibited material gives 0 everywhere', () => {
    const cert = certificate([line('Diphenylamine', 0.1), line('Hedione', 30)]);
    for (const c of cert.categories) assert.deepEqual([c.maxDosagePct, c.limitedBy[0]?.id], [0, 'diphenylamine']);
  });

  it('null with the reason where a needed limit is not sourced, with the known bound beside it', () => {
    const unknown = certificate([line('Unobtainium', 1), line('Coumarin', 2)]);
    const cat4 = inCategory(unknown, '4');
    assert.equal(cat4.maxDosagePct, null);
    assert.match(cat4.reason!, /"Unobtainium" is not in the sourced data/);
    assert.equal(cat4.upperBoundPct, 75);
    const isophorone = inCategory(certificate([line('78-59-1', 1)]), '4');
    assert.equal(isophorone.maxDosagePct, null);
    assert.match(isophorone.reason!, /limits of Isophorone/);
    // A known prohibition makes it 0 whatever is unknown.
    assert.equal(inCategory(certificate([line('Unobtainium', 1), line('Diphenylamine', 0.1)]), '4').maxDosagePct, 0);
  });

  it('lists the specifications the raw materials must meet', () => {
    const cert = certificate([line('Linalool', 5), line('d-Limonene', 5), line('Allyl hexanoate', 0.5)]);
    assert.deepEqual(cert.specifications.map((s) => s.standard).sort(), ['Allyl esters', 'Limonene', 'Linalool']);
    assert.ok(cert.specifications.every((s) => s.note.length > 20));
  });

  it('refuses a material listed twice', () => {
    assert.throws(() => certificate([line('Linalool', 1), line('78-70-6', 1)]), (e: unknown) => e instanceof FaiError && e.field === 'formula.1.material');
  });

  it('rounds down, never up, to 4 significant digits', () => {
    assert.deepEqual([floorSignificant(3.0303030303), floorSignificant(100 / 3), floorSignificant((100 * 0.1) / 10), floorSignificant(0.0123456)], [3.03, 33.33, 1, 0.01234]);
  });

  it('counts what naturals carry: 10 % clove bud oil is bound by its eugenol, and names the oil (hand-computed)', () => {
    // Clove bud oil (exact Annex rows): eugenol 82 %, methyl eugenol 0.1 %. 10 % of the concentrate → 8.2 % eugenol,
    // 0.01 % methyl eugenol. Category 4: eugenol 2.5 → 100 × 2.5 / 8.2 = 30.487… → 30.48; methyl eugenol 0.011 → 110: eugenol binds.
    const cert = certificate([line('Clove bud oil', 10), line('Hedione', 90)]);
    const cat4 = inCategory(cert, '4');
    assert.equal(cat4.maxDosagePct, 30.48);
    assert.deepEqual(cat4.limitedBy.map((item) => [item.id, item.concentratePct, item.limitPct]), [['eugenol', 8.2, 2.5]]);
    assert.deepEqual(cat4.limitedBy[0]!.carriedBy, [{ line: 0, material: 'Clove bud oil', concentratePct: 8.2, basis: 'eugenol 82 % of Clove bud oil' }]);
    assert.equal(limitedByText(cat4.limitedBy[0]!), 'Eugenol (carried by Clove bud oil)');
    // Category 5B: methyl eugenol 0.00021 → 100 × 0.00021 / 0.01 = 2.1; eugenol 0.64 → 7.80: the methyl eugenol the oil carries binds.
    const cat5B = inCategory(cert, '5B');
    assert.equal(limitOf('Methyl eugenol', 'cat5b'), 0.00021);
    assert.deepEqual([cat5B.maxDosagePct, cat5B.limitedBy.map((item) => item.id)], [2.1, ['methyl_eugenol']]);
    // Each category agrees with the least of the two, computed from the CSV.
    for (const [id, column] of Object.entries(COLUMN)) {
      const bound = (substance: string, pct: number) => (cell(substance, column) === 'no restriction' ? 100 : (100 * limitOf(substance, column)) / pct);
      assert.equal(inCategory(cert, id).maxDosagePct, floorSignificant(Math.min(100, bound('Eugenol', 8.2), bound('Methyl eugenol', 0.01))), id);
    }
    // The A4 page names the oil beside the substance.
    assert.match(certificateHtml(cert), /Eugenol \(carried by Clove bud oil\)/);
  });

  it('sums a line that is the substance with what a natural carries, and cannot state a maximum a carried substance leaves unknown', () => {
    // Eugenol 2 % + clove bud oil 5 % (4.1 % eugenol): 6.1 % against 2.5 → 40.98 in category 4.
    const sum = inCategory(certificate([line('Eugenol', 2), line('Clove bud oil', 5), line('Hedione', 93)]), '4');
    assert.deepEqual([sum.maxDosagePct, sum.limitedBy[0]!.concentratePct, sum.limitedBy[0]!.carriedBy.map((c) => c.line)], [40.98, 6.1, [1]]);
    // Lemon oil carries 7-methoxycoumarin, a prohibition + restriction Standard with no sourced limits: no maximum, said why.
    const lemon = inCategory(certificate([line('Lemon oil', 2), line('Hedione', 98)]), '4');
    assert.equal(lemon.maxDosagePct, null);
    assert.match(lemon.reason!, /limits of 7-Methoxycoumarin .* are not sourced \(carried by Lemon oil, line 0\)/);
  });

  it('names a natural with no Annex row in gaps', () => {
    const cert = certificate([line('Patchouli oil', 10), line('Hedione', 90)]);
    assert.ok(cert.gaps.includes("IFRA-restricted constituents of Patchouli oil (no row in IFRA's Annex on natural contributions: constituents not sourced)"), cert.gaps.join('; '));
    assert.equal(inCategory(cert, '4').maxDosagePct, 100);
  });
});

describe('IFRA certificate: EU Annex III maximums', () => {
  it('lets an EU maximum set the dosage, and says "EU Annex III"', () => {
    // Isoeugenol 0.2 % of the concentrate: IFRA cat 4 allows 100 × 0.11 / 0.2 = 55; the EU maximum 0.02 allows 10.
    const cat4 = inCategory(certificate([line('Isoeugenol', 0.2), line('Hedione', 99.8)]), '4');
    assert.deepEqual([cat4.maxDosagePct, cat4.limitedBy.map((item) => item.kind)], [10, ['eu_maximum']]);
    assert.match(limitedByText(cat4.limitedBy[0]!), /EU Annex III entry 73/);
    // Category 12 (candles, not a cosmetic): IFRA alone, no restriction → 100.
    assert.equal(inCategory(certificate([line('Isoeugenol', 0.2), line('Hedione', 99.8)]), '12').maxDosagePct, 100);
  });
});

describe('IFRA certificate: prohibited grades', () => {
  it('states no maximum while a prohibited grade is not ruled out, and the restriction once it is', () => {
    const undeclared = inCategory(certificate([line('8013-10-3', 1)]), '4');
    assert.equal(undeclared.maxDosagePct, null);
    assert.match(undeclared.reason!, /Cade oil: IFRA prohibits a grade of it, and line 0 does not declare the specified grade/);
    const rectified = ifraCertificate(catalogue, { formula: [{ material: '8013-10-3', concentrationPct: 1, specificationMet: true }] });
    assert.equal(inCategory(rectified, '4').maxDosagePct, 100);
    // Styrax declared: its cat 4 limit 0.64 → 100 × 0.64 / 2 = 32.
    const styrax = ifraCertificate(catalogue, { formula: [{ material: '8046-19-3', concentrationPct: 2, specificationMet: true }] });
    assert.equal(inCategory(styrax, '4').maxDosagePct, 32);
  });

  it('follows the check on Tagetes oil 8016-84-0 (both parts of the Standard): no maximum undeclared, T. patula / minuta limits declared, 0 for T. erecta', () => {
    const undeclared = inCategory(certificate([line('8016-84-0', 1)]), '4');
    assert.equal(undeclared.maxDosagePct, null);
    assert.match(undeclared.reason!, /Tagetes erecta\): IFRA prohibits it and lists CAS 8016-84-0 .* line 0 does not declare the allowed part/);
    // Declared: cat 4 limit 0.01 % → 100 × 0.01 / 1 = 1 %.
    const declared = ifraCertificate(catalogue, { formula: [{ material: '8016-84-0', concentrationPct: 1, specificationMet: true }] });
    assert.equal(inCategory(declared, '4').maxDosagePct, 100 * limitOf('Tagetes oil and absolute (Tagetes patula and Tagetes minuta)', 'cat4'));
    assert.equal(inCategory(certificate([line('90131-43-4', 1)]), '4').maxDosagePct, 0);
  });
});

describe('IFRA certificate against the check (property, seeded random formulas)', () => {
  it("never states a maximum at which the check fails, and the check fails just above a maximum that binds", () => {
    let seed = 20261206;
    const next = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
    let compared = 0;
    for (let n = 0; n < 120; n++) {
      const pool = catalogue.palette.map((p) => p.name);
      const size = 3 + Math.floor(next() * 12);
      const formula = Array.from({ length: size }, () => line(pool.splice(Math.floor(next() * pool.length), 1)[0]!, Math.round((60 / size) * (0.2 + 1.6 * next()) * 1000) / 1000));
      const cert = certificate(formula);
      if (cert.euProhibited.length > 0) continue;
      for (const c of cert.categories) {
        if (c.maxDosagePct === null || c.maxDosagePct === 0) continue;
        compared++;
        const at = checkFormula(catalogue, { formula, category: c.category, dosagePct: c.maxDosagePct });
        assert.ok(at.verdict === 'pass' || at.verdict === 'warning', `formula ${n}, category ${c.category}: ${at.verdict} at the certificate's ${c.maxDosagePct} % (${JSON.stringify(formula)})`);
        if (c.limitedBy.length > 0 && c.maxDosagePct * 1.01 <= 100) {
          const above = checkFormula(catalogue, { formula, category: c.category, dosagePct: c.maxDosagePct * 1.01 });
          assert.equal(above.verdict, 'fail', `formula ${n}, category ${c.category}: ${above.verdict} at 1.01 × ${c.maxDosagePct} %`);
        }
      }
    }
    assert.ok(compared > 500, `${compared} category maxima compared`);
  });
});
