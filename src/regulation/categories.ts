import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { z } from 'zod';
import { parseOrThrow } from '../errors/index.ts';

/** IFRA product categories 1–12 with sub-categories (Amendment 49+ scheme), from data/ifra-categories.csv. */
export interface ProductCategory {
  /** "4", "5A", … as IFRA writes them. */
  readonly id: string;
  readonly parent: string;
  readonly description: string;
  readonly exampleProducts: string;
  readonly sourceIds: readonly string[];
}

const Row = z.object({
  category: z.string().regex(/^\d{1,2}[A-D]?$/),
  parent_category: z.string().regex(/^\d{1,2}$/),
  description: z.string().min(1),
  example_products: z.string(),
  source_id: z.string().min(1),
});

export const CATEGORIES_CSV = new URL('./data/ifra-categories.csv', import.meta.url);

export function loadCategories(path: URL | string = CATEGORIES_CSV): ProductCategory[] {
  const records: unknown[] = parse(readFileSync(path, 'utf8'), { columns: true, skip_empty_lines: true });
  return records.map((record, i) => {
    const row = parseOrThrow(Row, record, `ifra-categories.csv row ${i + 2}`);
    return {
      id: row.category,
      parent: row.parent_category,
      description: row.description,
      exampleProducts: row.example_products,
      sourceIds: row.source_id.split(';'),
    };
  });
}

/**
 * Categories whose products are rinsed off (7A: rinse-off hair products, 9:
 * body and hand products primarily rinse-off, per the category descriptions);
 * the allergen labelling threshold for these is the rinse-off one unless the
 * caller says otherwise. Every other category defaults to leave-on, the
 * stricter threshold.
 */
export const RINSE_OFF_CATEGORIES: ReadonlySet<string> = new Set(['7A', '9']);
