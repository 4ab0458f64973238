import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FaiError } from '../../src/errors/index.ts';
import { loadPalette } from '../../src/perfumery/index.ts';
import { loadNaturalAllergens, loadNaturalContributions, loadNaturals } from '../../src/regulation/naturals-load.ts';

const DATA = (file: string) => new URL(`../../src/regulation/data/${file}`, import.meta.url);
let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fai-naturals-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The file with one cell of one data row (row 2 is the first) replaced. */
async function withCell(file: string, row: number, column: string, value: string): Promise<string> {
  const lines = (await readFile(DATA(file), 'utf8')).split('\n');
  const header = lines[0]!.split(',');
  const cells = lines[row - 1]!.split(',');
  cells[header.indexOf(column)] = value;
  lines[row - 1] = cells.join(',');
  const path = join(dir, `${row}-${column}-${file}`);
  await writeFile(path, lines.join('\n'));
  return path;
}

describe('what the naturals contain (copied from ../shared/regulatory, validated when loaded)', () => {
  it('loads every row, and the coverage agrees with the rows the files hold; every natural is a palette material', () => {
    const naturals = loadNaturals({}, new Set(loadPalette().map((m) => m.name)));
    assert.deepEqual([naturals.contributions.length, naturals.allergens.length, naturals.coverage.length], [285, 236, 60]);
    assert.equal(new Set(naturals.contributions.map((c) => c.natural)).size, 46);
    assert.equal(new Set(naturals.allergens.map((c) => c.natural)).size, 40);
    assert.deepEqual(
      naturals.coverage.filter((c) => c.contributionRows === 0).map((c) => c.natural),
      ['Iris pallida oil', 'Rosemary oil', 'Camphor oil, white', 'Pepper, black, oil', 'Patchouli oil', 'Amyris oil', 'Tolu, balsam, resinoid', 'Myrrh', 'Opoponax resinoid', 'Castoreum absolute', 'Civet absolute', 'Cade oil', 'Oakmoss absolute', 'Treemoss absolute'],
    );
  });

  it('reads each row as the file states it: the level, the match, the Standard and the grade', () => {
    // The lemongrass: geranial 41.42 % + neral 30.54 %, both counting towards the Citral Standard.
    const lemongrass = loadNaturalContributions().filter((c) => c.natural === 'Lemongrass oil, East Indian' && ['141-27-5', '106-26-3'].includes(c.substanceCas));
    assert.deepEqual(lemongrass.map((c) => [c.substanceCas, c.levelPct, c.standardRef]).sort(), [['106-26-3', 30.54, 'IFRA_STD_021'], ['141-27-5', 41.42, 'IFRA_STD_021']]);
    const bergamot = loadNaturalContributions().find((c) => c.natural === 'Bergamot oil' && c.substanceCas === '141-27-5')!;
    assert.deepEqual([bergamot.levelPct, bergamot.match, bergamot.annexNatural, bergamot.sourceIds], [0.28, 'exact', 'Bergamot oil expressed', ['IFRA51_ANNEX_SMX', 'IFRA51_ANNEX_KJZ']]);
    const matches = new Set(loadNaturalContributions().map((c) => c.match));
    assert.deepEqual([...matches].sort(), ['exact', 'related', 'variant']);
    // Limonene without an enantiomer lists every CAS of the EU entry; a pharmacopoeia range has no match=: the natural itself.
    const allergens = loadNaturalAllergens();
    assert.ok(allergens.some((a) => a.allergenCas.length === 3 && a.allergenCas.includes('5989-27-5')));
    assert.ok(allergens.some((a) => !/match=/.test(a.note) && a.match === 'exact'));
  });

  it('stops on a bad cell, naming the file, the row and the column', async () => {
    const bad = await withCell('ifra-natural-contributions.csv', 3, 'level_pct', 'about 5');
    assert.throws(() => loadNaturalContributions(bad), (error: FaiError) => error.code === 'FAI_ERR_CONFIG' && /ifra-natural-contributions\.csv row 3\.level_pct: must be a percentage/.test(error.message));
    const cas = await withCell('ifra-natural-contributions.csv', 4, 'substance_cas', '141-27-6');
    assert.throws(() => loadNaturalContributions(cas), /row 4\.substance_cas: is not a valid CAS number/);
    const over = await withCell('natural-allergens.csv', 2, 'max_pct', '140');
    assert.throws(() => loadNaturalAllergens(over), /natural-allergens\.csv row 2\.max_pct: must be above 0 and at most 100/);
  });

  it('stops when the coverage does not count the rows the files hold', async () => {
    const wrong = await withCell('natural-coverage.csv', 2, 'ifra_annex_rows', '4');
    assert.throws(() => loadNaturals({ coverage: wrong }), /natural-coverage\.csv row 2: "Bergamot oil" says 4 contribution and 7 allergen rows; the files hold 3 and 7/);
  });
});
