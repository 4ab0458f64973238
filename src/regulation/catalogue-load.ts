import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { z } from 'zod';
import { ErrorCodes, FaiError, parseOrThrow } from '../errors/index.ts';
import { loadPalette } from '../perfumery/index.ts';
import { casNumbersIn } from './cas.ts';
import { CATEGORY_USE_CSV, loadCategories, loadCategoryUse } from './categories.ts';
import type { CatalogueParts, CategoryLimit, CombinationGroup, EuAllergen, EuMaximum, IfraStandard, StandardType, UnappliedRule } from './catalogue-types.ts';

/**
 * Loading the regulatory reference data: each CSV read and validated (zod), its rows turned into
 * the catalogue's parts. The queries on them are catalogue.ts.
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

const AllergenRow = z.object({
  name: z.string().min(1),
  inci_name: z.string(),
  cas: z.string(),
  annex_iii_entry: z.string(),
  regulation: z.string().min(1),
  leave_on_threshold_pct: z.string().regex(/^(\d+(\.\d+)?)?$/),
  rinse_off_threshold_pct: z.string().regex(/^(\d+(\.\d+)?)?$/),
  eu_status_note: z.string(),
  source_id: z.string().min(1),
  max_pct_finished_product: z.string().regex(/^(\d+(\.\d+)?)?$/, 'must be a percentage or empty'),
  max_pct_by_product: z.string().regex(/^([^=;]+=\d+(\.\d+)?(;[^=;]+=\d+(\.\d+)?)*)?$/, 'must be "product words=percentage" separated by ;'),
  max_conditions: z.string(),
});

const ProductTypeRow = z.object({
  eu_products: z.string().min(1),
  ifra_categories: z.string().regex(/^[0-9A-Z]+( [0-9A-Z]+)*$/, 'must be IFRA categories separated by spaces'),
  note: z.string(),
});


/** EU product words (as eu-allergens.csv writes them) → the IFRA categories they fall in (eu-product-types.csv, our mapping). */
export function loadProductTypes(path: URL | string = DATA('eu-product-types.csv')): Map<string, readonly string[]> {
  const types = new Map<string, readonly string[]>();
  readCsv(path).forEach((record, i) => {
    const row = parseOrThrow(ProductTypeRow, record, `eu-product-types.csv row ${i + 2}`, ErrorCodes.CONFIG);
    types.set(row.eu_products, row.ifra_categories.split(' '));
  });
  return types;
}

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

const DATA = (file: string) => new URL(`./data/${file}`, import.meta.url);

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

