import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { RegulatoryCatalogue } from '../../src/regulation/index.ts';

const catalogue = RegulatoryCatalogue.load();
const csv = (file: string): Array<Record<string, string>> =>
  parse(readFileSync(new URL(`../../src/regulation/data/${file}`, import.meta.url), 'utf8'), { columns: true, skip_empty_lines: true });

describe('regulatory catalogue (sourced data)', () => {
  it('loads every row of the copied data files', () => {
    assert.equal(catalogue.standards.length, csv('ifra-standards.csv').length);
    assert.equal(catalogue.categories.length, 18);
    assert.equal(catalogue.palette.length, 170);
    const allergenCas = new Set(csv('eu-allergens.csv').map((r) => r.cas).filter((c) => c !== ''));
    assert.deepEqual(new Set(catalogue.allergens.flatMap((a) => a.cas)), allergenCas);
  });

  it('is a copy of ../shared/regulatory, byte for byte', () => {
    for (const file of ['ifra-standards.csv', 'eu-allergens.csv', 'ifra-categories.csv']) {
      let shared: string;
      try {
        shared = readFileSync(new URL(`../../../shared/regulatory/${file}`, import.meta.url), 'utf8');
      } catch {
        continue; // a clone without ../shared beside it: nothing to compare with
      }
      assert.equal(readFileSync(new URL(`../../src/regulation/data/${file}`, import.meta.url), 'utf8'), shared, file);
    }
  });

  it('gives every Standard, allergen and group a source id', () => {
    for (const item of [...catalogue.standards, ...catalogue.allergens, ...catalogue.groups]) assert.ok(item.sourceIds.length > 0 && item.sourceIds.every((id) => /^[A-Z0-9_]+$/.test(id)), item.id);
  });

  it('invents no limit: every category limit is the number in the data, and empty cells stay not sourced', () => {
    const rows = csv('ifra-standards.csv');
    const columns: Record<string, string> = { '1': 'cat1', '4': 'cat4', '5A': 'cat5a', '9': 'cat9', '12': 'cat12' };
    catalogue.standards.forEach((standard, i) => {
      for (const [category, column] of Object.entries(columns)) {
        const cell = rows[i]![column]!;
        const limit = standard.limits[category]!;
        if (cell === '') assert.equal(limit.kind, 'not_sourced', `${standard.name} cat ${category}`);
        else if (cell === 'no restriction') assert.equal(limit.kind, 'no_restriction');
        else assert.deepEqual(limit, { kind: 'limit', pct: Number(cell) });
      }
    });
    const withLimits = catalogue.standards.filter((s) => Object.values(s.limits).some((l) => l.kind === 'limit')).map((s) => s.name);
    assert.deepEqual(withLimits.sort(), ['Citronellal', 'Treemoss extracts']);
    assert.deepEqual(catalogue.standardById('citronellal')?.limits['4'], { kind: 'limit', pct: 0.49 });
    assert.deepEqual(catalogue.standardById('citronellal')?.limits['12'], { kind: 'no_restriction' });
  });

  it('keeps the EU thresholds as sourced: 0.001 % leave-on, 0.01 % rinse-off, none for Annex II', () => {
    const linalool = catalogue.allergens.find((a) => a.labelName === 'Linalool')!;
    assert.deepEqual([linalool.leaveOnThresholdPct, linalool.rinseOffThresholdPct, linalool.annex], [0.001, 0.01, 'annex_iii']);
    const lilial = catalogue.allergens.find((a) => a.cas.includes('80-54-6'))!;
    assert.deepEqual([lilial.annex, lilial.leaveOnThresholdPct], ['annex_ii', null]);
  });

  it('resolves a material by CAS, palette name, trade name, IFRA name or INCI name, and nothing else', () => {
    assert.equal(catalogue.resolve('106-23-0')?.name, 'Citronellal');
    assert.equal(catalogue.resolve('  citronellal ')?.cas, '106-23-0');
    assert.equal(catalogue.resolve('Hedione®')?.cas, '24851-98-7');
    assert.equal(catalogue.resolve('Butylphenyl methylpropional')?.cas, '80-54-6');
    const roseKetones = catalogue.resolve('Rose ketones');
    assert.ok(roseKetones && roseKetones.standards.some((s) => s.id === 'rose_ketones'));
    assert.equal(catalogue.resolve('Unobtainium'), null);
    assert.equal(catalogue.resolve('50-00-0'), null, 'a valid CAS that none of the data lists');
  });

  it('marks the naturals of the palette', () => {
    assert.equal(catalogue.resolve('Bergamot oil')?.natural, true);
    assert.equal(catalogue.resolve('Linalool')?.natural, false);
  });
});
