import { z } from 'zod';
import { ErrorCodes, FaiError, parseOrThrow } from '../errors/index.ts';
import { isValidCas } from './cas.ts';
import { readCsv } from './catalogue.ts';

/**
 * What the palette's naturals (essential oils, absolutes, resinoids) contain, as sourced: IFRA's
 * 51st-Amendment Annex on natural contributions (restricted substances, % of the natural) and the
 * EU-labelling allergens in them (IFRA's Annex again, and ISO, pharmacopoeia and EMA ranges), with
 * the coverage of each natural. Copied byte for byte from ../shared/regulatory (a test fails when
 * they drift); every row is validated when loaded — a bad cell stops the loader naming the file, the
 * row and the column.
 */

/**
 * How a row's natural relates to the palette's: `exact` (the same natural), `variant` (another grade
 * under the same principal CAS: lemon expressed / distilled, ylang I/II/III — alternatives, never
 * summed) or `related` (another natural sharing the CAS: Cistus for labdanum). A row of the allergen
 * file without `match=` is a range for the natural itself (ISO, pharmacopoeia): `exact`.
 */
export type NaturalMatch = 'exact' | 'variant' | 'related';

export interface NaturalContribution {
  /** The palette natural (its name in materials.csv) and its CAS. */
  readonly natural: string;
  readonly naturalCas: string;
  /** The natural as IFRA's Annex names it (a grade, for a variant), when the note says. */
  readonly annexNatural: string | null;
  readonly substance: string;
  readonly substanceCas: string;
  /** % of the natural, w/w; IFRA does not say whether typical or maximum. */
  readonly levelPct: number;
  readonly match: NaturalMatch;
  /** The IFRA Standard the substance counts towards (IFRA_STD_021…), when the note names it. */
  readonly standardRef: string | null;
  readonly sourceIds: readonly string[];
  readonly note: string;
}

export interface NaturalAllergen {
  readonly natural: string;
  readonly naturalCas: string;
  readonly annexNatural: string | null;
  /** The allergen as the file names it ("Citral (geranial)"), and its CAS numbers (every enantiomer where the source gives none). */
  readonly allergen: string;
  readonly allergenCas: readonly string[];
  /** % of the natural, w/w; null where the source gives none. */
  readonly minPct: number | null;
  readonly maxPct: number | null;
  readonly typicalPct: number | null;
  readonly match: NaturalMatch;
  /** The EU Annex III entry the note names ("entry 70"), when it does. */
  readonly euEntry: string | null;
  readonly sourceIds: readonly string[];
  readonly note: string;
}

export interface NaturalCoverage {
  readonly natural: string;
  readonly naturalCas: string;
  readonly contributionRows: number;
  readonly allergenRows: number;
  readonly allergenRowsNotIfra: number;
  /** The natural is itself an EU Annex III entry (2023/1545 added whole oils). */
  readonly annexIIIEntry: string | null;
  readonly note: string;
}

export interface Naturals {
  readonly contributions: readonly NaturalContribution[];
  readonly allergens: readonly NaturalAllergen[];
  readonly coverage: readonly NaturalCoverage[];
}

const Cas = z.string().refine(isValidCas, 'is not a valid CAS number');
const Pct = z.string().regex(/^\d+(\.\d+)?$/, 'must be a percentage (digits)').transform(Number).refine((v) => v > 0 && v <= 100, 'must be above 0 and at most 100');
const OptionalPct = z.union([z.literal('').transform(() => null), Pct]);
const SourceIds = z.string().regex(/^[A-Z0-9_]+(;[A-Z0-9_]+)*$/, 'must be source ids separated by ;');
const Count = z.string().regex(/^\d+$/, 'must be a whole number').transform(Number);

const ContributionRow = z.object({
  natural_name: z.string().min(1),
  natural_cas: Cas,
  substance: z.string().min(1),
  substance_cas: Cas,
  level_pct: Pct,
  level_kind: z.literal('unspecified', { error: 'must be "unspecified" (IFRA states neither typical nor maximum)' }),
  source_id: SourceIds,
  note: z.string().regex(/match=(exact|variant|related)\b/, 'must say match=exact, variant or related'),
});

const AllergenRow = z.object({
  natural_name: z.string().min(1),
  natural_cas: Cas,
  allergen: z.string().min(1),
  allergen_cas: z.string().refine((cell) => cell.split(' ').every(isValidCas), 'must be CAS numbers separated by spaces'),
  min_pct: OptionalPct,
  max_pct: OptionalPct,
  typical_pct: OptionalPct,
  source_id: SourceIds,
  note: z.string(),
});

const CoverageRow = z.object({
  natural_name: z.string().min(1),
  natural_cas: Cas,
  ifra_annex_rows: Count,
  allergen_rows_total: Count,
  allergen_rows_non_ifra: Count,
  natural_itself_annex_iii_entry: z.string().regex(/^(\d+)?$/, 'must be an Annex III entry number or empty'),
  note: z.string(),
});

const DATA = (file: string) => new URL(`./data/${file}`, import.meta.url);

function rows<S extends z.ZodType>(path: URL | string, schema: S, file: string): Array<z.infer<S>> {
  return readCsv(path).map((record, i) => parseOrThrow(schema, record, `${file} row ${i + 2}`, ErrorCodes.CONFIG));
}

