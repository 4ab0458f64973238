import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';

/**
 * What every loader of the regulation data shares: where the data files are, how a CSV file is read,
 * and how names are matched and turned into ids. A leaf: the loaders import it, it imports none.
 */
export const DATA = (file: string): URL => new URL(`./data/${file}`, import.meta.url);

/** Lower case, no trademark signs, single spaces: how names are matched. */
export function normalizeName(name: string): string {
  // Most names arrive clean: one test spares the Unicode normalisation and replaces on the hot path of every check.
  if (CLEAN_NAME.test(name)) return name.toLowerCase();
  return name
    .normalize('NFKC')
    .replace(/[®™©]/g, '')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim();
}

/** Printable ASCII, single inner spaces, no space at either end. */
const CLEAN_NAME = /^(?! )(?:[\x21-\x7e]| (?=[\x21-\x7e]))*$/;

export function slug(name: string): string {
  return normalizeName(name)
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '_')
    .slice(0, 60)
    .replace(/^_+|_+$/g, '');
}

/** The records of a CSV file with a header row (the data files' one reader). */
export function readCsv(path: URL | string): unknown[] {
  return parse(readFileSync(path, 'utf8'), { columns: true, skip_empty_lines: true });
}

