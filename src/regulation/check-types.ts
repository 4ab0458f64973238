import type { StandardType } from './catalogue.ts';

/** What a compliance check takes and answers (check.ts runs it). */

export type Verdict = 'pass' | 'warning' | 'unknown' | 'fail';
export type CheckType = 'ingredient' | 'concentration' | 'combination';
/** How the product is used for EU labelling: the request may say leave-on or rinse-off; a category that is not a cosmetic product answers `not_cosmetic`. */
export type Exposure = 'leave_on' | 'rinse_off' | 'not_cosmetic';

export interface FormulaLine {
  /** A CAS number or a name (palette, IFRA or INCI name). */
  readonly material: string;
  /**
   * The CAS number too, when the line gives both: it must name the same substance as `material`
   * (else the request is refused, naming both); the CAS wins where they differ only in spelling, or
   * where the data does not know the name.
   */
  readonly cas?: string | undefined;
  /** % (w/w) of the material in the fragrance concentrate. */
  readonly concentrationPct: number;
  /**
   * The raw material's certificate shows the specifications of its IFRA Standards met (peroxide value, free allyl alcohol,
   * grade, …): the allowed grade of a Standard that prohibits another (rectified cade oil), or the allowed part of one whose
   * parts share a CAS number (Tagetes oil 8016-84-0 as T. patula / minuta).
   */
  readonly specificationMet?: boolean | undefined;
}

export interface CheckRequest {
  readonly formula: readonly FormulaLine[];
  /** IFRA category id as IFRA writes it: "4", "5A", … */
  readonly category: string;
  /** % (w/w) of the concentrate in the finished product, e.g. 15 for an EDP. */
  readonly dosagePct: number;
  /** Defaults from the category (category-exposure.csv): rinse-off for 6, 7A and 9, not a cosmetic for 10A–12, leave-on otherwise. An override. */
  readonly exposure?: 'leave_on' | 'rinse_off' | undefined;
  readonly strict?: boolean | undefined;
}

export interface StandardVerdict {
  readonly standardId: string;
  readonly standard: string;
  readonly types: readonly StandardType[];
  readonly amendment: number | null;
  /** Category limit in % of the finished product; null when there is none or it is not sourced. */
  readonly limitPct: number | null;
  /** `grade_not_declared`: IFRA prohibits a grade of the material, and the line does not declare the specified grade. */
  readonly limit: 'limit' | 'no_restriction' | 'not_sourced' | 'prohibited' | 'none' | 'grade_not_declared';
  readonly verdict: Verdict;
  /** This material's finished-product % above the limit (0 when within). */
  readonly excessPct: number;
  /** This material's finished-product % ÷ the limit. */
  readonly shareOfLimit: number | null;
  /** Set when other lines count against the same limit (see `combinations`). */
  readonly combination: string | null;
  readonly sourceIds: readonly string[];
}

/**
 * One formula line. `standards` are the Standards the material is; what a natural line carries (IFRA's
 * Annex on natural contributions) is in `ComplianceResult.constituents`, and its verdict is the line's.
 */
export interface MaterialResult {
  readonly line: number;
  readonly input: string;
  readonly known: boolean;
  readonly name: string | null;
  readonly cas: string | null;
  readonly concentrationPct: number;
  readonly finishedPct: number;
  readonly verdict: Verdict;
  readonly standards: readonly StandardVerdict[];
  readonly notes: readonly string[];
}

export interface CombinationResult {
  readonly id: string;
  readonly name: string;
  /** `total`: totalPct and limitPct are % of the finished product; `share`: the sum of each member's share of its own limit, in %, against 100. */
  readonly rule: 'total' | 'share';
  readonly lines: readonly number[];
  readonly totalPct: number;
  readonly limitPct: number | null;
  readonly verdict: Verdict;
  readonly excessPct: number;
  readonly note: string;
  readonly sourceIds: readonly string[];
}

export interface AllergenResult {
  readonly id: string;
  readonly labelName: string;
  readonly entry: string | null;
  readonly lines: readonly number[];
  /** Sum over the lines that contain this allergen, in % of the finished product. */
  readonly totalPct: number;
  readonly thresholdPct: number | null;
  /** `not_applicable`: the category is not a cosmetic product, so EU cosmetic labelling does not apply (its notes say which law does). */
  readonly status: 'declare' | 'below_threshold' | 'threshold_not_sourced' | 'prohibited' | 'not_applicable';
  /**
   * What naturals carry of it (part of `totalPct`): each natural line's share, % of the finished
   * product, and how it was read from natural-allergens.csv. Empty when no natural carries it.
   */
  readonly contributions: ReadonlyArray<{ readonly line: number; readonly material: string; readonly pct: number; readonly basis: string }>;
  /**
   * The EU Annex III maximum concentration that applies in the category (the lowest of the product
   * types the IFRA category may hold, eu-product-types.csv), checked like an IFRA limit against
   * `totalPct`; null where the Annex states none for this category.
   */
  readonly euMaximum: { readonly products: string; readonly limitPct: number; readonly verdict: Verdict; readonly excessPct: number } | null;
  readonly notes: readonly string[];
  readonly sourceIds: readonly string[];
}

/**
 * An IFRA-restricted substance naturals carry: its total in the finished product from every line
 * (the lines that are it and what each natural carries), against its Standard's limit.
 */
export interface ConstituentResult {
  readonly standardId: string;
  readonly standard: string;
  readonly totalPct: number;
  readonly limitPct: number | null;
  readonly verdict: Verdict;
  /** Each line's part of the total, in line order; `basis` null for a line that is the material itself. */
  readonly sources: ReadonlyArray<{ readonly line: number; readonly material: string; readonly pct: number; readonly basis: string | null }>;
  /** "Citral 0.64764 % of the product (limit 0.6 %): line 0 Lemongrass oil, East Indian (geranial 41.42 % + neral 30.54 % of Lemongrass oil, East Indian)". */
  readonly summary: string;
}

export interface SpecificationResult {
  readonly line: number;
  readonly standardId: string;
  readonly standard: string;
  readonly note: string;
  readonly met: boolean;
  readonly sourceIds: readonly string[];
}

export interface ComplianceResult {
  readonly verdict: Verdict;
  readonly strict: boolean;
  readonly category: string;
  readonly dosagePct: number;
  readonly exposure: Exposure;
  readonly checks: Readonly<Record<CheckType, Verdict>>;
  readonly materials: readonly MaterialResult[];
  readonly prohibited: ReadonlyArray<{ readonly line: number; readonly material: string; readonly reason: string; readonly sourceIds: readonly string[] }>;
  readonly combinations: readonly CombinationResult[];
  /** IFRA-restricted substances natural lines carry, with their totals and where they come from. */
  readonly constituents: readonly ConstituentResult[];
  /** What the raw material's certificate must show, per line and Standard; `met` as the request declares it. */
  readonly specifications: readonly SpecificationResult[];
  readonly allergens: {
    /** Allergens the label must declare (above the threshold), with their concentration. */
    readonly declare: readonly AllergenResult[];
    /** Every allergen found, whatever its status. */
    readonly found: readonly AllergenResult[];
    /** Natural materials whose allergen content is not sourced: the declaration may be incomplete. */
    readonly notAssessed: ReadonlyArray<{ readonly line: number; readonly material: string }>;
  };
  readonly unknownMaterials: ReadonlyArray<{ readonly line: number; readonly input: string }>;
  /** What the result rests on that the data does not source, in words. */
  readonly gaps: readonly string[];
}

