import type { RegulatoryCatalogue, ResolvedMaterial } from './catalogue.ts';
import type { ProductCategory } from './categories.ts';
import { worse, type Carrier, type Line } from './check-results.ts';
import type { CategoryTable, CheckTables } from './check-tables.ts';
import type { AllergenShare } from './naturals.ts';
import type { AllergenResult, CheckRequest, CheckType, CombinationResult, ComplianceResult, ConstituentResult, Exposure, SpecificationResult, Verdict } from './check-types.ts';

/**
 * A check runs its rules twice at most. The first run decides: the lines' verdicts, the check types,
 * the gaps, and what the metrics count. The answer's parts (each line's verdict per Standard, the
 * constituents naturals carry with where they come from, the allergens found, the sum rules, …) are
 * what most of a check's time went on, and most callers read only the verdicts: the same rules run a
 * second time to build them, when the answer is first read for them (check-answer.ts). The first run
 * works on line indexes and numbers; the answer's lines (MaterialResult) are made by the second,
 * with the verdicts the first left. What the first run wrote the second writes again, unchanged (a
 * verdict only ever gets worse).
 */

/** What one check runs on: made once, read again when the answer's parts are built. */
export interface CheckRun {
  readonly catalogue: RegulatoryCatalogue;
  readonly category: ProductCategory;
  readonly tables: CheckTables;
  readonly table: CategoryTable;
  readonly exposure: Exposure;
  readonly request: CheckRequest;
  /** By line (the formula's order): its material, null when the data does not know it. */
  readonly resolved: ReadonlyArray<ResolvedMaterial | null>;
  /** By line: its % of the finished product (rounded). */
  readonly finished: readonly number[];
  /** By line: its verdict so far; the first run and strict mode write them, the answer's lines take them. */
  readonly verdicts: Verdict[];
  /** By line: 1 where the line declares its specifications met; null when none does. */
  readonly met: Uint8Array | null;
}

/**
 * The Standards and allergens a run finds the formula covers, by slot (first seen first): the lines
 * that are them (indexes; how many lists there are is how many slots) and, in the tables' scratch,
 * their ordinals; in the second run, also the natural lines that carry them.
 */
export interface Covers {
  readonly standardOrdinals: Int32Array;
  readonly standardLines: number[][];
  readonly allergenOrdinals: Int32Array;
  readonly allergenLines: number[][];
  readonly carriedStd: Carrier[][];
  readonly carried: Array<Array<{ line: Line; share: AllergenShare }>>;
}

export type ViolationType = 'prohibited' | 'over_limit' | 'combination' | 'eu_maximum';

/** What the regulation metrics count of a check (record-check.ts), found by the first run. */
export interface CheckCounts {
  /**
   * One per failing line (its own Standard, not a sum), substance one natural line carries over its
   * limit, failing sum, EU Annex III maximum exceeded, and Annex II allergen on lines no IFRA
   * prohibition already counts.
   */
  readonly violations: Array<{ readonly ingredient: string; readonly type: ViolationType }>;
  /** Ids of the allergens to declare. */
  readonly declared: string[];
  /** Ids of the Annex II allergens found. */
  readonly prohibitedAllergens: string[];
  /** The lines an IFRA prohibition fails, by their own Standard or as the one line carrying it. */
  readonly prohibitedLines: number[];
}

/** What the rules decide. The second run gets one of its own, thrown away. */
export interface Decision {
  readonly checks: Record<CheckType, Verdict>;
  readonly gaps: GapList;
  /** Lines whose specification the request does not declare met (a line may be here twice). */
  readonly unmetSpecifications: number[];
  /** Set in the first run only. */
  readonly counts: CheckCounts | null;
}

/**
 * What a result rests on that the data does not source, in words, each once, first said first. A list
 * rather than a Set: a check says a few (most of them shared strings, compared by reference), and a
 * Set's table cost more than the rest of a check's bookkeeping.
 */
export class GapList {
  readonly list: string[] = [];

  add(text: string): void {
    if (!this.list.includes(text)) this.list.push(text);
  }
}

export type Prohibition = ComplianceResult['prohibited'][number];

/** The answer's parts, built by the second run. */
export interface Parts {
  /** The answer's lines, made before the rules run again, and the natural ones whose allergens are not sourced. */
  readonly materials: Line[];
  readonly notAssessed: ComplianceResult['allergens']['notAssessed'];
  readonly prohibited: Prohibition[];
  readonly specifications: SpecificationResult[];
  readonly constituents: ConstituentResult[];
  readonly combinations: CombinationResult[];
  readonly found: AllergenResult[];
}

export function emptyParts(materials: Line[], notAssessed: Parts['notAssessed']): Parts {
  return { materials, notAssessed, prohibited: [], specifications: [], constituents: [], combinations: [], found: [] };
}

/** The natural lines carrying a substance (the list from `head`, check-tables.ts) take its verdict. */
export function carriersTake(run: CheckRun, head: number, verdict: Verdict): void {
  if (verdict === 'pass') return;
  const { carrierLine, carrierNext } = run.tables;
  const verdicts = run.verdicts;
  for (let entry = head; entry !== -1; entry = carrierNext[entry]!) {
    const index = carrierLine[entry]!;
    verdicts[index] = worse(verdicts[index]!, verdict);
  }
}
