import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PALETTE_CSV, USAGE_CSV } from '../perfumery/index.ts';
import type { CatalogueParts, IfraStandard, StandardType } from './catalogue-types.ts';
import { CATEGORIES_CSV, CATEGORY_USE_CSV } from './categories.ts';

/**
 * The regulation catalogue's parts as parsed and validated from the CSV files, kept as one JSON file
 * beside the compiled code (`make build` writes it). Reading it costs a JSON.parse; parsing the CSV
 * files and validating every row costs about 120 ms and most of a one-shot `fai check-formula`. The
 * snapshot names each source file with the SHA-1 of its content (2 ms for all of them), and is used
 * only while every one still matches — an edited CSV file is read again, never shadowed by an old
 * snapshot.
 */
export type { CatalogueParts } from './catalogue-types.ts';

const data = (file: string) => new URL(`./data/${file}`, import.meta.url);
export const SNAPSHOT_FILE = data('catalogue.snapshot.json');

/** Every file the default catalogue is read from. */
export const CATALOGUE_FILES: readonly URL[] = [
  data('ifra-standards.csv'),
  data('group-members.csv'),
  data('eu-allergens.csv'),
  data('eu-product-types.csv'),
  data('eu-entry-standards.csv'),
  data('eu-label-names.csv'),
  data('combination-groups.csv'),
  data('unapplied-rules.csv'),
  CATEGORIES_CSV,
  CATEGORY_USE_CSV,
  PALETTE_CSV,
  USAGE_CSV,
];

/** Every file the naturals' contents are read from (naturals.ts). */
export const NATURALS_FILES: readonly URL[] = [data('ifra-natural-contributions.csv'), data('natural-allergens.csv'), data('natural-coverage.csv')];
export const NATURALS_SNAPSHOT_FILE = data('naturals.snapshot.json');

type Stamp = Record<string, string>;

function stamps(files: readonly URL[]): Stamp | null {
  const out: Stamp = {};
  for (const file of files) {
    try {
      out[fileURLToPath(file).split('/').slice(-3).join('/')] = createHash('sha1').update(readFileSync(file)).digest('hex');
    } catch {
      return null;
    }
  }
  return out;
}

/** A snapshot's value, or null when there is none or one of `sources` changed since it was written. */
function readSnapshot<T>(file: URL, sources: readonly URL[]): T | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  const snapshot = JSON.parse(text) as { stamps: Stamp; value: T };
  const now = stamps(sources);
  return now !== null && JSON.stringify(now) === JSON.stringify(snapshot.stamps) ? snapshot.value : null;
}

/** Writes `value` with the stamps of the `sources` it was read from. */
function writeSnapshot(file: URL, sources: readonly URL[], value: unknown, replacer?: (key: string, value: unknown) => unknown): void {
  const stamp = stamps(sources);
  if (stamp === null) throw new Error(`a source file of ${fileURLToPath(file)} is missing`);
  writeFileSync(file, JSON.stringify({ stamps: stamp, value }, replacer));
}

/** The snapshot's parts, or null when there is none or a source file changed since it was written. */
export function readCatalogueSnapshot(file: URL = SNAPSHOT_FILE): CatalogueParts | null {
  const parts = readSnapshot<CatalogueParts & { standards: Array<IfraStandard & { types: StandardType[] }> }>(file, CATALOGUE_FILES);
  if (parts === null) return null;
  // JSON has no Set: a Standard's types are its typeList.
  for (const standard of parts.standards) (standard as { types: ReadonlySet<StandardType> }).types = new Set(standard.typeList);
  return parts;
}

export function writeCatalogueSnapshot(parts: CatalogueParts, file: URL = SNAPSHOT_FILE): void {
  writeSnapshot(file, CATALOGUE_FILES, parts, (key, value) => (key === 'types' && value instanceof Set ? [...value] : value));
}

/**
 * The naturals' rows as parsed and validated (naturals.ts), the same way: used only while the three
 * naturals files are the ones it was written from. Parsing them costs about 75 ms of a one-shot
 * `fai check-formula`.
 */
export function readNaturalsSnapshot<T>(file: URL = NATURALS_SNAPSHOT_FILE): T | null {
  return readSnapshot<T>(file, NATURALS_FILES);
}

export function writeNaturalsSnapshot(naturals: unknown, file: URL = NATURALS_SNAPSHOT_FILE): void {
  writeSnapshot(file, NATURALS_FILES, naturals);
}
