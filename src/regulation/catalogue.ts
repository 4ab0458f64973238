import type { PaletteMaterial } from '../perfumery/index.ts';
import { isValidCas } from './cas.ts';
import type { ProductCategory } from './categories.ts';
import type { CombinationGroup, EuAllergen, EuMaximum, IfraStandard, ResolvedMaterial, UnappliedRule } from './catalogue-types.ts';
import { loadCatalogueParts, type CatalogueSources } from './catalogue-load.ts';
import { normalizeName } from './rows.ts';
import { readCatalogueSnapshot } from './snapshot.ts';

export type { CatalogueParts, CategoryLimit, CombinationGroup, EuAllergen, EuMaximum, IfraStandard, ResolvedMaterial, StandardType, UnappliedRule } from './catalogue-types.ts';
export { allowingPartsOf, type CatalogueSources, loadCatalogueParts, loadGroupMembers, loadGroups, loadSourceTitles, loadStandards, loadUnappliedRules, specificationText } from './catalogue-load.ts';
export { linkAllergenGroups, loadAllergens, loadProductTypes } from './allergens-load.ts';
export { normalizeName, readCsv, slug } from './rows.ts';

interface NameTarget {
  cas?: string;
  standard?: IfraStandard;
  allergen?: EuAllergen;
}

function hasSourcedLimits(standard: IfraStandard): boolean {
  for (const category in standard.limits) if (standard.limits[category]!.kind !== 'not_sourced') return true;
  return false;
}

/**
 * How a Standard's prohibition reads — the one rule the check, the certificate and the composer
 * share:
 * - `prohibited` when it prohibits the material (a prohibition alone);
 * - `grade` when it prohibits a grade and its specification (sourced) says which grade is allowed
 *   (crude cade oil, birch pyrolysates, styrax gums): a line passes its prohibition when it declares
 *   the specified grade (`specificationMet`), and is `unknown` when it does not — never a bare
 *   "prohibited"; the Standard's restriction limits, if any, then apply;
 * - `specification_not_sourced` for a prohibition + specification whose specification the data does
 *   not hold (toluene, benzene, pseudoionone …): which grade is allowed cannot be said, so unknown;
 * - `limits_not_sourced` when it prohibits some grades and restricts others and none of its limits is
 *   sourced (nothing can be said);
 * - null when it prohibits nothing, or prohibits some grades and restricts others by sourced limits
 *   without a specification Standard (Peru balsam crude, verbena oil) — the limits then apply and the
 *   prohibited grade is a specification the raw material's certificate must show.
 */
export function prohibitionOf(standard: IfraStandard): 'prohibited' | 'grade' | 'specification_not_sourced' | 'limits_not_sourced' | null {
  if (!standard.types.has('prohibition')) return null;
  if (standard.types.has('specification')) {
    if (standard.specification === null) return 'specification_not_sourced';
    return standard.types.has('restriction') && !hasSourcedLimits(standard) ? 'limits_not_sourced' : 'grade';
  }
  if (!standard.types.has('restriction')) return 'prohibited';
  return hasSourcedLimits(standard) ? null : 'limits_not_sourced';
}

/**
 * A CAS that IFRA lists under several parts of one Standard does not tell the part: the line is named
 * by what the parts' names share ("Tagetes oil and absolute"), not by the first part's.
 */
function commonName(standards: readonly IfraStandard[]): string {
  let prefix = standards[0]!.name;
  for (const standard of standards) while (!standard.name.startsWith(prefix)) prefix = prefix.slice(0, -1);
  const trimmed = prefix.replace(/\s*\([^)]*$/, '').trim();
  return trimmed === '' ? standards[0]!.name : trimmed;
}

/**
 * The conditions on an allergen's Annex III maximums the check cannot judge from a formula, as gaps:
 * MHC with methyl octine carbonate, children under 6. A condition that the entry's substances are
 * summed is what the check does (one entry, one total), so it is no gap.
 */
export function euConditionGaps(allergen: EuAllergen): string[] {
  return allergen.maxConditions
    .filter((condition) => !/^The sum of those substances/i.test(condition))
    .map((condition) => `EU Annex III entry ${allergen.entry} (${allergen.labelName}) condition, not judged from the formula: ${condition}`);
}

/** The Annex III maximum that applies to `allergen` in IFRA category `category`: the lowest of the product types the category may hold; null where none does. */
export function euMaximumIn(allergen: EuAllergen, category: string): EuMaximum | null {
  let lowest: EuMaximum | null = null;
  for (const maximum of allergen.maximums) if (maximum.categories.includes(category) && (lowest === null || maximum.pct < lowest.pct)) lowest = maximum;
  return lowest;
}

