import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { loadPalette, ODOR_FAMILIES } from '../../src/perfumery/index.ts';

describe('materials palette (sourced copy of ../shared/perfumery)', () => {
  const palette = loadPalette();

  it('loads every row with its source ids, as the shared README counts them', () => {
    assert.equal(palette.length, 170);
    assert.equal(palette.filter((m) => m.natural).length, 60, '60 naturals');
    assert.equal(palette.filter((m) => m.notePosition === null).length, 58, 'note position not sourced for 58 rows');
    assert.ok(palette.every((m) => m.sourceIds.length > 0));
    assert.equal(new Set(palette.map((m) => m.cas)).size, 170, 'one row per CAS');
  });

  it('joins the usage levels of usage.csv: 105 maxima, 76 typical levels, the rest not sourced', () => {
    assert.equal(palette.filter((m) => m.maxUsePct !== null).length, 105);
    assert.equal(palette.filter((m) => m.typicalUsePct !== null).length, 76);
    const linalool = palette.find((m) => m.name === 'Linalool')!;
    assert.deepEqual([linalool.maxUsePct, linalool.typicalUsePct], [12, 7]);
  });

  it('is a copy of ../shared/perfumery, byte for byte', () => {
    for (const file of ['materials.csv', 'usage.csv']) {
      let shared: string;
      try {
        shared = readFileSync(new URL(`../../../shared/perfumery/${file}`, import.meta.url), 'utf8');
      } catch {
        continue; // a clone without ../shared beside it
      }
      assert.equal(readFileSync(new URL(`../../src/perfumery/data/${file}`, import.meta.url), 'utf8'), shared, file);
    }
  });

  it('keeps unsourced values unknown, never filled in', () => {
    const ambroxan = palette.find((m) => m.name === 'Ambroxan')!;
    assert.equal(ambroxan.notePosition, null);
    assert.ok(ODOR_FAMILIES.includes(ambroxan.odorFamily));
  });
});
