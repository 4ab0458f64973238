import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { z } from 'zod';
import { ErrorCodes, FaiError, parseOrThrow } from '../errors/index.ts';

/**
 * How much fragrance concentrate a finished product usually holds (% of the product), from
 * data/product-dosage.csv — a sourced copy of ../shared/perfumery/product-dosage.csv (its README:
 * secondary sources, a perfumer's rule of thumb, not regulation; the default is the shared data's
 * own convention). An empty cell is not sourced and stays null: DIFFUSER has no dosage at all.
 */
export interface ProductDosage {
  readonly product: string;
  readonly ifraCategory: string;
  readonly usualMinPct: number | null;
  readonly usualMaxPct: number | null;
  readonly defaultPct: number | null;
  readonly sourceIds: readonly string[];
  readonly basis: string;
}

const pct = z.string().regex(/^(|\d+(\.\d+)?)$/, 'must be a percentage or empty (not sourced)');
const Row = z.object({
  product: z.string().regex(/^[A-Z_]+$/),
  ifra_category: z.string().regex(/^\d{1,2}[A-D]?$/),
  usual_min_pct: pct,
  usual_max_pct: pct,
  default_pct: pct,
  source_ids: z.string(),
  basis: z.string(),
});

export const PRODUCT_DOSAGE_CSV = new URL('./data/product-dosage.csv', import.meta.url);

export function loadProductDosage(path: URL | string = PRODUCT_DOSAGE_CSV): Map<string, ProductDosage> {
  const records: unknown[] = parse(readFileSync(path, 'utf8'), { columns: true, skip_empty_lines: true });
  const out = new Map<string, ProductDosage>();
  records.forEach((record, i) => {
    const row = parseOrThrow(Row, record, `product-dosage.csv row ${i + 2}`);
    const value = (cell: string) => (cell === '' ? null : Number(cell));
    const dosage: ProductDosage = {
      product: row.product,
      ifraCategory: row.ifra_category,
      usualMinPct: value(row.usual_min_pct),
      usualMaxPct: value(row.usual_max_pct),
      defaultPct: value(row.default_pct),
      sourceIds: row.source_ids.split(';').filter(Boolean),
      basis: row.basis,
    };
    if (dosage.defaultPct !== null && dosage.usualMaxPct !== null && dosage.defaultPct > dosage.usualMaxPct) {
      throw new FaiError(ErrorCodes.VALIDATION, `product-dosage.csv row ${i + 2}.default_pct: ${dosage.defaultPct} is above usual_max_pct ${dosage.usualMaxPct}`, { field: `product-dosage.csv row ${i + 2}.default_pct` });
    }
    out.set(row.product, dosage);
  });
  return out;
}

let cached: Map<string, ProductDosage> | undefined;
/** The shipped table, read once. */
export function productDosages(): ReadonlyMap<string, ProductDosage> {
  cached ??= loadProductDosage();
  return cached;
}
