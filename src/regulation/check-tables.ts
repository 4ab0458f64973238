import { allowingPartsOf, euConditionGaps, euMaximumIn, prohibitionOf, type CategoryLimit, type CombinationGroup, type EuAllergen, type EuMaximum, type IfraStandard, type RegulatoryCatalogue, type ResolvedMaterial } from './catalogue.ts';
import { constituentsNotSourced, naturalContents, type AllergenShare, type StandardShare } from './naturals.ts';

/**
 * What the check reads of the catalogue, prepared once per catalogue (per-Standard and per-allergen
 * facts, per-category limit tables, each natural's contents and words) and the per-check scratch
 * slots it reuses. The rules that read them are in check.ts.
 */

export const NOT_SOURCED: CategoryLimit = { kind: 'not_sourced' };
/** What the check reads of one Standard, whatever the category: built once per catalogue, strings included. */
export interface StandardFacts {
  readonly standard: IfraStandard;
  readonly restriction: boolean;
  readonly prohibition: ReturnType<typeof prohibitionOf>;
  /** The line note of a specification Standard. */
  readonly specificationNote: string | null;
  readonly prohibitionReason: string;
  readonly mixedNote: string;
  readonly mixedGap: string;
  /** A `grade` Standard's line that does not declare the specified grade. */
  readonly gradeNote: string;
  readonly gradeGap: string;
  /** A line with one of the prohibition's `sharedCas` that does not declare the allowed part (Tagetes oil 8016-84-0). */
  readonly sharedNote: string;
  readonly sharedGap: string;
  readonly combinationNote: string;
  readonly carriedNote: string;
  readonly unappliedRules: readonly string[];
  readonly groups: readonly CombinationGroup[];
}

/** One category's column of the limits, by Standard ordinal, with the strings a result may need. */
export interface CategoryTable {
  readonly limits: readonly CategoryLimit[];
  /** "IFRA category 4 limit of Coumarin". */
  readonly limitGaps: readonly string[];
  /** By Standard ordinal: the rules of its notes the data cannot apply (gaps), where the Standard restricts the category. */
  readonly unappliedRules: ReadonlyArray<readonly string[]>;
  readonly prohibitedReasons: readonly string[];
  /** By allergen ordinal: the EU Annex III maximum that applies in the category, or null. */
  readonly euMaximums: ReadonlyArray<EuMaximum | null>;
  /** By allergen ordinal: the conditions on that maximum the check cannot judge from a formula, as gaps. */
  readonly euConditionGaps: ReadonlyArray<readonly string[]>;
  /** The gap of a category that is not a cosmetic product and holds an allergen (its labelling is another law's). */
  readonly notCosmeticGap: string;
}

export interface NaturalFacts {
  readonly allergens: readonly AllergenShare[] | undefined;
  /** The Standards it carries, other than those it is itself; undefined when IFRA's Annex has no row for it. */
  readonly standards: readonly StandardShare[] | undefined;
  /** What the check says on the line (shared, frozen: a line that gets another note copies it). */
  readonly notes: string[];
  readonly allergenGap: string;
  readonly standardGap: string;
}

export interface AllergenFacts {
  readonly allergen: EuAllergen;
  readonly thresholdGap: string;
  /** When no INCI name is sourced: the gap a declaration of it adds (the label shows ECHA's chemical name). */
  readonly labelNameGap: string | null;
  readonly annexIIReason: string;
}

/**
 * The catalogue as the check reads it, by ordinal (ResolvedMaterial.standardOrdinals): per-Standard
 * facts, per-category limit tables (built on a category's first check), and the per-check scratch
 * slots (which Standards and allergens a formula covers), reused from check to check — a check runs
 * to its end without yielding, and leaves every slot it set cleared.
 */