export function loadAllergens(
  path: URL | string = DATA('eu-allergens.csv'),
  productTypesPath: URL | string = DATA('eu-product-types.csv'),
  categoryUsePath: URL | string = CATEGORY_USE_CSV,
  labelNamesPath: URL | string = DATA('eu-label-names.csv'),
): EuAllergen[] {
  const productTypes = loadProductTypes(productTypesPath);
  const glossaryNames = loadLabelNames(labelNamesPath);
  // An Annex III maximum "in the finished product" applies to every cosmetic category (category-exposure.csv), not to 10A–12.
  const cosmetic = [...loadCategoryUse(categoryUsePath)].filter(([, { use }]) => use !== 'not_cosmetic').map(([category]) => category);
  // One row per (entry, CAS): rows of one Annex entry are one allergen, labelled under one name.
  const groups = new Map<string, Array<z.infer<typeof AllergenRow>>>();
  readCsv(path).forEach((record, i) => {
    const row = parseOrThrow(AllergenRow, record, `eu-allergens.csv row ${i + 2}`);
    const annexII = /Annex II entry (\d+)/.exec(row.eu_status_note)?.[1];
    const key = row.annex_iii_entry !== '' ? `III-${row.annex_iii_entry}` : annexII !== undefined ? `II-${annexII}` : `CAS-${row.cas}`;
    groups.set(key, [...(groups.get(key) ?? []), row]);
  });
  for (const [entry, { where }] of glossaryNames) {
    const rows = groups.get(`III-${entry}`);
    if (rows === undefined) throw new FaiError(ErrorCodes.CONFIG, `${where}: eu-allergens.csv has no Annex III entry ${entry}`, { field: where });
    // The EU file's own name wins; a glossary name beside it would be a second answer to one question.
    if (rows.some((r) => r.inci_name !== '')) throw new FaiError(ErrorCodes.CONFIG, `${where}: entry ${entry} already has a label name in eu-allergens.csv (inci_name)`, { field: where });
  }
  const ids = new Set<string>();
  return [...groups.entries()].map(([key, rows]) => {
    const first = rows[0]!;
    const glossary = key.startsWith('III-') ? glossaryNames.get(key.slice(4)) : undefined;
    const inci = rows.find((r) => r.inci_name !== '')?.inci_name ?? glossary?.name;
    const labelName = inci ?? first.name;
    let id = slug(labelName);
    for (let n = 2; ids.has(id); n++) id = `${slug(labelName)}_${n}`;
    ids.add(id);
    const threshold = (cell: string) => (cell === '' ? null : Number(cell));
    return {
      id,
      entry: key.startsWith('CAS-') ? null : key.slice(key.indexOf('-') + 1),
      labelName,
      labelNameSourced: inci !== undefined,
      names: [...new Set([...rows.flatMap((r) => [r.name, r.inci_name]), glossary?.name ?? ''].filter((n) => n !== ''))],
      cas: [...new Set(rows.flatMap((r) => casNumbersIn(r.cas)))],
      groupCas: [],
      annex: key.startsWith('II-') ? 'annex_ii' : 'annex_iii',
      regulation: first.regulation,
      leaveOnThresholdPct: threshold(first.leave_on_threshold_pct),
      rinseOffThresholdPct: threshold(first.rinse_off_threshold_pct),
      maximums: maximumsOf(rows, productTypes, cosmetic, key),
      maxConditions: [...new Set(rows.map((r) => r.max_conditions).filter((c) => c !== ''))],
      notes: [...new Set(rows.map((r) => r.eu_status_note).filter((n) => n !== ''))],
      sourceIds: [...new Set([...rows.flatMap((r) => r.source_id.split(';')), ...(glossary?.sourceIds ?? [])])],
    };
  });
}

const LabelNameRow = z.object({
  annex_iii_entry: z.string().regex(/^\d+$/, 'must be an Annex III entry number'),
  label_name: z.string().min(1, 'must be the entry\'s glossary name'),
  source_id: z.string().min(1),
  note: z.string().min(1, 'must say where the name comes from'),
});

/**
 * eu-label-names.csv (ours, each name sourced): the label name of an Annex III entry that
 * prescribes none ("the presence of the substance shall be indicated in the list of ingredients")
 * is the ingredient's Common Ingredients Glossary name. Only entries with exactly one glossary name
 * have a row; the others keep the chemical name and a gap saying so.
 */
function loadLabelNames(path: URL | string): Map<string, { name: string; sourceIds: string[]; where: string }> {
  const names = new Map<string, { name: string; sourceIds: string[]; where: string }>();
  readCsv(path).forEach((record, i) => {
    const where = `eu-label-names.csv row ${i + 2}`;
    const row = parseOrThrow(LabelNameRow, record, where, ErrorCodes.CONFIG);
    if (names.has(row.annex_iii_entry)) throw new FaiError(ErrorCodes.CONFIG, `${where}: entry ${row.annex_iii_entry} is named twice`, { field: where });
    names.set(row.annex_iii_entry, { name: row.label_name, sourceIds: row.source_id.split(';'), where });
  });
  return names;
}

/**
 * The maximums an entry's rows state, each product type once (the lowest where rows disagree). A
 * product type eu-product-types.csv does not map stops the loader: an unmapped maximum would be a
 * limit silently not applied.
 */
