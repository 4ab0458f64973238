import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { parseOrThrow } from '../errors/index.ts';
import { loadPalette } from '../perfumery/index.ts';
import { casNumbersIn } from './cas.ts';
import { loadCategories } from './categories.ts';
import { linkAllergenGroups, loadAllergens } from './allergens-load.ts';
import { DATA, readCsv, slug } from './rows.ts';
import type { CatalogueParts, CategoryLimit, CombinationGroup, IfraStandard, StandardType, UnappliedRule } from './catalogue-types.ts';

/**
 * Loading the regulatory reference data: each CSV read and validated (zod), its rows turned into
 * the catalogue's parts — the IFRA Standards and the rules over them here, the EU allergens in
 * allergens-load.ts. The queries on them are catalogue.ts.
 */
const CATEGORY_COLUMNS: Readonly<Record<string, string>> = {
  cat1: '1',
  cat2: '2',
  cat3: '3',
  cat4: '4',
  cat5a: '5A',
  cat5b: '5B',
  cat5c: '5C',
  cat5d: '5D',
  cat6: '6',
  cat7a: '7A',
  cat7b: '7B',
  cat8: '8',
  cat9: '9',
  cat10a: '10A',
  cat10b: '10B',
  cat11a: '11A',
  cat11b: '11B',
  cat12: '12',
};

const limitCell = z.string().regex(/^(|no restriction|prohibited|\d+(\.\d+)?)$/, {
  error: (issue) => `"${String(issue.input)}" is not a category limit (a number in %, "no restriction", "prohibited", or empty for not sourced)`,
});

const StandardRow = z.object({
  material: z.string().min(1),
  cas: z.string(),
  ifra_standard_type: z.string().regex(/^(prohibition|restriction|specification)(\+(prohibition|restriction|specification))*$/),
  amendment: z.string().regex(/^(\d+)?$/),
  ...Object.fromEntries(Object.keys(CATEGORY_COLUMNS).map((column) => [column, limitCell])),
  notes: z.string(),
  source_id: z.string().min(1),
});

const GroupRow = z
  .object({
    group_id: z.string().regex(/^[a-z0-9_]+$/),
    name: z.string().min(1),
    rule: z.enum(['total', 'share']),
    standards: z.string().min(1),
    limit_from: z.string(),
    note: z.string(),
    source_id: z.string().min(1),
  })
  .refine((row) => (row.rule === 'total') === (row.limit_from !== ''), { message: 'a total rule names limit_from; a share rule does not', path: ['limit_from'] });

const MemberRow = z.object({
  standard_id: z.string().regex(/^[a-z0-9_]+$/),
  cas: z.string().regex(/^\d{2,7}-\d{2}-\d$/),
  name: z.string().min(1),
  source_id: z.string().min(1),
  note: z.string(),
});

const UnappliedRow = z.object({
  rule_id: z.string().regex(/^[a-z0-9_]+$/),
  standards: z.string().min(1),
  text: z.string().min(1),
  source_id: z.string().min(1),
});

function parseLimit(cell: string): CategoryLimit {
  if (cell === '') return { kind: 'not_sourced' };
  if (cell === 'no restriction') return { kind: 'no_restriction' };
  if (cell === 'prohibited') return { kind: 'prohibited' };
  return { kind: 'limit', pct: Number(cell) };
}

/**
 * The part of a Standard's notes that says what the raw material must be: the text after
 * "Specification…:" where the notes have one; otherwise (a Standard that prohibits some grades
 * and restricts others, or a specification worded without that word) the sentences that state
 * a condition. The boilerplate about where the limits were read is left out.
 */