function matchOf(note: string): NaturalMatch {
  return (/match=(exact|variant|related)\b/.exec(note)?.[1] as NaturalMatch | undefined) ?? 'exact';
}

const annexNaturalOf = (note: string) => /NCS '([^']+)'/.exec(note)?.[1] ?? null;

export function loadNaturalContributions(path: URL | string = DATA('ifra-natural-contributions.csv')): NaturalContribution[] {
  return rows(path, ContributionRow, 'ifra-natural-contributions.csv').map((row) => ({
    natural: row.natural_name,
    naturalCas: row.natural_cas,
    annexNatural: annexNaturalOf(row.note),
    substance: row.substance,
    substanceCas: row.substance_cas,
    levelPct: row.level_pct,
    match: matchOf(row.note),
    standardRef: /\b(IFRA_STD_\d+)\b/.exec(row.note)?.[1] ?? null,
    sourceIds: row.source_id.split(';'),
    note: row.note,
  }));
}

export function loadNaturalAllergens(path: URL | string = DATA('natural-allergens.csv')): NaturalAllergen[] {
  return rows(path, AllergenRow, 'natural-allergens.csv').map((row, i) => {
    if (row.min_pct === null && row.max_pct === null && row.typical_pct === null) {
      throw new FaiError(ErrorCodes.CONFIG, `natural-allergens.csv row ${i + 2}: min_pct, max_pct and typical_pct are all empty`, { field: `natural-allergens.csv row ${i + 2}.max_pct` });
    }
    if (row.min_pct !== null && row.max_pct !== null && row.min_pct > row.max_pct) {
      throw new FaiError(ErrorCodes.CONFIG, `natural-allergens.csv row ${i + 2}.min_pct: ${row.min_pct} is above max_pct ${row.max_pct}`, { field: `natural-allergens.csv row ${i + 2}.min_pct` });
    }
    return {
      natural: row.natural_name,
      naturalCas: row.natural_cas,
      annexNatural: annexNaturalOf(row.note),
      allergen: row.allergen,
      allergenCas: row.allergen_cas.split(' '),
      minPct: row.min_pct,
      maxPct: row.max_pct,
      typicalPct: row.typical_pct,
      match: matchOf(row.note),
      euEntry: /\bentry (\d+)\b/.exec(row.note)?.[1] ?? null,
      sourceIds: row.source_id.split(';'),
      note: row.note,
    };
  });
}

export function loadNaturalCoverage(path: URL | string = DATA('natural-coverage.csv')): NaturalCoverage[] {
  return rows(path, CoverageRow, 'natural-coverage.csv').map((row) => ({
    natural: row.natural_name,
    naturalCas: row.natural_cas,
    contributionRows: row.ifra_annex_rows,
    allergenRows: row.allergen_rows_total,
    allergenRowsNotIfra: row.allergen_rows_non_ifra,
    annexIIIEntry: row.natural_itself_annex_iii_entry === '' ? null : row.natural_itself_annex_iii_entry,
    note: row.note,
  }));
}

/**
 * The three files, checked against each other: every natural of the two content files has a
 * coverage row, and each coverage row's counts are the rows the files hold for it. `paletteNames`,
 * when given, are the palette's material names: every natural must be one of them.
 */
export function loadNaturals(
  paths: { contributions?: URL | string; allergens?: URL | string; coverage?: URL | string } = {},
  paletteNames?: ReadonlySet<string>,
): Naturals {
  const contributions = loadNaturalContributions(paths.contributions);
  const allergens = loadNaturalAllergens(paths.allergens);
  const coverage = loadNaturalCoverage(paths.coverage);
  const covered = new Map(coverage.map((c) => [c.natural, c]));
  for (const row of [...contributions, ...allergens]) {
    const entry = covered.get(row.natural);
    if (entry === undefined) throw new FaiError(ErrorCodes.CONFIG, `naturals: "${row.natural}" has content rows but no row in natural-coverage.csv`, { field: 'natural-coverage.csv' });
    if (entry.naturalCas !== row.naturalCas) throw new FaiError(ErrorCodes.CONFIG, `naturals: "${row.natural}" is ${row.naturalCas} in a content file and ${entry.naturalCas} in natural-coverage.csv`, { field: 'natural-coverage.csv' });
  }
  coverage.forEach((entry, i) => {
    const counted = [contributions.filter((r) => r.natural === entry.natural).length, allergens.filter((r) => r.natural === entry.natural).length];
    if (counted[0] !== entry.contributionRows || counted[1] !== entry.allergenRows) {
      throw new FaiError(ErrorCodes.CONFIG, `natural-coverage.csv row ${i + 2}: "${entry.natural}" says ${entry.contributionRows} contribution and ${entry.allergenRows} allergen rows; the files hold ${counted[0]} and ${counted[1]}`, { field: `natural-coverage.csv row ${i + 2}` });
    }
    if (paletteNames !== undefined && !paletteNames.has(entry.natural)) {
      throw new FaiError(ErrorCodes.CONFIG, `natural-coverage.csv row ${i + 2}: "${entry.natural}" is not a material of the palette`, { field: `natural-coverage.csv row ${i + 2}.natural_name` });
    }
  });
  return { contributions, allergens, coverage };
}
