import { z } from 'zod';
import { ErrorCodes, FaiError, parseOrThrow } from '../errors/index.ts';
import { isValidCas } from './cas.ts';
import { readCsv, type RegulatoryCatalogue } from './catalogue.ts';
import { readNaturalsSnapshot } from './snapshot.ts';

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

/**
 * What a natural carries of one target (an EU allergen entry, an IFRA Standard), as counted: its
 * conservative share of the natural, the low end of a range, and how it was read.
 */
export interface Share {
  /** % of the natural counted (the conservative reading: a range's maximum, IFRA's figure as a maximum). */
  readonly pct: number;
  /** % of the natural at the low end (a range's minimum where one is given; else `pct`): to say when a threshold falls inside the range. */
  readonly lowPct: number;
  /** How it was read, for the answer: "geranial 41.42 % + neral 30.54 % of Lemongrass oil, East Indian". */
  readonly basis: string;
}

/** An EU allergen a natural carries, as the label counts it. */
export interface AllergenShare extends Share {
  /** The allergen's position in the catalogue's `allergens`. */
  readonly allergenOrdinal: number;
}

/** An IFRA-restricted substance a natural carries, as the check, the certificate and the composer count it. */
export interface StandardShare extends Share {
  /** The Standard's position in the catalogue's `standards`. */
  readonly standardOrdinal: number;
}

const RANK: Record<NaturalMatch, number> = { exact: 0, variant: 1, related: 2 };

/** One row as the rule reads it, whichever file it comes from. */
interface Reading {
  readonly natural: string;
  readonly annexNatural: string | null;
  readonly match: NaturalMatch;
  /** One key per substance (its CAS numbers): rows of one substance are alternatives. */
  readonly substance: string;
  /** A part of the target (geranial of citral) rather than the target as a whole. */
  readonly part: boolean;
  readonly value: number;
  readonly low: number;
  /** "neral 30.54 %". */
  readonly text: string;
}

const round6 = (v: number) => Math.round(v * 1e6) / 1e6;

/**
 * The one rule both files are read by, for one natural and one target. The rows that name the
 * natural itself (`exact`; a pharmacopoeia or ISO range names it too), else its grades (`variant`:
 * alternatives, never summed — the highest counts), else a related natural (`related`, said so).
 * Among those, each substance's highest conservative figure. The parts of a target are summed
 * (geranial + neral = citral; alpha + beta cedrene); a row for the whole target ("Citral") and rows
 * for its parts are two readings of one content, never added: the larger counts.
 */
function shareOf(all: readonly Reading[], natural: string): Share {
  const rank = Math.min(...all.map((row) => RANK[row.match]));
  const kept = all.filter((row) => RANK[row.match] === rank);
  const highest = (candidates: readonly Reading[]) => candidates.reduce((a, b) => (b.value > a.value ? b : a));
  const bySubstance = new Map<string, Reading[]>();
  for (const row of kept.filter((r) => r.part)) bySubstance.set(row.substance, [...(bySubstance.get(row.substance) ?? []), row]);
  const parts = [...bySubstance.values()].map(highest);
  const wholes = kept.filter((row) => !row.part);
  const whole = wholes.length === 0 ? null : highest(wholes);
  const partsPct = parts.reduce((sum, row) => sum + row.value, 0);
  const chosen = whole !== null && whole.value >= partsPct ? [whole] : parts;
  const where = (row: Reading) =>
    row.match === 'exact' ? '' : row.match === 'variant' ? ` (highest grade: ${row.annexNatural ?? 'a variant'})` : ` (related natural: ${row.annexNatural ?? 'another natural'}, for lack of a row for this one)`;
  return {
    pct: round6(chosen.reduce((sum, row) => sum + row.value, 0)),
    lowPct: round6(chosen.reduce((sum, row) => sum + row.low, 0)),
    basis: `${chosen.map((row) => `${row.text}${where(row)}`).join(' + ')} of ${natural}`,
  };
}