export class CheckTables {
  readonly standards: readonly StandardFacts[];
  readonly allergens: readonly AllergenFacts[];
  private readonly categories = new Map<string, CategoryTable>();
  /** For each Standard ordinal, its position in the current check's `covered` lists, or -1. */
  readonly standardSlot: Int32Array;
  readonly allergenSlot: Int32Array;
  /**
   * By slot, what natural lines carry (zero outside a check): of a Standard, the sum of their shares
   * (% of the finished product, unrounded) and how many carry it; of an allergen, the sum of their
   * rounded shares, of their shares at the range's low end, and how many carry it.
   */
  readonly standardCarried: Float64Array;
  readonly standardCarriers: Int32Array;
  readonly allergenCarried: Float64Array;
  readonly allergenCarriedLow: Float64Array;
  readonly allergenCarriers: Int32Array;
  /**
   * By slot, the natural lines that carry it, as lists with no allocation: the slot's first entry
   * (-1: none; -1 outside a check), each entry's line in `carrierLine` and the next entry in
   * `carrierNext` (-1 ends). Entries are numbered from 0 in each check; the arrays grow as needed.
   */
  readonly standardCarrierHead: Int32Array;
  /** By slot: the ordinal that has it (a check's slots are numbered from 0; read below the check's slot count only). */
  readonly standardOrdinalAt: Int32Array;
  readonly allergenOrdinalAt: Int32Array;
  readonly allergenCarrierHead: Int32Array;
  carrierLine = new Int32Array(256);
  carrierNext = new Int32Array(256);

  constructor(private readonly catalogue: RegulatoryCatalogue) {
    this.standards = catalogue.standards.map((standard) => this.factsOf(standard));
    this.allergens = catalogue.allergens.map((allergen) => ({
      allergen,
      thresholdGap: `EU labelling threshold of ${allergen.labelName}`,
      labelNameGap: allergen.labelNameSourced ? null : `INCI label name of ${allergen.labelName} (EU entry ${allergen.entry}): not sourced, the ECHA chemical name is shown — check it before printing a label`,
      annexIIReason: `EU Regulation 1223/2009 Annex II (${allergen.labelName})`,
    }));
    this.naturals = new Array<NaturalFacts | undefined>(catalogue.keyCount).fill(undefined);
    this.standardSlot = new Int32Array(this.standards.length).fill(-1);
    this.allergenSlot = new Int32Array(this.allergens.length).fill(-1);
    this.standardCarried = new Float64Array(this.standards.length);
    this.standardCarriers = new Int32Array(this.standards.length);
    this.allergenCarried = new Float64Array(this.allergens.length);
    this.allergenCarriedLow = new Float64Array(this.allergens.length);
    this.allergenCarriers = new Int32Array(this.allergens.length);
    this.standardCarrierHead = new Int32Array(this.standards.length).fill(-1);
    this.standardOrdinalAt = new Int32Array(this.standards.length);
    this.allergenOrdinalAt = new Int32Array(this.allergens.length);
    this.allergenCarrierHead = new Int32Array(this.allergens.length).fill(-1);
  }

  /** Adds `line` to the carriers of `slot` (`heads`: standardCarrierHead or allergenCarrierHead) as entry `entry`; returns the next entry. */
  addCarrier(heads: Int32Array, slot: number, line: number, entry: number): number {
    if (entry === this.carrierLine.length) {
      const line = new Int32Array(entry * 2);
      const next = new Int32Array(entry * 2);
      line.set(this.carrierLine);
      next.set(this.carrierNext);
      this.carrierLine = line;
      this.carrierNext = next;
    }
    this.carrierLine[entry] = line;
    this.carrierNext[entry] = heads[slot]!;
    heads[slot] = entry;
    return entry + 1;
  }

  private readonly groupOrdinalLists = new Map<CombinationGroup, number[]>();