export function specificationText(notes: string, types: ReadonlySet<StandardType>): string | null {
  const mixed = types.has('prohibition') && types.has('restriction');
  if (!types.has('specification') && !mixed) return null;
  const stated = /\bSpecification\b[^:]*:\s*(.*)$/s.exec(notes)?.[1];
  // Sentences about the material, not about the data: a category's own cell (p-BMHCA "should not be used in Categories 1
  // and 6" is its category limit, not a grade) and the EU's status are no specification.
  const sentences = notes.split(/(?<=\.)\s+(?=[A-Z])/).filter((sentence) => !BOILERPLATE.test(sentence) && !CATEGORY_CELL.test(sentence) && !/^EU\b/.test(sentence));
  // A Standard that prohibits a grade keeps that sentence beside the stated specification (styrax: crude gums prohibited).
  const prohibitedGrade = types.has('prohibition') && stated !== undefined ? sentences.filter((sentence) => /prohibit/i.test(sentence) && !/\bSpecification\b/.test(sentence)) : [];
  let text = stated !== undefined ? [...prohibitedGrade, prohibitedGrade.length > 0 ? `Specification: ${stated}` : stated].join(' ') : sentences.filter((sentence) => CONDITION.test(sentence)).join(' ');
  text = text
    .replace(/no category limits[.;]?\s*/i, '')
    .replace(/\s*Category cells left empty.*$/s, '')
    .trim();
  return text === '' ? null : text;
}


const CONDITION = /prohibit|\bonly\b|\bmust\b|\bshould\b|specification/i;
const BOILERPLATE = /IFRA51_OVW_SMX|IFRA51_PDF_BB|cross-check|verify against/i;
const CATEGORY_CELL = /\bCat(egor(y|ies))?\s*\d/i;


export interface CatalogueSources {
  standards?: URL | string;
  allergens?: URL | string;
  /** eu-product-types.csv: the IFRA categories of the EU product types of Annex III maximums. */
  productTypes?: URL | string;
  /** eu-entry-standards.csv: the IFRA Standard each linked EU entry stands for. */
  entryStandards?: URL | string;
  /** eu-label-names.csv: the glossary name of each entry that prescribes no label name. */
  labelNames?: URL | string;
  groups?: URL | string;
  groupMembers?: URL | string;
  unappliedRules?: URL | string;
  categories?: URL | string;
  palette?: URL | string;
}

/** The title of each source id, from the table of data/sources.md (`| ID | title | …`). */
export function loadSourceTitles(path: URL | string = DATA('sources.md')): Map<string, string> {
  const titles = new Map<string, string>();
  for (const row of readFileSync(path, 'utf8').split('\n')) {
    const cells = /^\|\s*([A-Z0-9_]+)\s*\|\s*([^|]+?)\s*\|/.exec(row);
    if (cells !== null) titles.set(cells[1]!, cells[2]!);
  }
  return titles;
}

export function loadStandards(path: URL | string = DATA('ifra-standards.csv')): IfraStandard[] {
  const ids = new Set<string>();
  return readCsv(path).map((record, i) => {
    const row = parseOrThrow(StandardRow, record, `ifra-standards.csv row ${i + 2}`) as z.infer<typeof StandardRow> & Record<string, string>;
    let id = slug(row.material);
    // Two Standards may share a long name prefix; keep ids unique.
    for (let n = 2; ids.has(id); n++) id = `${slug(row.material)}_${n}`;
    ids.add(id);
    const types = new Set(row.ifra_standard_type.split('+') as StandardType[]);
    const limits: Record<string, CategoryLimit> = {};
    for (const [column, category] of Object.entries(CATEGORY_COLUMNS)) limits[category] = parseLimit(row[column] ?? '');
    return {
      id,
      name: row.material,
      cas: casNumbersIn(row.cas),
      types,
      typeList: row.ifra_standard_type.split('+') as StandardType[],
      amendment: row.amendment === '' ? null : Number(row.amendment),
      limits,
      notes: row.notes,
      specification: specificationText(row.notes, types),
      group: false,
      sharedCas: [],
      sourceIds: row.source_id.split(';'),
    };
  });
}

function checkStandardIds(known: ReadonlySet<string>, ids: readonly string[], where: string): void {
  for (const id of ids) if (!known.has(id)) throw new Error(`${where}: no IFRA Standard with id "${id}"`);
}