/** Groups readings by natural, then by target ordinal, and applies the rule to each group. */
function sharesByNatural<T>(readings: ReadonlyArray<{ reading: Reading; ordinals: Iterable<number> }>, make: (ordinal: number, share: Share) => T): Map<string, T[]> {
  const buckets = new Map<string, Map<number, Reading[]>>();
  for (const { reading, ordinals } of readings) {
    const byOrdinal = buckets.get(reading.natural) ?? new Map<number, Reading[]>();
    buckets.set(reading.natural, byOrdinal);
    for (const ordinal of ordinals) byOrdinal.set(ordinal, [...(byOrdinal.get(ordinal) ?? []), reading]);
  }
  const out = new Map<string, T[]>();
  for (const [natural, byOrdinal] of buckets) out.set(natural, [...byOrdinal].map(([ordinal, rows]) => make(ordinal, shareOf(rows, natural))));
  return out;
}

function allergenText(row: NaturalAllergen): string {
  const substance = row.allergen.replace(/^.*\(([^)]+)\)$/, '$1');
  if (row.minPct !== null && row.maxPct !== null) return `${substance} ${row.minPct}–${row.maxPct} %`;
  if (row.maxPct !== null) return `${substance} ${row.maxPct} %`;
  if (row.typicalPct !== null) return `${substance} typically ${row.typicalPct} %`;
  return `${substance} at least ${row.minPct} %`;
}

/**
 * Per palette natural, the EU allergens it carries and how much, by the rule of `shareOf` (a row
 * named "Citral (geranial)" is a part of its entry). The conservative figure of a row: a range's
 * maximum, IFRA's figure as a maximum, a typical value, else a minimum. `ordinalsOf` maps a CAS
 * number to the catalogue's allergen ordinals, `ordinalOfEntry` an Annex III entry number (for a
 * substance the EU row does not list by CAS: trans,trans-farnesol under entry 82).
 */
export function allergenShares(rows: readonly NaturalAllergen[], ordinalsOf: (cas: string) => readonly number[], ordinalOfEntry: (entry: string) => number | undefined = () => undefined): Map<string, AllergenShare[]> {
  const readings = rows.map((row) => {
    const value = row.maxPct ?? row.typicalPct ?? row.minPct!;
    let ordinals = new Set(row.allergenCas.flatMap((cas) => ordinalsOf(cas)));
    const byEntry = row.euEntry === null ? undefined : ordinalOfEntry(row.euEntry);
    if (ordinals.size === 0 && byEntry !== undefined) ordinals = new Set([byEntry]);
    const reading: Reading = {
      natural: row.natural,
      annexNatural: row.annexNatural,
      match: row.match,
      substance: row.allergenCas.join(' '),
      part: /\(.+\)$/.test(row.allergen),
      value,
      low: row.minPct ?? value,
      text: allergenText(row),
    };
    return { reading, ordinals };
  });
  return sharesByNatural(readings, (allergenOrdinal, share) => ({ allergenOrdinal, ...share }));
}

/** What the IFRA Annex gives for one natural: the Standards it counts towards, and rows that map to none. */
export interface StandardContents {
  readonly shares: readonly StandardShare[];
  /** Rows whose substance no Standard covers ("Benzyl trans-cinnamate": IFRA gives none): said in the answer, never counted. */
  readonly unmapped: readonly string[];
}

/**
 * Per palette natural, the IFRA-restricted substances it carries, by the rule of `shareOf`: a row
 * counts towards every Standard its substance's CAS number belongs to, else the Standard IFRA's
 * Annex names (`IFRA_STD_036`: trans,trans-farnesol counts as Farnesol). A row is the whole target
 * when its substance is the Standard's own name ("Citral"), a part otherwise (geranial, neral).
 * IFRA's figure is read as a maximum. `ordinalsOf` maps a CAS number to Standard ordinals,
 * `ordinalOfRef` IFRA's Standard number, `nameOf` a Standard ordinal to its name.
 */
