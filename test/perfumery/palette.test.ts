import assert from 'node:assert/strict';
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

  it('keeps unsourced values unknown, never filled in', () => {
    const ambroxan = palette.find((m) => m.name === 'Ambroxan')!;
    assert.equal(ambroxan.notePosition, null);
    assert.ok(ODOR_FAMILIES.includes(ambroxan.odorFamily));
  });
});