/**
 * The regulatory reference data, loaded once and indexed by CAS and by name so
 * a check costs the same whatever the size of the catalogue.
 *
 * Sources: data/ifra-standards.csv, data/eu-allergens.csv,
 * data/ifra-categories.csv and data/combination-groups.csv, each row with its
 * source ids (data/sources.md). An empty value there is *not sourced*: it
 * becomes `not_sourced` / `null` here and the check reports it as unknown,
 * never as allowed.
 */
export class RegulatoryCatalogue {
  readonly standards: readonly IfraStandard[];
  readonly allergens: readonly EuAllergen[];
  readonly groups: readonly CombinationGroup[];
  readonly unappliedRules: readonly UnappliedRule[];
  /** The newest amendment of any Standard in the data: the amendment the limits are in force under. */
  readonly latestAmendment: number;
  readonly categories: readonly ProductCategory[];
  readonly palette: readonly PaletteMaterial[];
  private readonly unappliedByStandard = new Map<string, UnappliedRule[]>();
  private readonly standardsById = new Map<string, IfraStandard>();
  /** Each Standard's position in `standards` (ResolvedMaterial.standardOrdinals). */
  private readonly ordinalByStandard = new Map<IfraStandard, number>();
  private readonly standardsByCas = new Map<string, IfraStandard[]>();
  private readonly allergensByCas = new Map<string, EuAllergen[]>();
  private readonly paletteByCas = new Map<string, PaletteMaterial>();
  private readonly byName = new Map<string, NameTarget>();
  private readonly groupsByStandard = new Map<string, CombinationGroup[]>();
  private readonly categoriesById = new Map<string, ProductCategory>();

  constructor(parts: {
    standards: readonly IfraStandard[];
    allergens: readonly EuAllergen[];
    groups: readonly CombinationGroup[];
    unappliedRules?: readonly UnappliedRule[];
    categories: readonly ProductCategory[];
    palette: readonly PaletteMaterial[];
  }) {
    this.standards = parts.standards;
    this.allergens = parts.allergens;
    this.groups = parts.groups;
    this.unappliedRules = parts.unappliedRules ?? [];
    this.latestAmendment = this.standards.reduce((latest, s) => Math.max(latest, s.amendment ?? 0), 0);
    this.categories = parts.categories;
    this.palette = parts.palette;
    const push = <T>(map: Map<string, T[]>, key: string, value: T) => {
      const list = map.get(key);
      if (list === undefined) map.set(key, [value]);
      else if (!list.includes(value)) list.push(value);
    };
    for (const standard of this.standards) for (const cas of standard.cas) push(this.standardsByCas, cas, standard);
    for (const allergen of this.allergens) for (const cas of [...allergen.cas, ...allergen.groupCas]) push(this.allergensByCas, cas, allergen);
    for (const group of this.groups) for (const id of group.standardIds) push(this.groupsByStandard, id, group);
    for (const rule of this.unappliedRules) for (const id of rule.standardIds) push(this.unappliedByStandard, id, rule);
    this.standards.forEach((standard, i) => {
      this.standardsById.set(standard.id, standard);
      this.ordinalByStandard.set(standard, i);
    });
    for (const category of this.categories) this.categoriesById.set(category.id, category);
    // Names, most specific first: a palette name or an allergen row name means one CAS; a Standard's name may mean several.
    const name = (text: string, target: NameTarget) => {
      const key = normalizeName(text);
      if (!this.spelledNames.has(text)) this.spelledNames.set(text, key);
      if (key !== '' && !this.byName.has(key)) this.byName.set(key, target);
    };
    for (const material of this.palette) {
      this.paletteByCas.set(material.cas, material);
      name(material.name, { cas: material.cas });
      name(material.ifraPrincipalName, { cas: material.cas });
    }
    for (const allergen of this.allergens) {
      for (const allergenName of allergen.names) name(allergenName, allergen.cas.length === 1 ? { cas: allergen.cas[0]! } : { allergen });
    }
    for (const standard of this.standards) name(standard.name, standard.cas.length === 1 && !standard.group ? { cas: standard.cas[0]! } : { standard });
    this.buildResolutions();
  }

  /** The catalogue of the shipped data (from its snapshot when the build wrote one), or of the files `sources` names. */
  static load(sources: CatalogueSources = {}): RegulatoryCatalogue {
    const snapshot = Object.keys(sources).length === 0 ? readCatalogueSnapshot() : null;
    return new RegulatoryCatalogue(snapshot ?? loadCatalogueParts(sources));
  }

  category(id: string): ProductCategory | undefined {
    return this.categoriesById.get(id);
  }

  /** A Standard's position in `standards`: what the check indexes its tables by. */
  standardOrdinal(standard: IfraStandard): number {
    return this.ordinalByStandard.get(standard)!;
  }

  /** A sum rule's member Standards, in the group's order (resolved on the group's first use, then kept). */
  groupMembers(group: CombinationGroup): readonly IfraStandard[] {
    let members = this.membersByGroup.get(group);
    if (members === undefined) {
      members = [];
      for (const id of group.standardIds) {
        const standard = this.standardsById.get(id);
        if (standard !== undefined) members.push(standard);
      }
      this.membersByGroup.set(group, members);
    }
    return members;
  }

