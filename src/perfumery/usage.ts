import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { z } from 'zod';
import { parseOrThrow } from '../errors/index.ts';

/**
 * How much of each material a formula may hold, from data/usage.csv (a sourced copy of
 * ../shared/perfumery/usage.csv): the maximum recommended level in the fragrance concentrate (TGSC
 * "usage levels up to N %", else PerfumersWorld's "Maximum") and PerfumersWorld's "Average" as the
 * typical level. Guidance on usual practice, not regulation (IFRA limits are src/regulation's).
 * An empty cell is not sourced and stays null.
 */
export interface UsageLevel {
  readonly cas: string;
  readonly maxUsePct: number | null;
  readonly typicalUsePct: number | null;
  readonly sourceIds: readonly string[];
}

const pctCell = z.string().regex(/^(|\d+(\.\d+)?)$/, 'must be a percentage or empty (not sourced)');
const Row = z.object({
  cas: z.string().regex(/^\d{2,7}-\d{2}-\d$/),
  max_use_pct_concentrate: pctCell,
  typical_use_pct_concentrate: pctCell,
  source_ids: z.string(),
});

export const USAGE_CSV = new URL('./data/usage.csv', import.meta.url);

export function loadUsage(path: URL | string = USAGE_CSV): Map<string, UsageLevel> {
  const records: unknown[] = parse(readFileSync(path, 'utf8'), { columns: true, skip_empty_lines: true });
  const levels = new Map<string, UsageLevel>();
  records.forEach((record, i) => {
    const row = parseOrThrow(Row, record, `usage.csv row ${i + 2}`);
    const pct = (cell: string) => (cell === '' ? null : Number(cell));
    levels.set(row.cas, { cas: row.cas, maxUsePct: pct(row.max_use_pct_concentrate), typicalUsePct: pct(row.typical_use_pct_concentrate), sourceIds: row.source_ids.split(';').filter(Boolean) });
  });
  return levels;
}