function maximumsOf(rows: ReadonlyArray<z.infer<typeof AllergenRow>>, productTypes: ReadonlyMap<string, readonly string[]>, cosmetic: readonly string[], key: string): EuMaximum[] {
  const byProducts = new Map<string, EuMaximum>();
  const offer = (products: string, pct: number, categories: readonly string[]) => {
    const known = byProducts.get(products);
    if (known === undefined || pct < known.pct) byProducts.set(products, { products, pct, categories });
  };
  for (const row of rows) {
    if (row.max_pct_finished_product !== '') offer('all cosmetic products', Number(row.max_pct_finished_product), cosmetic);
    if (row.max_pct_by_product === '') continue;
    for (const part of row.max_pct_by_product.split(';')) {
      const at = part.lastIndexOf('=');
      const products = part.slice(0, at);
      const categories = productTypes.get(products);
      if (categories === undefined) throw new FaiError(ErrorCodes.CONFIG, `eu-allergens.csv (${key}): product type "${products}" is not in eu-product-types.csv`, { field: 'eu-allergens.csv.max_pct_by_product' });
      offer(products, Number(part.slice(at + 1)), categories);
    }
  }
  return [...byProducts.values()];
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

const EntryStandardRow = z.object({
  annex_iii_entry: z.string().regex(/^\d+$/, 'must be an Annex III entry number'),
  standard_id: z.string().regex(/^[a-z0-9_]+$/, 'must be a Standard id'),
  note: z.string().min(1, 'must say why the entry stands for the Standard'),
});

/**
 * Links each EU entry to the IFRA Standard it stands for (eu-entry-standards.csv, ours): the
 * allergen gains the Standard's other CAS numbers (`groupCas`). A link whose entry or Standard is
 * missing, or that shares no CAS number, stops the loader.
 */
export function linkAllergenGroups(allergens: readonly EuAllergen[], standards: readonly IfraStandard[], path: URL | string = DATA('eu-entry-standards.csv')): EuAllergen[] {
  const extra = new Map<EuAllergen, string[]>();
  readCsv(path).forEach((record, i) => {
    const where = `eu-entry-standards.csv row ${i + 2}`;
    const row = parseOrThrow(EntryStandardRow, record, where, ErrorCodes.CONFIG);
    const allergen = allergens.find((a) => a.annex === 'annex_iii' && a.entry === row.annex_iii_entry);
    const standard = standards.find((s) => s.id === row.standard_id);
    if (allergen === undefined || standard === undefined) throw new FaiError(ErrorCodes.CONFIG, `${where}: no Annex III entry ${row.annex_iii_entry} or no IFRA Standard "${row.standard_id}"`, { field: where });
    if (!standard.cas.some((cas) => allergen.cas.includes(cas))) throw new FaiError(ErrorCodes.CONFIG, `${where}: entry ${row.annex_iii_entry} and ${standard.id} share no CAS number`, { field: where });
    extra.set(allergen, [...(extra.get(allergen) ?? []), ...standard.cas.filter((cas) => !allergen.cas.includes(cas))]);
  });
  return allergens.map((allergen) => (extra.has(allergen) ? { ...allergen, groupCas: [...new Set(extra.get(allergen))] } : allergen));
}

/**
 * Marks the CAS numbers a prohibition shares with a Standard that allows the material: the parts of
 * one IFRA Standard split into rows (Tagetes erecta prohibited, T. patula and T. minuta restricted,
 * both listing 8016-84-0). Only a pure prohibition is marked; the part that allows keeps its rule.
 */
export function markSharedParts(standards: readonly IfraStandard[]): IfraStandard[] {
  return standards.map((standard) => {
    if (!standard.types.has('prohibition') || standard.types.size > 1) return standard;
    const shared = standard.cas.filter((cas) => standards.some((other) => other !== standard && !other.types.has('prohibition') && other.cas.includes(cas)));
    return shared.length === 0 ? standard : { ...standard, sharedCas: shared };
  });
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

