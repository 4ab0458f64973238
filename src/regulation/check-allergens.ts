import { allergenResult, excessOf, judge, round, sumFinishedPct, worse, type Contribution } from './check-results.ts';
import { carriersTake, type CheckRun, type Covers, type Decision, type Parts } from './check-run.ts';
import type { AllergenResult } from './check-types.ts';

/**
 * The EU allergens of a check: each one's total in the finished product (its lines and what naturals
 * carry of it, at the conservative figure), judged against an Annex III maximum in the category, and
 * declared when it exceeds the labelling threshold for the exposure (Regulation 1223/2009: only for
 * cosmetic products). Annex II substances are prohibited. The lines that are an allergen, and the
 * natural lines carrying it, take the verdict of its maximum. The first
 * run (`parts` null) writes the decision's check types, gaps and counts; the second builds `found`
 * and `prohibited` into `parts`.
 */
export function judgeAllergens(run: CheckRun, decision: Decision, parts: Parts | null, covers: Covers): void {
  const { tables, table, category, exposure, finished, verdicts } = run;
  const { checks, gaps, counts } = decision;
  const { allergenOrdinals, allergenLines } = covers;
  for (let i = 0; i < allergenLines.length; i++) {
    const facts = tables.allergens[allergenOrdinals[i]!]!;
    const allergen = facts.allergen;
    const covered = allergenLines[i]!;
    let totalPct = sumFinishedPct(finished, covered);
    // What naturals carry of it: counted at the conservative figure, the low end kept to say when a threshold falls inside the range.
    let lowPct = totalPct;
    const carrierCount = tables.allergenCarriers[i]!;
    let contributions: Contribution[] | undefined;
    if (carrierCount > 0) {
      totalPct = round(totalPct + tables.allergenCarried[i]!);
      lowPct = round(lowPct + tables.allergenCarriedLow[i]!);
      if (parts !== null) {
        contributions = [];
        for (const { line, share } of covers.carried[i]!) contributions.push({ line: line.line, material: line.name!, pct: round((line.finishedPct * share.pct) / 100), basis: share.basis });
      }
    }
    if (allergen.annex === 'annex_ii') {
      for (const index of covered) verdicts[index] = 'fail';
      if (parts !== null) {
        parts.found.push(allergenResult(allergen, covered, totalPct, 0, 'prohibited'));
        for (const index of covered) parts.prohibited.push({ line: index, material: parts.materials[index]!.name!, reason: facts.annexIIReason, sourceIds: allergen.sourceIds });
      } else {
        counts!.prohibitedAllergens.push(allergen.id);
        // The same material already counted as an IFRA prohibition is one violation, not two.
        if (!covered.every((index) => counts!.prohibitedLines.includes(index))) counts!.violations.push({ ingredient: allergen.id, type: 'prohibited' });
      }
      checks.ingredient = 'fail';
      continue;
    }
    // An Annex III maximum in this category: judged like an IFRA limit, on the same total (naturals' shares included).
    const maximum = table.euMaximums[allergenOrdinals[i]!]!;
    let euMaximum: AllergenResult['euMaximum'] = null;
    if (maximum !== null) {
      const verdict = judge(totalPct, maximum.pct);
      if (parts !== null) euMaximum = { products: maximum.products, limitPct: maximum.pct, verdict, excessPct: excessOf(totalPct, maximum.pct) };
      else if (verdict === 'fail') counts!.violations.push({ ingredient: allergen.id, type: 'eu_maximum' });
      if (verdict !== 'pass') {
        for (const index of covered) verdicts[index] = worse(verdicts[index]!, verdict);
        if (carrierCount > 0) carriersTake(run, tables.allergenCarrierHead[i]!, verdict);
      }
      checks.concentration = worse(checks.concentration, verdict);
      for (const gap of table.euConditionGaps[allergenOrdinals[i]!]!) gaps.add(gap);
    }
    if (exposure === 'not_cosmetic') {
      // Regulation 1223/2009 covers cosmetic products: a candle or a detergent is labelled under other law.
      if (parts !== null) parts.found.push(allergenResult(allergen, covered, totalPct, null, 'not_applicable', contributions, [...allergen.notes, `EU cosmetic labelling does not apply: ${category.useNote}`], euMaximum));
      continue;
    }
    const thresholdPct = exposure === 'leave_on' ? allergen.leaveOnThresholdPct : allergen.rinseOffThresholdPct;
    if (thresholdPct === null) {
      gaps.add(facts.thresholdGap);
      if (parts !== null) parts.found.push(allergenResult(allergen, covered, totalPct, thresholdPct, 'threshold_not_sourced', contributions, allergen.notes, euMaximum));
    } else {
      // The Regulation requires labelling when the concentration *exceeds* the threshold.
      const declare = totalPct > thresholdPct;
      if (declare && facts.labelNameGap !== null) gaps.add(facts.labelNameGap);
      if (parts !== null) {
        const inRange = declare && carrierCount > 0 && lowPct <= thresholdPct;
        const notes = inRange ? [...allergen.notes, `the threshold (${thresholdPct} %) falls inside the range its naturals give (${lowPct}–${totalPct} % of the product): declared on the range's maximum`] : allergen.notes;
        parts.found.push(allergenResult(allergen, covered, totalPct, thresholdPct, declare ? 'declare' : 'below_threshold', contributions, notes, euMaximum));
      } else if (declare) counts!.declared.push(allergen.id);
    }
  }
}
