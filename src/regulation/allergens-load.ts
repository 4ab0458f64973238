import { z } from 'zod';
import { ErrorCodes, FaiError, parseOrThrow } from '../errors/index.ts';
import { casNumbersIn } from './cas.ts';
import { CATEGORY_USE_CSV, loadCategoryUse } from './categories.ts';
import type { EuAllergen, EuMaximum, IfraStandard } from './catalogue-types.ts';
import { DATA, readCsv, slug } from './rows.ts';

/**
 * Loading the EU allergens (eu-allergens.csv, with our eu-product-types.csv, eu-label-names.csv and
 * eu-entry-standards.csv): each row validated, the rows of one Annex entry made one allergen with
 * its label name, thresholds, Annex III maximums and the IFRA Standard it stands for.
 */
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

