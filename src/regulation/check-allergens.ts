import type { ProductCategory } from './categories.ts';
import { allergenResult, excessOf, judge, round, sumFinishedPct, worse, type Contribution, type Line } from './check-results.ts';
import type { CategoryTable, CheckTables } from './check-tables.ts';
import type { AllergenResult, CheckType, Exposure, Verdict } from './check-types.ts';
import type { AllergenShare } from './naturals.ts';

/** What the allergen part of a check reads, and where it writes (the check's own collections). */
export interface AllergenInput {
  readonly tables: CheckTables;
  readonly table: CategoryTable;
  readonly category: ProductCategory;
  readonly exposure: Exposure;
  /** The allergens the formula covers (ordinals, first seen first) and, by the same index, their lines. */
  readonly allergenOrdinals: readonly number[];
  readonly allergenLines: readonly Line[][];
  /** By the same index: what natural lines carry of each. */
  readonly carried: ReadonlyArray<Array<{ line: Line; share: AllergenShare }> | undefined>;
  readonly checks: Record<CheckType, Verdict>;
  readonly gaps: Set<string>;
  readonly prohibited: Array<{ line: number; material: string; reason: string; sourceIds: readonly string[] }>;
  readonly found: AllergenResult[];
}

/**
 * The EU allergens of a check: each one's total in the finished product (its lines and what naturals
 * carry of it, at the conservative figure), judged against an Annex III maximum in the category, and
 * declared when it exceeds the labelling threshold for the exposure (Regulation 1223/2009: only for
 * cosmetic products). Annex II substances are prohibited. Lines take the verdicts; `found`,
 * `prohibited`, `gaps` and `checks` are the check's, added to here.
 */
export function judgeAllergens(input: AllergenInput): void {
  const { tables, table, category, exposure, allergenOrdinals, allergenLines, carried, checks, gaps, prohibited, found } = input;
  for (let i = 0; i < allergenOrdinals.length; i++) {
    const facts = tables.allergens[allergenOrdinals[i]!]!;
    const allergen = facts.allergen;
    const covered = allergenLines[i]!;
    let totalPct = sumFinishedPct(covered);
    // What naturals carry of it: counted at the conservative figure, the low end kept to say when a threshold falls inside the range.
    let lowPct = totalPct;
    let contributions: Contribution[] | undefined;
    const carriedHere = carried[i];
    if (carriedHere !== undefined) {
      contributions = [];
      for (const { line, share } of carriedHere) {
        const pct = round((line.finishedPct * share.pct) / 100);
        totalPct += pct;
        lowPct += (line.finishedPct * share.lowPct) / 100;
        contributions.push({ line: line.line, material: line.name!, pct, basis: share.basis });
      }
      totalPct = round(totalPct);
      lowPct = round(lowPct);
    }
    if (allergen.annex === 'annex_ii') {
      found.push(allergenResult(allergen, covered, totalPct, 0, 'prohibited'));
      for (const line of covered) {
        line.verdict = 'fail';
        prohibited.push({ line: line.line, material: line.name!, reason: facts.annexIIReason, sourceIds: allergen.sourceIds });
      }
      checks.ingredient = 'fail';
      continue;
    }
    // An Annex III maximum in this category: judged like an IFRA limit, on the same total (naturals' shares included).
    const maximum = table.euMaximums[allergenOrdinals[i]!]!;
    let euMaximum: AllergenResult['euMaximum'] = null;
    if (maximum !== null) {
      const verdict = judge(totalPct, maximum.pct);
      euMaximum = { products: maximum.products, limitPct: maximum.pct, verdict, excessPct: excessOf(totalPct, maximum.pct) };
      if (verdict !== 'pass') {
        for (const line of covered) line.verdict = worse(line.verdict, verdict);
        if (carriedHere !== undefined) for (const { line } of carriedHere) line.verdict = worse(line.verdict, verdict);
      }
      checks.concentration = worse(checks.concentration, verdict);
      for (const gap of table.euConditionGaps[allergenOrdinals[i]!]!) gaps.add(gap);
    }
    if (exposure === 'not_cosmetic') {
      // Regulation 1223/2009 covers cosmetic products: a candle or a detergent is labelled under other law.
      found.push(allergenResult(allergen, covered, totalPct, null, 'not_applicable', contributions, [...allergen.notes, `EU cosmetic labelling does not apply: ${category.useNote}`], euMaximum));
      continue;
    }
    const thresholdPct = exposure === 'leave_on' ? allergen.leaveOnThresholdPct : allergen.rinseOffThresholdPct;
    if (thresholdPct === null) {
      gaps.add(facts.thresholdGap);
      found.push(allergenResult(allergen, covered, totalPct, thresholdPct, 'threshold_not_sourced', contributions, allergen.notes, euMaximum));
    } else {
      // The Regulation requires labelling when the concentration *exceeds* the threshold.
      const declare = totalPct > thresholdPct;
      if (declare && facts.labelNameGap !== null) gaps.add(facts.labelNameGap);
      const inRange = declare && contributions !== undefined && lowPct <= thresholdPct;
      const notes = inRange ? [...allergen.notes, `the threshold (${thresholdPct} %) falls inside the range its naturals give (${lowPct}–${totalPct} % of the product): declared on the range's maximum`] : allergen.notes;
      found.push(allergenResult(allergen, covered, totalPct, thresholdPct, declare ? 'declare' : 'below_threshold', contributions, notes, euMaximum));
    }
  }
}
