import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { MOODS, PRODUCT_CATEGORIES } from '../../src/llm/index.ts';
import { conventions, cosine, loadPalette, loadProductDosage, ODOR_FAMILIES, OdourSpace, productDosages } from '../../src/perfumery/index.ts';

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
    for (const file of ['materials.csv', 'usage.csv', 'product-dosage.csv', 'product-dosage-sources.csv', 'README.md']) {
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

describe('product dosage (sourced copy of ../shared/perfumery/product-dosage.csv)', () => {
  it('names every product type a brief can ask for, in the same IFRA category, and leaves DIFFUSER not sourced', () => {
    const dosages = productDosages();
    assert.deepEqual([...dosages.keys()].sort(), Object.keys(PRODUCT_CATEGORIES).sort());
    for (const [product, { ifraCategory }] of Object.entries(PRODUCT_CATEGORIES)) assert.equal(dosages.get(product)!.ifraCategory, ifraCategory, product);
    assert.deepEqual(dosages.get('BODY_LOTION'), { product: 'BODY_LOTION', ifraCategory: '5A', usualMinPct: 0.1, usualMaxPct: 2, defaultPct: 1, sourceIds: ['CANWAX', 'PEAK', 'COSSTUDIO', 'BIZP', 'MIRACLE', 'EOIL'], basis: dosages.get('BODY_LOTION')!.basis });
    assert.equal(dosages.get('EDP')!.defaultPct, 15);
    const diffuser = dosages.get('DIFFUSER')!;
    assert.deepEqual([diffuser.usualMinPct, diffuser.usualMaxPct, diffuser.defaultPct], [null, null, null]);
  });

  it('refuses a bad cell, naming row and column', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fai-dosage-'));
    try {
      const file = join(dir, 'product-dosage.csv');
      writeFileSync(file, 'product,ifra_category,usual_min_pct,usual_max_pct,default_pct,source_ids,basis\nEDP,4,15,twenty,15,X,y\n');
      assert.throws(() => loadProductDosage(file), /product-dosage\.csv row 2\.usual_max_pct/);
      writeFileSync(file, 'product,ifra_category,usual_min_pct,usual_max_pct,default_pct,source_ids,basis\nEDP,4,15,20,25,X,y\n');
      assert.throws(() => loadProductDosage(file), /row 2\.default_pct: 25 is above usual_max_pct 20/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('our conventions (wheel, lexicon, blenders, accords)', () => {
  const palette = loadPalette();
  const space = new OdourSpace(palette);
  const c = conventions();

  it('places every family on the wheel and gives each its nearest neighbours on either side', () => {
    assert.deepEqual([...c.neighbours.get('marine/ozonic')!].sort(), ['citrus', 'green']);
    assert.deepEqual([...c.neighbours.get('woody')!].sort(), ['ambery/balsamic', 'earthy/mossy', 'gourmand/sweet'], 'woody amber is empty: passed over');
    assert.deepEqual([...c.neighbours.get('aromatic/herbal')!].sort(), ['citrus', 'leathery/animalic'], 'the wheel is a circle');
    for (const family of ODOR_FAMILIES) assert.ok(!c.neighbours.get(family)!.has(family));
  });

  it('speaks the palette\'s words: every word of the mood lexicon is a descriptor some material has', () => {
    const missing: string[] = [];
    for (const group of [c.lexicon.moods, c.lexicon.seasons, c.lexicon.profiles]) for (const [key, list] of Object.entries(group)) for (const w of list) if (!space.has(w)) missing.push(`${key}: ${w}`);
    assert.deepEqual(missing, []);
    assert.deepEqual(Object.keys(c.lexicon.moods).sort(), [...MOODS].sort());
  });

  it('names accords of palette materials only, and blenders that exist', () => {
    const cas = new Set(palette.map((m) => m.cas));
    for (const accord of c.accords) for (const m of accord.materials) assert.ok(cas.has(m.cas), `${accord.name}: ${m.name}`);
    for (const blender of c.blenderCas) assert.ok(cas.has(blender), blender);
    assert.ok(c.accords.some((a) => a.note === 'green tea') && c.accords.some((a) => a.note === 'oud') && c.accords.some((a) => a.note === 'sea salt'));
  });

  it('profiles materials by their own descriptors: marine materials are closest to a marine target', () => {
    const target = space.vector([['family:marine/ozonic', 2], ['Marine', 1], ['Watery', 1], ['Ozonic', 1]]);
    const ranked = palette.map((m, i) => [m.name, cosine(space.profiles[i]!, target)] as const).sort((a, b) => b[1] - a[1]);
    assert.equal(ranked[0]![0], 'Calone');
    for (const profile of space.profiles) assert.ok(Math.abs(Math.hypot(...profile) - 1) < 1e-9);
  });
});