export function standardShares(
  rows: readonly NaturalContribution[],
  ordinalsOf: (cas: string) => readonly number[],
  ordinalOfRef: (ref: string) => number | undefined,
  nameOf: (ordinal: number) => string,
): Map<string, StandardContents> {
  const unmapped = new Map<string, string[]>();
  const readings: Array<{ reading: Reading; ordinals: readonly number[] }> = [];
  for (const row of rows) {
    let ordinals = ordinalsOf(row.substanceCas);
    const byRef = row.standardRef === null ? undefined : ordinalOfRef(row.standardRef);
    if (ordinals.length === 0 && byRef !== undefined) ordinals = [byRef];
    const text = `${row.substance.charAt(0).toLowerCase()}${row.substance.slice(1)} ${row.levelPct} %`;
    if (ordinals.length === 0) {
      unmapped.set(row.natural, [...(unmapped.get(row.natural) ?? []), `${text} (${row.substanceCas}: no IFRA Standard)`]);
      continue;
    }
    for (const ordinal of ordinals) {
      const reading: Reading = {
        natural: row.natural,
        annexNatural: row.annexNatural,
        match: row.match,
        substance: row.substanceCas,
        part: row.substance.toLowerCase() !== nameOf(ordinal).toLowerCase(),
        value: row.levelPct,
        low: row.levelPct,
        text,
      };
      readings.push({ reading, ordinals: [ordinal] });
    }
  }
  const shares = sharesByNatural(readings, (standardOrdinal, share) => ({ standardOrdinal, ...share }));
  const out = new Map<string, StandardContents>();
  for (const natural of new Set([...shares.keys(), ...unmapped.keys()])) out.set(natural, { shares: shares.get(natural) ?? [], unmapped: unmapped.get(natural) ?? [] });
  return out;
}

/** The gap a natural IFRA's Annex has no row for leaves, in the check's and the certificate's words alike. */
export function constituentsNotSourced(natural: string): string {
  return `IFRA-restricted constituents of ${natural} (no row in IFRA's Annex on natural contributions: constituents not sourced)`;
}

/** What one palette natural carries, as the check, the certificate, the label and the composer count it. */
export interface NaturalContents {
  /** IFRA-restricted substances (IFRA's Annex); undefined when the Annex has no row for the natural: constituents not sourced. */
  readonly standards: StandardContents | undefined;
  /** EU labelling allergens (natural-allergens.csv); undefined when none is sourced. */
  readonly allergens: readonly AllergenShare[] | undefined;
}

const NOTHING_SOURCED: NaturalContents = Object.freeze({ standards: undefined, allergens: undefined });
const contentsByCatalogue = new WeakMap<RegulatoryCatalogue, Map<string, NaturalContents>>();

/**
 * The contents of palette natural `natural` against `catalogue`'s Standards and allergens: the one
 * place that reads the naturals files for the rest of the code. Read on first use and kept per
 * catalogue.
 */
export function naturalContents(catalogue: RegulatoryCatalogue, natural: string): NaturalContents {
  let contents = contentsByCatalogue.get(catalogue);
  if (contents === undefined) {
    // The snapshot make build wrote, while the files are the ones it was written from; else the files.
    const naturals = readNaturalsSnapshot<Naturals>() ?? loadNaturals();
    const labelled = (ordinal: number) => catalogue.allergens[ordinal]!.annex === 'annex_iii';
    const byEntry = new Map<string, number>();
    catalogue.allergens.forEach((allergen, ordinal) => {
      if (allergen.entry !== null && labelled(ordinal)) byEntry.set(allergen.entry, ordinal);
    });
    const byRef = new Map<string, number>();
    catalogue.standards.forEach((standard, ordinal) => {
      const ref = /^(IFRA_STD_\d+)\b/.exec(standard.notes)?.[1];
      if (ref !== undefined && !byRef.has(ref)) byRef.set(ref, ordinal);
    });
    const standards = standardShares(
      naturals.contributions,
      (cas) => catalogue.resolve(cas)?.standardOrdinals ?? [],
      (ref) => byRef.get(ref),
      (ordinal) => catalogue.standards[ordinal]!.name,
    );
    const allergens = allergenShares(
      naturals.allergens,
      (cas) => (catalogue.resolve(cas)?.allergenOrdinals ?? []).filter(labelled),
      (entry) => byEntry.get(entry),
    );
    contents = new Map();
    for (const name of new Set([...standards.keys(), ...allergens.keys()])) contents.set(name, { standards: standards.get(name), allergens: allergens.get(name) });
    contentsByCatalogue.set(catalogue, contents);
  }
  return contents.get(natural) ?? NOTHING_SOURCED;
}
