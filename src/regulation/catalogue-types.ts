import type { PaletteMaterial } from '../perfumery/index.ts';
import type { ProductCategory } from './categories.ts';

/**
 * The regulatory catalogue's data types: what the loaders (catalogue.ts) build, the snapshot
 * (snapshot.ts) stores and the check, the certificate and the composer read. A leaf: it imports
 * types only, so the loaders and the snapshot both depend on it and not on each other.
 */

export type StandardType = 'prohibition' | 'restriction' | 'specification';

/** A category limit in % of the finished product. */
export type CategoryLimit =
  | { readonly kind: 'limit'; readonly pct: number }
  | { readonly kind: 'no_restriction' }
  | { readonly kind: 'not_sourced' }
  /** The Standard prohibits the material in this category (p-BMHCA in 1 and 6: the overview's "0.0 (Prohibited)"). */
  | { readonly kind: 'prohibited' };

export interface IfraStandard {
  /** Stable slug of the material name: the `ingredient` label of ifra_violations_total. */
  readonly id: string;
  readonly name: string;
  /** Every CAS number the Standard names; several mean the limit applies to their sum. */
  readonly cas: readonly string[];
  readonly types: ReadonlySet<StandardType>;
  /** The same types as a list, in the data's order. */
  readonly typeList: readonly StandardType[];
  readonly amendment: number | null;
  readonly limits: Readonly<Record<string, CategoryLimit>>;
  readonly notes: string;
  /**
   * What the raw material's certificate must show, from `notes`: the specification of a
   * specification Standard, or the grade condition of a Standard that prohibits some grades
   * and restricts others (Peru balsam crude, verbena oil). null when there is none.
   */
  readonly specification: string | null;
  /**
   * A prohibition's CAS numbers that IFRA also lists under a part of the Standard that allows the
   * material (Tagetes oil 8016-84-0: T. erecta prohibited, T. patula and T. minuta restricted). The
   * CAS does not tell the part: a line with one is prohibited only when it does not declare the
   * allowed part (`specificationMet`), and then it is unknown, never a bare "prohibited".
   */
  readonly sharedCas: readonly string[];
  /**
   * The Standard names a group, not a substance (Allyl esters): its CAS numbers are members the data
   * lists (group-members.csv). Its name resolves to the group, never to one member.
   */
  readonly group: boolean;
  readonly sourceIds: readonly string[];
}

export interface EuAllergen {
  /** Stable slug of the label name: the `allergen` label of allergen_hits_total. */
  readonly id: string;
  /** Annex III entry (or Annex II entry for prohibited ones), as the data gives it. */
  readonly entry: string | null;
  /**
   * The name to print on the label: the name the entry prescribes or its INCI name (eu-allergens.csv),
   * else the entry's one Common Ingredients Glossary name (eu-label-names.csv), else the chemical name.
   */
  readonly labelName: string;
  /** Whether `labelName` is a sourced label name; false: it is ECHA's chemical name, to be checked before a label is printed. */
  readonly labelNameSourced: boolean;
  readonly names: readonly string[];
  /** The CAS numbers of the EU rows. */
  readonly cas: readonly string[];
  /**
   * The other CAS numbers of the IFRA Standard the entry stands for (eu-entry-standards.csv, ours:
   * oakmoss absolute 9000-50-4 under entry 91): a line with one of them is this allergen too.
   */
  readonly groupCas: readonly string[];
  /** `annex_ii`: prohibited in cosmetics (Lilial, Lyral); `annex_iii`: labelling above the thresholds. */
  readonly annex: 'annex_ii' | 'annex_iii';
  readonly regulation: string;
  readonly leaveOnThresholdPct: number | null;
  readonly rinseOffThresholdPct: number | null;
  /**
   * Annex III maximum concentrations in the finished product: one per product type the source
   * names (`max_pct_by_product`), or for every cosmetic product (`max_pct_finished_product`), each
   * with the IFRA categories that product type falls in (eu-product-types.csv, ours). Empty where
   * the source states none.
   */
  readonly maximums: readonly EuMaximum[];
  /** Conditions on those maximums in the source's words (`max_conditions`), each once. */
  readonly maxConditions: readonly string[];
  readonly notes: readonly string[];
  readonly sourceIds: readonly string[];
}

/** An EU Annex III maximum: at most `pct` % of the finished product in `products`, which fall in IFRA `categories`. */
export interface EuMaximum {
  readonly products: string;
  readonly pct: number;
  readonly categories: readonly string[];
}

/**
 * A sum rule over several Standards:
 * - `total`: the members' finished-product % together within the limit of `limitFrom`
 *   (oakmoss + treemoss; methyl heptine carbonate + methyl octine carbonate);
 * - `share`: the sum of each member's share of its *own* limit within 100 % (the
 *   furocoumarin-containing oils).
 */
export interface CombinationGroup {
  readonly id: string;
  readonly name: string;
  readonly rule: 'total' | 'share';
  readonly standardIds: readonly string[];
  /** `total`: the Standard whose category limit applies to the group's total; null for `share`. */
  readonly limitFrom: string | null;
  readonly note: string;
  readonly sourceIds: readonly string[];
}

/** A rule the data states in `notes` that the checker cannot apply from the data: reported as a gap whenever one of its Standards is in a formula. */
export interface UnappliedRule {
  readonly id: string;
  readonly standardIds: readonly string[];
  readonly text: string;
  readonly sourceIds: readonly string[];
}

/** What a formula line names, once resolved. */
export interface ResolvedMaterial {
  /** CAS when the material is one substance; the Standard's id when it is a group named by name. */
  readonly key: string;
  /** One number per key, from 0 (below the catalogue's keyCount): what a formula's test for a material named twice indexes by. */
  readonly keyOrdinal: number;
  readonly name: string;
  readonly cas: string | null;
  readonly standards: readonly IfraStandard[];
  readonly allergens: readonly EuAllergen[];
  readonly palette: PaletteMaterial | null;
  /** A natural complex substance: it may contain allergens whose amounts are not sourced. */
  readonly natural: boolean;
  /** Positions of `standards` in the catalogue's `standards`, and of `allergens` in its `allergens`: what the check indexes its tables by. */
  readonly standardOrdinals: readonly number[];
  readonly allergenOrdinals: readonly number[];
}

/** Every part of the catalogue, as parsed and validated from the CSV files (and as the snapshot keeps them). */
export interface CatalogueParts {
  standards: IfraStandard[];
  allergens: EuAllergen[];
  groups: CombinationGroup[];
  unappliedRules: UnappliedRule[];
  categories: ProductCategory[];
  palette: PaletteMaterial[];
}