export function loadGroups(standards: readonly IfraStandard[], path: URL | string = DATA('combination-groups.csv')): CombinationGroup[] {
  const known = new Set(standards.map((s) => s.id));
  return readCsv(path).map((record, i) => {
    const where = `combination-groups.csv row ${i + 2}`;
    const row = parseOrThrow(GroupRow, record, where);
    const standardIds = row.standards.split(';');
    const limitFrom = row.limit_from === '' ? null : row.limit_from;
    checkStandardIds(known, limitFrom === null ? standardIds : [...standardIds, limitFrom], where);
    return { id: row.group_id, name: row.name, rule: row.rule, standardIds, limitFrom, note: row.note, sourceIds: row.source_id.split(';') };
  });
}

/**
 * Members of group Standards that the index lists without CAS numbers (Allyl esters): each
 * row adds a palette CAS to the Standard, so a formula line with it gets the Standard.
 */
export function loadGroupMembers(standards: readonly IfraStandard[], path: URL | string = DATA('group-members.csv')): IfraStandard[] {
  const known = new Set(standards.map((s) => s.id));
  const added = new Map<string, string[]>();
  readCsv(path).forEach((record, i) => {
    const where = `group-members.csv row ${i + 2}`;
    const row = parseOrThrow(MemberRow, record, where);
    checkStandardIds(known, [row.standard_id], where);
    added.set(row.standard_id, [...(added.get(row.standard_id) ?? []), row.cas]);
  });
  return standards.map((standard) => {
    const cas = added.get(standard.id);
    return cas === undefined ? standard : { ...standard, cas: [...new Set([...standard.cas, ...cas])], group: true };
  });
}

export function loadUnappliedRules(standards: readonly IfraStandard[], path: URL | string = DATA('unapplied-rules.csv')): UnappliedRule[] {
  const known = new Set(standards.map((s) => s.id));
  return readCsv(path).map((record, i) => {
    const where = `unapplied-rules.csv row ${i + 2}`;
    const row = parseOrThrow(UnappliedRow, record, where);
    const standardIds = row.standards.split(';');
    checkStandardIds(known, standardIds, where);
    return { id: row.rule_id, standardIds, text: row.text, sourceIds: row.source_id.split(';') };
  });
}

/**
 * Marks the CAS numbers a prohibition shares with a Standard that allows the material: the parts of
 * one IFRA Standard split into rows (Tagetes erecta prohibited, T. patula and T. minuta restricted,
 * both listing 8016-84-0). Only a pure prohibition is marked; the part that allows keeps its rule.
 */
export function markSharedParts(standards: readonly IfraStandard[]): IfraStandard[] {
  return standards.map((standard) => {
    if (!standard.types.has('prohibition') || standard.types.size > 1) return standard;
    const allowing = allowingPartsOf(standards, standard);
    const shared = standard.cas.filter((cas) => allowing.some((other) => other.cas.includes(cas)));
    return shared.length === 0 ? standard : { ...standard, sharedCas: shared };
  });
}

/** The Standards that allow the material under one of `standard`'s CAS numbers (T. patula / minuta for T. erecta's 8016-84-0). */
export function allowingPartsOf(standards: readonly IfraStandard[], standard: IfraStandard): IfraStandard[] {
  return standards.filter((other) => other !== standard && !other.types.has('prohibition') && other.cas.some((cas) => standard.cas.includes(cas)));
}

/** Every part of the catalogue, parsed and validated from the CSV files. */
export function loadCatalogueParts(sources: CatalogueSources = {}): CatalogueParts {
  const standards = markSharedParts(loadGroupMembers(loadStandards(sources.standards), sources.groupMembers));
  return {
    standards,
    allergens: linkAllergenGroups(loadAllergens(sources.allergens, sources.productTypes, undefined, sources.labelNames), standards, sources.entryStandards),
    groups: loadGroups(standards, sources.groups),
    unappliedRules: loadUnappliedRules(standards, sources.unappliedRules),
    categories: loadCategories(sources.categories),
    palette: loadPalette(sources.palette),
  };
}