  /** A sum rule's member Standards, as ordinals (found on the group's first use, then kept). */
  groupOrdinals(group: CombinationGroup): readonly number[] {
    let ordinals = this.groupOrdinalLists.get(group);
    if (ordinals === undefined) {
      ordinals = this.catalogue.groupMembers(group).map((standard) => this.catalogue.standardOrdinal(standard));
      this.groupOrdinalLists.set(group, ordinals);
    }
    return ordinals;
  }

  /** One Standard's facts, its prohibition read once. */
  private factsOf(standard: IfraStandard): StandardFacts {
    const prohibition = prohibitionOf(standard);
    const unsourced = prohibition === 'specification_not_sourced';
    return {
      standard,
      restriction: standard.types.has('restriction'),
      prohibition,
      specificationNote: standard.specification === null ? null : `specification (${standard.name}): the raw material's certificate must show: ${standard.specification}`,
      prohibitionReason: `IFRA prohibition (${standard.name})`,
      mixedNote: unsourced
        ? `${standard.name}: the Standard is ${standard.typeList.join(' + ')}, and its specification (which grade is allowed) is not sourced`
        : `${standard.name}: the Standard is ${standard.typeList.join(' + ')} for different grades or uses, and its limits are not sourced`,
      mixedGap: unsourced
        ? `specification of ${standard.name} (a prohibition + specification Standard: which grade is allowed)`
        : `limits of ${standard.name} (a prohibition + restriction Standard)`,
      gradeNote: `${standard.name}: IFRA prohibits a grade of it; the line does not declare the specified grade (specificationMet), so it cannot be judged: ${standard.specification ?? ''}`,
      gradeGap: `grade of ${standard.name} (IFRA prohibits a grade of it: declare specificationMet for the specified grade)`,
      ...this.sharedWords(standard),
      combinationNote: `the ${standard.name} Standard limits the sum of the materials it covers`,
      carriedNote: `the ${standard.name} Standard limits the sum of the materials it covers and of what naturals carry of them`,
      unappliedRules: this.catalogue.unappliedRulesOf(standard).map((rule) => rule.text),
      groups: this.catalogue.groupsOf(standard),
    };
  }

  /** The words for a line whose CAS IFRA lists under both the prohibited part of a Standard and a part that allows it. */
  private sharedWords(standard: IfraStandard): { sharedNote: string; sharedGap: string } {
    if (standard.sharedCas.length === 0) return { sharedNote: '', sharedGap: '' };
    const parts = allowingPartsOf(this.catalogue.standards, standard).map((other) => other.name).join('; ');
    return {
      sharedNote: `${standard.name}: IFRA prohibits it, and lists CAS ${standard.sharedCas.join(', ')} under the part that allows the material too (${parts}); the line does not declare the allowed part (specificationMet), so it cannot be judged`,
      sharedGap: `which part of the Standard a line with CAS ${standard.sharedCas.join(', ')} is (${standard.name} is prohibited; ${parts} is not): declare specificationMet for the allowed part`,
    };
  }

  /** By the resolution's key ordinal. */
  private readonly naturals: Array<NaturalFacts | undefined>;

  /** What a palette natural carries (naturals.ts), with the words the check says about it: built on its first check. */
  naturalOf(resolved: ResolvedMaterial): NaturalFacts {
    let facts = this.naturals[resolved.keyOrdinal];
    if (facts === undefined) {
      const name = resolved.name;
      const { allergens, standards } = naturalContents(this.catalogue, name);
      const notes = [
        allergens === undefined
          ? 'natural material: none of the allergens it contains is sourced, so none is counted'
          : 'natural material: the labelling allergens of its sourced constituents are counted (natural-allergens.csv)',
        standards === undefined
          ? "natural material: IFRA's Annex on natural contributions has no row for it, so the restricted substances it may carry are not counted"
          : "natural material: the IFRA-restricted substances it carries are counted against their Standards (IFRA's 51st-Amendment Annex on natural contributions)",
        ...(standards?.unmapped ?? []).map((text) => `carries ${text} (IFRA's Annex): no IFRA Standard covers it, so it is not counted`),
      ];
      facts = {
        allergens,
        // What the line is itself is counted as itself; the Annex adds the substances it carries.
        standards: standards?.shares.filter((share) => !resolved.standardOrdinals.includes(share.standardOrdinal)),
        notes: Object.freeze(notes) as string[],
        allergenGap: `allergens contained in ${name} (constituents not sourced)`,
        standardGap: constituentsNotSourced(name),
      };
      this.naturals[resolved.keyOrdinal] = facts;
    }
    return facts;
  }

