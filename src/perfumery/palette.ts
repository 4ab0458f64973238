import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { z } from 'zod';
import { parseOrThrow } from '../errors/index.ts';
import { loadUsage, USAGE_CSV } from './usage.ts';

/**
 * The materials palette: common perfumery materials with CAS, odour family and
 * note position, copied from ../shared/perfumery/ with its source ids (see
 * data/README.md and data/sources.md). Empty cells there mean "not sourced" and
 * stay `null` here.
 */
export const ODOR_FAMILIES = [
  'citrus',
  'green',
  'floral',
  'fruity',
  'aromatic/herbal',
  'spicy',
  'woody',
  'ambery/balsamic',
  'musky',
  'gourmand/sweet',
  'aldehydic',
  'marine/ozonic',
  'leathery/animalic',
  'earthy/mossy',
] as const;
export type OdorFamily = (typeof ODOR_FAMILIES)[number];
export type NotePosition = 'top' | 'heart' | 'base';

export interface PaletteMaterial {
  readonly name: string;
  readonly cas: string;
  /** IFRA glossary principal name (a synonym of `name`). */
  readonly ifraPrincipalName: string;
  readonly odorDescriptors: readonly string[];
  readonly odorFamily: OdorFamily;
  /** null: not sourced (58 rows). */
  readonly notePosition: NotePosition | null;
  /** An oil, absolute, resinoid, balsam or other natural complex substance (by its name). */
  readonly natural: boolean;
  /** Maximum recommended % in the concentrate (data/usage.csv); null: not sourced. */
  readonly maxUsePct: number | null;
  /** Typical % in the concentrate (data/usage.csv); null: not sourced. */
  readonly typicalUsePct: number | null;
  /** TGSC_PY tags, verbatim, in first-seen order (110 rows; none for the naturals). */
  readonly tgscDescriptors: readonly string[];
  /** TGSC_PY substantivity on a smelling strip, hours (the median where several are given); null: not sourced. */
  readonly substantivityHours: number | null;
  /** TGSC_PY odour strength (the first where several are given); null: not sourced. */
  readonly odorStrength: OdorStrength | null;
  readonly sourceIds: readonly string[];
  readonly remarks: string;
}

export const ODOR_STRENGTHS = ['low', 'medium', 'high', 'very high'] as const;
export type OdorStrength = (typeof ODOR_STRENGTHS)[number];

const Row = z.object({
  name: z.string().min(1),
  cas: z.string().regex(/^\d{2,7}-\d{2}-\d$/),
  odor_descriptors: z.string(),
  odor_family: z.enum(ODOR_FAMILIES),
  note_position: z.enum(['top', 'heart', 'base', '']),
  source_ids: z.string().min(1),
  ifra_principal_name: z.string().min(1),
  tgsc_descriptors: z.string(),
  tgsc_substantivity_h: z.string().regex(/^(|\d+(\.\d+)?(;\d+(\.\d+)?)*)$/, 'must be hours, several joined by ;, or empty'),
  tgsc_odor_strength: z.string().regex(/^(|(low|medium|high|very high)(;(low|medium|high|very high))*)$/, 'must be low, medium, high or very high, several joined by ;, or empty'),
  remarks: z.string(),
});

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The palette names its naturals this way (README: "oils, absolutes, resinoids, balsams"); Myrrh is the one gum resin. */
const NATURAL_NAME = /\b(oil|absolute|resinoid|balsam|distillate|extract|concrete|myrrh)\b/i;

export const PALETTE_CSV = new URL('./data/materials.csv', import.meta.url);

export function loadPalette(path: URL | string = PALETTE_CSV, usagePath: URL | string = USAGE_CSV): PaletteMaterial[] {
  const records: unknown[] = parse(readFileSync(path, 'utf8'), { columns: true, skip_empty_lines: true });
  const usage = loadUsage(usagePath);
  return records.map((record, i) => {
    const row = parseOrThrow(Row, record, `materials.csv row ${i + 2}`);
    return {
      name: row.name,
      cas: row.cas,
      ifraPrincipalName: row.ifra_principal_name,
      odorDescriptors: row.odor_descriptors.split(';').filter(Boolean),
      odorFamily: row.odor_family,
      notePosition: row.note_position === '' ? null : row.note_position,
      natural: NATURAL_NAME.test(row.name),
      maxUsePct: usage.get(row.cas)?.maxUsePct ?? null,
      typicalUsePct: usage.get(row.cas)?.typicalUsePct ?? null,
      tgscDescriptors: row.tgsc_descriptors.split(';').map((d) => d.trim()).filter(Boolean),
      substantivityHours: row.tgsc_substantivity_h === '' ? null : median(row.tgsc_substantivity_h.split(';').map(Number)),
      odorStrength: row.tgsc_odor_strength === '' ? null : (row.tgsc_odor_strength.split(';')[0] as OdorStrength),
      sourceIds: row.source_ids.split(';'),
      remarks: row.remarks,
    };
  });
}
