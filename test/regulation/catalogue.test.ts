import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { FaiError } from '../../src/errors/index.ts';
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

  it('is a copy of ../shared/regulatory, byte for byte (the naturals files, the README, the sources and the changes too)', () => {
    const copies: Record<string, string> = {
      'ifra-standards.csv': 'ifra-standards.csv',
      'eu-allergens.csv': 'eu-allergens.csv',
      'ifra-categories.csv': 'ifra-categories.csv',
      'ifra-natural-contributions.csv': 'ifra-natural-contributions.csv',
      'natural-allergens.csv': 'natural-allergens.csv',
      'natural-coverage.csv': 'natural-coverage.csv',
      'sources.md': 'sources.md',
      'naturals-sources.md': 'naturals-sources.md',
      'README.md': 'SHARED-README.md',
      'CHANGES.md': 'SHARED-CHANGES.md',
    };
    for (const [file, copy] of Object.entries(copies)) {
      let shared: string;
      try {
        shared = readFileSync(new URL(`../../../shared/regulatory/${file}`, import.meta.url), 'utf8');
      } catch {
        continue; // a clone without ../shared beside it: nothing to compare with
      }
      assert.equal(readFileSync(new URL(`../../src/regulation/data/${copy}`, import.meta.url), 'utf8'), shared, file);
    }
  });

  it('gives every Standard, allergen and group a source id', () => {
    for (const item of [...catalogue.standards, ...catalogue.allergens, ...catalogue.groups]) assert.ok(item.sourceIds.length > 0 && item.sourceIds.every((id) => /^[A-Z0-9_]+$/.test(id)), item.id);
  });

  it('invents no limit: every category cell is the data\'s number, "no restriction", "prohibited" or not sourced', () => {
    const rows = csv('ifra-standards.csv');
    const columns: Record<string, string> = { '1': 'cat1', '2': 'cat2', '3': 'cat3', '4': 'cat4', '5A': 'cat5a', '5B': 'cat5b', '5C': 'cat5c', '5D': 'cat5d', '6': 'cat6', '7A': 'cat7a', '7B': 'cat7b', '8': 'cat8', '9': 'cat9', '10A': 'cat10a', '10B': 'cat10b', '11A': 'cat11a', '11B': 'cat11b', '12': 'cat12' };
    catalogue.standards.forEach((standard, i) => {
      for (const [category, column] of Object.entries(columns)) {
        const cell = rows[i]![column]!;
        const limit = standard.limits[category]!;
        if (cell === '') assert.equal(limit.kind, 'not_sourced', `${standard.name} cat ${category}`);
        else if (cell === 'no restriction') assert.equal(limit.kind, 'no_restriction');
        else if (cell === 'prohibited') assert.equal(limit.kind, 'prohibited');
        else assert.deepEqual(limit, { kind: 'limit', pct: Number(cell) });
      }
    });
    // The 51st Amendment's 172 restriction Standards with category limits (shared README).
    const withLimits = catalogue.standards.filter((s) => Object.values(s.limits).some((l) => l.kind === 'limit'));
    assert.equal(withLimits.length, 172);
    assert.deepEqual(catalogue.standardById('citronellal')?.limits['4'], { kind: 'limit', pct: 0.49 });
    assert.deepEqual(catalogue.standardById('citronellal')?.limits['12'], { kind: 'no_restriction' });
    const bmhca = catalogue.resolve('80-54-6')!.standards[0]!;
    assert.deepEqual([bmhca.limits['1'], bmhca.limits['6'], bmhca.limits['4']], [{ kind: 'prohibited' }, { kind: 'prohibited' }, { kind: 'limit', pct: 1.4 }]);
  });

  it('stops on a cell it does not know, naming the row and the column', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fai-ifra-'));
    const rows = readFileSync(new URL('../../src/regulation/data/ifra-standards.csv', import.meta.url), 'utf8').split('\n');
    rows[3] = rows[3]!.replace(/,restriction,49,0\.27,/, ',restriction,49,0.27 %,');
    const file = join(dir, 'ifra-standards.csv');
    writeFileSync(file, rows.join('\n'));
    assert.throws(
      () => RegulatoryCatalogue.load({ standards: file }),
      (e: unknown) => e instanceof FaiError && e.field === 'ifra-standards.csv row 4.cat1' && /"0\.27 %" is not a category limit/.test(e.message),
    );
    rmSync(dir, { recursive: true });
  });

  it('names entries that prescribe no label name from eu-label-names.csv, and stops on a row that names a missing or already named entry', () => {
    const names = csv('eu-label-names.csv');
    for (const row of names) {
      const allergen = catalogue.allergens.find((a) => a.annex === 'annex_iii' && a.entry === row.annex_iii_entry)!;
      assert.deepEqual([allergen.labelName, allergen.labelNameSourced, allergen.sourceIds.includes('EU_CONS')], [row.label_name, true, true], row.annex_iii_entry);
    }
    // Every entry the EU file leaves unnamed has a glossary name, except those with several (geranium, patchouli).
    const unnamed = catalogue.allergens.filter((a) => a.annex === 'annex_iii' && !a.labelNameSourced).map((a) => a.entry);
    assert.deepEqual(unnamed.sort(), ['364', '365']);
    const dir = mkdtempSync(join(tmpdir(), 'fai-label-names-'));
    const file = join(dir, 'eu-label-names.csv');
    const header = 'annex_iii_entry,label_name,source_id,note\n';
    for (const [row, message] of [
      ['999,Nothing,EU_CONS,OURS. no such entry', /eu-label-names\.csv row 2: eu-allergens\.csv has no Annex III entry 999/],
      ['84,Linalool,EU_CONS,OURS. named already', /eu-label-names\.csv row 2: entry 84 already has a label name/],
      ['346,,EU_CONS,OURS. empty', /label_name/],
    ] as const) {
      writeFileSync(file, header + row + '\n');
      assert.throws(() => RegulatoryCatalogue.load({ labelNames: file }), (e: unknown) => e instanceof FaiError && message.test(e.message + ' ' + String(e.field)), row);
    }
    rmSync(dir, { recursive: true });
  });

  it('gives the specification each specification Standard states, and the grade condition of mixed Standards', () => {
    assert.match(catalogue.resolve('Linalool')!.standards[0]!.specification!, /peroxide value < 20 mmol\/L/);
    assert.match(catalogue.resolve('d-Limonene')!.standards[0]!.specification!, /peroxide value < 20 mmol\/L/);
    assert.match(catalogue.resolve('Allyl hexanoate')!.standards.find((s) => s.id === 'allyl_esters')!.specification!, /free allyl alcohol in the ester is < 0\.1%/);
    assert.match(catalogue.resolve('Peru balsam distillate')!.standards[0]!.specification!, /CRUDE is prohibited/);
    assert.equal(catalogue.standardById('citronellal')!.specification, null);
  });

  it('loads the sum rules and the rules it cannot apply, each naming Standards that exist', () => {
    assert.deepEqual(
      catalogue.groups.map((g) => [g.id, g.rule, g.limitFrom]),
      [
        ['oakmoss_treemoss', 'total', 'treemoss_extracts'],
        ['mhc_moc', 'total', 'methyl_heptine_carbonate'],
        ['furocoumarin_oils', 'share', null],
      ],
    );
    assert.equal(catalogue.groups[2]!.standardIds.length, 8);
    assert.deepEqual(catalogue.unappliedRules.map((r) => r.id), ['furocoumarin_bergapten', 'concentrated_citrus', 'pah_markers']);
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