  category(id: string): CategoryTable {
    let table = this.categories.get(id);
    if (table === undefined) {
      const standards = this.catalogue.standards;
      table = {
        limits: standards.map((standard) => asChecked(standard.limits[id] ?? NOT_SOURCED)),
        limitGaps: standards.map((standard) => `IFRA category ${id} limit of ${standard.name}`),
        unappliedRules: standards.map((standard, ordinal) => ((standard.limits[id] ?? NOT_SOURCED).kind === 'no_restriction' ? [] : this.standards[ordinal]!.unappliedRules)),
        prohibitedReasons: standards.map((standard) => `IFRA prohibits ${standard.name} in category ${id}`),
        euMaximums: this.catalogue.allergens.map((allergen) => (allergen.annex === 'annex_iii' ? euMaximumIn(allergen, id) : null)),
        euConditionGaps: this.catalogue.allergens.map((allergen) => (euMaximumIn(allergen, id) === null ? [] : euConditionGaps(allergen))),
        notCosmeticGap: `allergen labelling of IFRA category ${id} products (not a cosmetic product: ${this.catalogue.category(id)?.useNote ?? ''})`,
      };
      this.categories.set(id, table);
    }
    return table;
  }
}

const NO_RESTRICTION: CategoryLimit = { kind: 'no_restriction' };
const PROHIBITED: CategoryLimit = { kind: 'prohibited' };

/**
 * The same limit, its kind the string the code spells: a kind parsed from the snapshot is a string of
 * its own, which every comparison reads character by character; a literal is compared by reference.
 */
function asChecked(limit: CategoryLimit): CategoryLimit {
  switch (limit.kind) {
    case 'limit':
      return { kind: 'limit', pct: limit.pct };
    case 'no_restriction':
      return NO_RESTRICTION;
    case 'prohibited':
      return PROHIBITED;
    case 'not_sourced':
      return NOT_SOURCED;
  }
}

export const checkTables = new WeakMap<RegulatoryCatalogue, CheckTables>();

export function tablesOf(catalogue: RegulatoryCatalogue): CheckTables {
  let tables = checkTables.get(catalogue);
  if (tables === undefined) checkTables.set(catalogue, (tables = new CheckTables(catalogue)));
  return tables;
}

/** Adds line `index` to the lines of `ordinal` (a Standard or an allergen), giving the ordinal a slot on its first line. */
export function cover(slots: Int32Array, ordinals: Int32Array, lines: number[][], ordinal: number, index: number): void {
  const slot = slots[ordinal]!;
  // Most are covered by one line: its list is made holding it.
  if (slot === -1) openSlot(slots, ordinals, lines, ordinal, [index]);
  else lines[slot]!.push(index);
}

/** The slot of `ordinal`, given one (with no line yet) when it has none — as for an allergen only a natural carries. */
export function slotOf(slots: Int32Array, ordinals: Int32Array, lines: number[][], ordinal: number): number {
  const slot = slots[ordinal]!;
  return slot === -1 ? openSlot(slots, ordinals, lines, ordinal, []) : slot;
}

/** Gives `ordinal` the next slot, holding `list` as its lines. */
function openSlot(slots: Int32Array, ordinals: Int32Array, lines: number[][], ordinal: number, list: number[]): number {
  const slot = lines.length;
  slots[ordinal] = slot;
  ordinals[slot] = ordinal;
  lines.push(list);
  return slot;
}
