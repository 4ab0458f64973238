import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { z } from 'zod';
import { ErrorCodes, FaiError, parseOrThrow } from '../errors/index.ts';

/** IFRA product categories 1–12 with sub-categories (Amendment 49+ scheme), from data/ifra-categories.csv. */
export interface ProductCategory {
  /** "4", "5A", … as IFRA writes them. */
  readonly id: string;
  readonly parent: string;
  readonly description: string;
  readonly exampleProducts: string;
  /**
   * How its products are used, for EU cosmetic labelling (category-exposure.csv, ours, from the
   * category descriptions): `leave_on` and `rinse_off` pick the allergen threshold; `not_cosmetic`
   * (household care, air care, inert substrates, candles) — Regulation 1223/2009 does not apply.
   */
  readonly use: CategoryUse;
  /** Why, in words. */
  readonly useNote: string;
  readonly sourceIds: readonly string[];
}

export type CategoryUse = 'leave_on' | 'rinse_off' | 'not_cosmetic';

const UseRow = z.object({
  category: z.string().regex(/^\d{1,2}[A-D]?$/),
  use: z.enum(['leave_on', 'rinse_off', 'not_cosmetic'], { error: 'must be leave_on, rinse_off or not_cosmetic' }),
  note: z.string().min(1),
});

export const CATEGORY_USE_CSV = new URL('./data/category-exposure.csv', import.meta.url);

/** Each IFRA category's use for EU labelling (category-exposure.csv, our mapping). */
export function loadCategoryUse(path: URL | string = CATEGORY_USE_CSV): Map<string, { use: CategoryUse; note: string }> {
  const records: unknown[] = parse(readFileSync(path, 'utf8'), { columns: true, skip_empty_lines: true });
  return new Map(
    records.map((record, i) => {
      const row = parseOrThrow(UseRow, record, `category-exposure.csv row ${i + 2}`);
      return [row.category, { use: row.use, note: row.note }];
    }),
  );
}

const Row = z.object({
  category: z.string().regex(/^\d{1,2}[A-D]?$/),
  parent_category: z.string().regex(/^\d{1,2}$/),
  description: z.string().min(1),
  example_products: z.string(),
  source_id: z.string().min(1),
});

export const CATEGORIES_CSV = new URL('./data/ifra-categories.csv', import.meta.url);

export function loadCategories(path: URL | string = CATEGORIES_CSV, usePath: URL | string = CATEGORY_USE_CSV): ProductCategory[] {
  const records: unknown[] = parse(readFileSync(path, 'utf8'), { columns: true, skip_empty_lines: true });
  const uses = loadCategoryUse(usePath);
  return records.map((record, i) => {
    const row = parseOrThrow(Row, record, `ifra-categories.csv row ${i + 2}`);
    const use = uses.get(row.category);
    // A category without a use would be labelled by a guess: the loader stops instead.
    if (use === undefined) throw new FaiError(ErrorCodes.CONFIG, `category-exposure.csv: no row for IFRA category ${row.category}`, { field: 'category-exposure.csv' });
    return {
      id: row.category,
      parent: row.parent_category,
      description: row.description,
      exampleProducts: row.example_products,
      use: use.use,
      useNote: use.note,
      sourceIds: row.source_id.split(';'),
    };
  });
}
