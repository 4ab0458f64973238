import type { RegulatoryCatalogue } from './catalogue.ts';
import { loadNaturals, type NaturalAllergen, type NaturalContribution, type NaturalMatch, type Naturals } from './naturals-load.ts';
import { readNaturalsSnapshot } from './snapshot.ts';

/**
 * How the naturals' sourced contents (naturals-load.ts) are counted: the share of the natural each
 * EU allergen and IFRA-restricted substance takes, read conservatively, and each natural's contents
 * as the check, the certificate and the composer use them.
 */

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