  private readonly membersByGroup = new Map<CombinationGroup, IfraStandard[]>();

  groupsOf(standard: IfraStandard): readonly CombinationGroup[] {
    return this.groupsByStandard.get(standard.id) ?? [];
  }

  standardById(id: string): IfraStandard | undefined {
    return this.standardsById.get(id);
  }

  /** Rules of the notes that concern this Standard and cannot be applied from the data. */
  unappliedRulesOf(standard: IfraStandard): readonly UnappliedRule[] {
    return this.unappliedByStandard.get(standard.id) ?? [];
  }

  /**
   * Resolves a CAS number or a name; null when none of the data knows it.
   * One map lookup: every answer is built once, when the catalogue is.
   */
  resolve(text: string): ResolvedMaterial | null {
    // Names and CAS numbers written exactly as the data writes them (the common case) need no normalising.
    const exact = this.resolvedByExactText.get(text);
    if (exact !== undefined) return exact;
    const trimmed = text.trim();
    if (isValidCas(trimmed)) return this.resolvedByCas.get(trimmed) ?? null;
    return this.resolvedByName.get(normalizeName(trimmed)) ?? null;
  }

  /** How many distinct keys resolutions have: ResolvedMaterial.keyOrdinal is below it. */
  keyCount = 0;

  private readonly resolvedByExactText = new Map<string, ResolvedMaterial>();
  private readonly resolvedByCas = new Map<string, ResolvedMaterial>();
  private readonly resolvedByName = new Map<string, ResolvedMaterial>();

  private buildResolutions(): void {
    const allergenOrdinal = new Map(this.allergens.map((allergen, i) => [allergen, i]));
    const standardOrdinals = (standards: readonly IfraStandard[]) => standards.map((standard) => this.standardOrdinal(standard));
    const allergenOrdinals = (allergens: readonly EuAllergen[]) => allergens.map((allergen) => allergenOrdinal.get(allergen)!);
    const keyOrdinals = new Map<string, number>();
    const keyOrdinal = (key: string) => {
      let ordinal = keyOrdinals.get(key);
      if (ordinal === undefined) keyOrdinals.set(key, (ordinal = keyOrdinals.size));
      return ordinal;
    };
    const known = new Set([...this.standardsByCas.keys(), ...this.allergensByCas.keys(), ...this.paletteByCas.keys()]);
    for (const cas of known) {
      const standards = this.standardsByCas.get(cas) ?? [];
      const allergens = this.allergensByCas.get(cas) ?? [];
      const palette = this.paletteByCas.get(cas) ?? null;
      const name = palette?.name ?? allergens[0]?.labelName ?? (standards.length > 1 && standards[0]!.sharedCas.includes(cas) ? commonName(standards) : standards[0]!.name);
      this.resolvedByCas.set(cas, { key: cas, keyOrdinal: keyOrdinal(cas), name, cas, standards, allergens, palette, natural: palette?.natural ?? false, standardOrdinals: standardOrdinals(standards), allergenOrdinals: allergenOrdinals(allergens) });
    }
    for (const [name, target] of this.byName) {
      let resolved: ResolvedMaterial;
      if (target.cas !== undefined) resolved = this.resolvedByCas.get(target.cas)!;
      else if (target.standard !== undefined) {
        const standard = target.standard;
        const allergens = [...new Set(standard.cas.flatMap((cas) => this.allergensByCas.get(cas) ?? []))];
        resolved = { key: standard.id, keyOrdinal: keyOrdinal(standard.id), name: standard.name, cas: null, standards: [standard], allergens, palette: null, natural: false, standardOrdinals: standardOrdinals([standard]), allergenOrdinals: allergenOrdinals(allergens) };
      } else {
        const allergen = target.allergen!;
        const standards = [...new Set(allergen.cas.flatMap((cas) => this.standardsByCas.get(cas) ?? []))];
        resolved = { key: `allergen:${allergen.id}`, keyOrdinal: keyOrdinal(`allergen:${allergen.id}`), name: allergen.labelName, cas: null, standards, allergens: [allergen], palette: null, natural: false, standardOrdinals: standardOrdinals(standards), allergenOrdinals: allergenOrdinals([allergen]) };
      }
      this.resolvedByName.set(name, resolved);
    }
    this.keyCount = keyOrdinals.size;
    for (const [cas, resolved] of this.resolvedByCas) this.resolvedByExactText.set(cas, resolved);
    for (const [text, key] of this.spelledNames) {
      const resolved = this.resolvedByName.get(key);
      if (resolved !== undefined && !this.resolvedByExactText.has(text)) this.resolvedByExactText.set(text, resolved);
    }
  }

  /** Every name as the data spells it → its normalised key. */
  private readonly spelledNames = new Map<string, string>();
}
