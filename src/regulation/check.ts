import { ErrorCodes, FaiError } from '../errors/index.ts';
import type { RegulatoryCatalogue } from './catalogue.ts';
import type { ProductCategory } from './categories.ts';
import {
  addNote,
  addStandard,
  carrierIndexes,
  constituentResult,
  excessOf,
  judge,
  lineIndexes,
  mergeLines,
  NO_CARRIERS,
  NO_NOTES,
  NO_STANDARDS,
  round,
  shareOfLimit,
  standardVerdict,
  sumFinishedPct,
  worse,
  type Line,
} from './check-results.ts';
import { judgeAllergens } from './check-allergens.ts';
import { judgeGroups } from './check-groups.ts';
import { CheckAnswer } from './check-answer.ts';
import { carriersTake, emptyParts, GapList, type CheckCounts, type CheckRun, type Covers, type Decision, type Parts } from './check-run.ts';
import { cover, slotOf, tablesOf } from './check-tables.ts';
import type { CheckRequest, CheckType, Exposure, Verdict } from './check-types.ts';
import { resolveFormula } from './formula-lines.ts';

/**
 * The compliance check: a formula (materials with their % in the fragrance concentrate), the IFRA
 * product category, the dosage of the concentrate in the finished product and leave-on / rinse-off →
 * per-material verdicts against IFRA Standards, combination ("sum of") limits, EU allergens to
 * declare, and one verdict per check type. Pure: no I/O, no metrics (see record-check.ts). The
 * rules run once to decide, and again to build the answer's parts when it is first read for them
 * (check-run.ts, check-answer.ts).
 *
 * Verdicts, from best to worst: `pass`, `warning` (above WARNING_SHARE of a limit), `unknown` (the
 * material or its limit is not in the sourced data — never treated as allowed), `fail`. In strict
 * mode `unknown` and `warning` fail the check type they belong to.
 */
export { WARNING_SHARE, worse } from './check-results.ts';
export { CheckAnswer } from './check-answer.ts';

/** The category's use for EU labelling (category-exposure.csv): leave-on, rinse-off, or not a cosmetic product. */
export function defaultExposure(category: ProductCategory): Exposure {
  return category.use;
}

// The notes most lines get, made once (frozen: a line that gets another note copies them, check-results.ts).
const NOT_IN_THE_DATA = Object.freeze(['not in the sourced data (IFRA Standards index, EU allergens, materials palette): not assessed']) as string[];
const NO_STANDARD_NOTE = 'no IFRA Standard in the IFRA Standards index';

/** Runs the check. Throws FAI_ERR_VALIDATION for an unknown category or a material listed twice. */
export function checkFormula(catalogue: RegulatoryCatalogue, request: CheckRequest): CheckAnswer {
  const category = catalogue.category(request.category);
  if (category === undefined) {
    const subCategories = catalogue.categories.filter((c) => c.parent === request.category && c.id !== c.parent).map((c) => c.id);
    const message =
      subCategories.length > 0
        ? `category: IFRA category ${request.category} has sub-categories ${subCategories.join(', ')}: name one`
        : `category: unknown IFRA category "${request.category}" (known: ${catalogue.categories.map((c) => c.id).join(', ')})`;
    throw new FaiError(ErrorCodes.VALIDATION, message, { field: 'category' });
  }
  const tables = tablesOf(catalogue);
  const strict = request.strict ?? false;
  const exposure: Exposure = request.exposure ?? defaultExposure(category);
  const checks: Record<CheckType, Verdict> = { ingredient: 'pass', concentration: 'pass', combination: 'pass' };
  const gaps = new GapList();
  const unknownMaterials: Array<{ line: number; input: string }> = [];
  const notAssessed: Array<{ line: number; material: string }> = [];

  // Resolve every line; a material named twice (by name and by CAS, say) is a mistake in the input.
  const resolved = resolveFormula(catalogue, request.formula);
  const lines: Line[] = [];
  let specificationMet: Set<Line> | null = null;
  for (let index = 0; index < request.formula.length; index++) {
    const entry = request.formula[index]!;
    const material = resolved[index]!;
    const line: Line = {
      line: index,
      input: entry.material,
      known: material !== null,
      name: material === null ? null : material.name,
      cas: material === null ? null : material.cas,
      concentrationPct: entry.concentrationPct,
      finishedPct: round((entry.concentrationPct * request.dosagePct) / 100),
      verdict: 'pass',
      standards: NO_STANDARDS,
      notes: NO_NOTES,
    };
    lines.push(line);
    if (entry.specificationMet === true) (specificationMet ??= new Set()).add(line);
    if (material === null) {
      line.verdict = 'unknown';
      line.notes = NOT_IN_THE_DATA;
      unknownMaterials.push({ line: index, input: entry.material });
      checks.ingredient = worse(checks.ingredient, 'unknown');
      continue;
    }
    if (material.natural) {
      const natural = tables.naturalOf(material);
      line.notes = natural.notes;
      if (natural.allergens === undefined) {
        notAssessed.push({ line: index, material: material.name });
        gaps.add(natural.allergenGap);
      }
      if (natural.standards === undefined) gaps.add(natural.standardGap);
    }
    if (material.standards.length === 0 && material.allergens.length === 0) addNote(line, NO_STANDARD_NOTE);
  }

  const run: CheckRun = { catalogue, category, tables, table: tables.category(category.id), exposure, lines, resolved, specificationMet };
  const decision: Decision = { checks, gaps, unmetSpecifications: [], counts: { violations: [], declared: [], prohibitedAllergens: [], prohibitedLines: [] } };
  assess(run, decision, null);
  if (strict) {
    for (const type of Object.keys(checks) as CheckType[]) if (checks[type] === 'unknown' || checks[type] === 'warning') checks[type] = 'fail';
    // A specification the request does not declare met is a warning in strict mode (and only there): the limits may
    // hold while the raw material's certificate is still to be seen.
    for (const line of decision.unmetSpecifications) {
      line.verdict = worse(line.verdict, 'warning');
      checks.ingredient = worse(checks.ingredient, 'warning');
    }
  }
  return new CheckAnswer({
    verdict: worse(worse(checks.ingredient, checks.concentration), checks.combination),
    strict,
    category: category.id,
    dosagePct: request.dosagePct,
    exposure,
    checks,
    lines,
    unknownMaterials,
    notAssessed,
    gaps: gaps.list,
    counts: decision.counts!,
    describe: () => describe(run),
  });
}

/** The second run: the answer's parts, the rules applied again (what they decide is known already, and is thrown away). */
function describe(run: CheckRun): Parts {
  const parts = emptyParts();
  const checks: Record<CheckType, Verdict> = { ingredient: 'pass', concentration: 'pass', combination: 'pass' };
  assess(run, { checks, gaps: new GapList(), unmetSpecifications: [], counts: null }, parts);
  return parts;
}

/**
 * The rules, over the lines: what each Standard, sum rule and allergen the formula covers decides.
 * The first run (`parts` null) writes the verdicts, the check types, the gaps and the counts; the
 * second builds the answer's parts into `parts`.
 */
function assess(run: CheckRun, decision: Decision, parts: Parts | null): void {
  const { tables, lines, resolved } = run;
  const { standardSlot, allergenSlot, standardCarried, standardCarriers, allergenCarried, allergenCarriedLow, allergenCarriers, standardCarrierHead, allergenCarrierHead } = tables;
  // The Standards and allergens the formula covers (ordinals, first seen first) and the lines each covers;
  // the tables' slots say where an ordinal's lines are, and are cleared before the run returns.
  const covers: Covers = { standardOrdinals: [], standardLines: [], allergenOrdinals: [], allergenLines: [], carriedStd: [], carried: [] };
  const { standardOrdinals, standardLines, allergenOrdinals, allergenLines, carriedStd, carried } = covers;
  try {
    let entry = 0;
    for (const line of lines) {
      const material = resolved[line.line]!;
      if (material === null) continue;
      for (const ordinal of material.standardOrdinals) cover(standardSlot, standardOrdinals, standardLines, ordinal, line);
      for (const ordinal of material.allergenOrdinals) cover(allergenSlot, allergenOrdinals, allergenLines, ordinal, line);
      if (!material.natural) continue;
      const { allergens, standards } = tables.naturalOf(material);
      if (allergens !== undefined) {
        for (const share of allergens) {
          const slot = slotOf(allergenSlot, allergenOrdinals, allergenLines, share.allergenOrdinal);
          allergenCarried[slot]! += round((line.finishedPct * share.pct) / 100);
          allergenCarriedLow[slot]! += (line.finishedPct * share.lowPct) / 100;
          allergenCarriers[slot]!++;
          entry = tables.addCarrier(allergenCarrierHead, slot, line.line, entry);
          if (parts !== null) (carried[slot] ??= []).push({ line, share });
        }
      }
      if (standards !== undefined) {
        for (const share of standards) {
          const slot = slotOf(standardSlot, standardOrdinals, standardLines, share.standardOrdinal);
          // Unrounded: the Standard's total is rounded once; the part a source shows, when it is read.
          const pct = (line.finishedPct * share.pct) / 100;
          standardCarried[slot]! += pct;
          standardCarriers[slot]!++;
          entry = tables.addCarrier(standardCarrierHead, slot, line.line, entry);
          if (parts !== null) (carriedStd[slot] ??= []).push({ line, share, pct });
        }
      }
    }
    for (let slot = 0; slot < standardOrdinals.length; slot++) judgeStandard(run, decision, parts, covers, slot);
    judgeGroups(run, decision, parts, covers);
    judgeAllergens(run, decision, parts, covers);
  } finally {
    for (const ordinal of standardOrdinals) standardSlot[ordinal] = -1;
    for (const ordinal of allergenOrdinals) allergenSlot[ordinal] = -1;
    standardCarried.fill(0, 0, standardOrdinals.length);
    standardCarriers.fill(0, 0, standardOrdinals.length);
    standardCarrierHead.fill(-1, 0, standardOrdinals.length);
    allergenCarried.fill(0, 0, allergenOrdinals.length);
    allergenCarriedLow.fill(0, 0, allergenOrdinals.length);
    allergenCarriers.fill(0, 0, allergenOrdinals.length);
    allergenCarrierHead.fill(-1, 0, allergenOrdinals.length);
  }
  if (run.exposure === 'not_cosmetic' && allergenOrdinals.length > 0) {
    decision.gaps.add(run.table.notCosmeticGap);
  }
}

/**
 * One IFRA Standard: its limit applies to the sum of every line it covers and of what natural lines
 * carry of it; the lines that are it and the natural lines carrying it take its verdict.
 */
function judgeStandard(run: CheckRun, decision: Decision, parts: Parts | null, covers: Covers, slot: number): void {
  const { tables, table } = run;
  const { checks, gaps, counts } = decision;
  const ordinal = covers.standardOrdinals[slot]!;
  const covered = covers.standardLines[slot]!;
  const carrierCount = tables.standardCarriers[slot]!;
  const carriedPct = tables.standardCarried[slot]!;
  // Built by the second run only.
  const carriers = parts === null ? undefined : (covers.carriedStd[slot] ?? NO_CARRIERS);
  const facts = tables.standards[ordinal]!;
  const standard = facts.standard;
  if (facts.specificationNote !== null) {
    for (const line of covered) {
      const isMet = isSpecificationMet(run, line);
      if (parts !== null) {
        parts.specifications.push({ line: line.line, standardId: standard.id, standard: standard.name, note: standard.specification!, met: isMet, sourceIds: standard.sourceIds });
        addNote(line, facts.specificationNote);
      }
      if (!isMet) decision.unmetSpecifications.push(line);
    }
  }
  const limit = table.limits[ordinal]!;
  if (limit.kind !== 'no_restriction') for (const text of facts.unappliedRules) gaps.add(text);
  // A prohibition applied by sourced limits falls through to the restriction below (its grade condition is a specification, above).
  const prohibition = facts.prohibition;
  if (prohibition === 'grade') {
    // The prohibited grade: a line that does not declare the specified grade is unknown, never a bare "prohibited"; one
    // that does is judged by the Standard's restriction, if it has one (styrax), and passes it otherwise (rectified cade oil).
    let undeclared = false;
    for (const line of covered) {
      if (isSpecificationMet(run, line)) continue;
      undeclared = true;
      line.verdict = worse(line.verdict, 'unknown');
      if (parts !== null) {
        addStandard(line, standardVerdict(standard, null, 'grade_not_declared', 'unknown', 0, null, null));
        addNote(line, facts.gradeNote);
      }
    }
    if (undeclared) {
      checks.ingredient = worse(checks.ingredient, 'unknown');
      gaps.add(facts.gradeGap);
    }
    if (!facts.restriction) {
      if (parts !== null) for (const line of covered) if (isSpecificationMet(run, line)) addStandard(line, standardVerdict(standard, null, 'none', 'pass', 0, null, null));
      return;
    }
  } else if (prohibition !== null) {
    const mixed = prohibition !== 'prohibited';
    const verdict: Verdict = mixed ? 'unknown' : 'fail';
    let judged = carrierCount > 0;
    for (const line of covered) {
      if (standard.sharedCas.length > 0 && line.cas !== null && standard.sharedCas.includes(line.cas)) {
        // On the part that allows the material too (Tagetes oil 8016-84-0): declared as that part, that part's rule
        // judges it; undeclared, it is unknown — never a bare "prohibited".
        const isMet = isSpecificationMet(run, line);
        if (parts !== null) addStandard(line, standardVerdict(standard, null, isMet ? 'none' : 'grade_not_declared', isMet ? 'pass' : 'unknown', 0, null, null));
        if (isMet) continue;
        line.verdict = worse(line.verdict, 'unknown');
        if (parts !== null) addNote(line, facts.sharedNote);
        checks.ingredient = worse(checks.ingredient, 'unknown');
        gaps.add(facts.sharedGap);
        continue;
      }
      judged = true;
      line.verdict = worse(line.verdict, verdict);
      if (parts !== null) {
        addStandard(line, standardVerdict(standard, mixed ? null : 0, 'prohibited', verdict, mixed ? 0 : line.finishedPct, null, null));
        if (mixed) addNote(line, facts.mixedNote);
        else parts.prohibited.push({ line: line.line, material: line.name!, reason: facts.prohibitionReason, sourceIds: standard.sourceIds });
      } else if (!mixed) countProhibited(counts!, standard.id, line.line);
    }
    if (carrierCount > 0) {
      if (carriers !== undefined) {
        for (const { line, share } of carriers) {
          if (mixed) addNote(line, facts.mixedNote);
          else parts!.prohibited.push({ line: line.line, material: line.name!, reason: `${facts.prohibitionReason}: carried (${share.basis})`, sourceIds: standard.sourceIds });
        }
        parts!.constituents.push(constituentResult(standard, covered, carriers, round(sumFinishedPct(covered) + carriedPct), mixed ? null : 0, verdict));
      } else if (!mixed && covered.length === 0 && carrierCount === 1) countProhibited(counts!, standard.id, tables.carrierLine[tables.standardCarrierHead[slot]!]!);
    }
    if (judged) {
      checks.ingredient = worse(checks.ingredient, verdict);
      if (mixed) gaps.add(facts.mixedGap);
    }
    if (carrierCount > 0) carriersTake(run, tables.standardCarrierHead[slot]!, verdict);
    return;
  }
  if (!facts.restriction) {
    if (parts !== null) for (const line of covered) addStandard(line, standardVerdict(standard, null, 'none', 'pass', 0, null, null));
    return;
  }
  const contributors = covered.length + carrierCount;
  const totalPct = carrierCount === 0 ? sumFinishedPct(covered) : round(sumFinishedPct(covered) + carriedPct);
  const combination = contributors > 1 ? standard.id : null;
  if (limit.kind === 'prohibited') {
    // The Standard prohibits the material in this category (p-BMHCA in 1 and 6).
    for (const line of covered) {
      line.verdict = 'fail';
      if (parts !== null) {
        addStandard(line, standardVerdict(standard, 0, 'prohibited', 'fail', line.finishedPct, null, null));
        parts.prohibited.push({ line: line.line, material: line.name!, reason: table.prohibitedReasons[ordinal]!, sourceIds: standard.sourceIds });
      } else countProhibited(counts!, standard.id, line.line);
    }
    if (carrierCount > 0) {
      if (carriers !== undefined) {
        for (const { line, share } of carriers) parts!.prohibited.push({ line: line.line, material: line.name!, reason: `${table.prohibitedReasons[ordinal]!}: carried (${share.basis})`, sourceIds: standard.sourceIds });
        parts!.constituents.push(constituentResult(standard, covered, carriers, totalPct, 0, 'fail'));
      } else if (covered.length === 0 && carrierCount === 1) countProhibited(counts!, standard.id, tables.carrierLine[tables.standardCarrierHead[slot]!]!);
    }
    checks.ingredient = 'fail';
    if (carrierCount > 0) carriersTake(run, tables.standardCarrierHead[slot]!, 'fail');
    return;
  }
  let verdict: Verdict;
  let limitPct: number | null = null;
  if (limit.kind === 'no_restriction') verdict = 'pass';
  else if (limit.kind === 'not_sourced') {
    verdict = 'unknown';
    gaps.add(table.limitGaps[ordinal]!);
  } else {
    limitPct = limit.pct;
    verdict = judge(totalPct, limit.pct);
  }
  for (const line of covered) line.verdict = worse(line.verdict, verdict);
  if (parts !== null) {
    const against = contributors > 1 ? totalPct : null;
    for (const line of covered) addStandard(line, standardVerdict(standard, limitPct, limit.kind, verdict, excessOf(against ?? line.finishedPct, limitPct), shareOfLimit(line.finishedPct, limitPct), combination));
    // A natural line's part is in `constituents` (its share of the total, and how it was read); the line takes the verdict.
    if (carrierCount > 0) parts.constituents.push(constituentResult(standard, covered, carriers!, totalPct, limitPct, verdict));
  } else if (verdict === 'fail' && contributors === 1) counts!.violations.push({ ingredient: standard.id, type: 'over_limit' });
  if (contributors > 1) {
    if (parts !== null) {
      parts.combinations.push({
        id: standard.id,
        name: standard.name,
        rule: 'total',
        lines: carrierCount === 0 ? lineIndexes(covered) : mergeLines(lineIndexes(covered), carrierIndexes(carriers!)),
        totalPct,
        limitPct,
        verdict,
        excessPct: excessOf(totalPct, limitPct),
        note: carrierCount === 0 ? facts.combinationNote : facts.carriedNote,
        sourceIds: standard.sourceIds,
      });
    } else if (verdict === 'fail') counts!.violations.push({ ingredient: standard.id, type: 'combination' });
    checks.combination = worse(checks.combination, verdict);
  } else {
    checks.concentration = worse(checks.concentration, verdict);
  }
  if (carrierCount > 0) carriersTake(run, tables.standardCarrierHead[slot]!, verdict);
}

function isSpecificationMet(run: CheckRun, line: Line): boolean {
  return run.specificationMet !== null && run.specificationMet.has(line);
}

/** A line an IFRA prohibition fails (by its own Standard, or as the one line carrying the substance): one violation. */
function countProhibited(counts: CheckCounts, standardId: string, line: number): void {
  counts.prohibitedLines.push(line);
  counts.violations.push({ ingredient: standardId, type: 'prohibited' });
}


export type { AllergenResult, CheckRequest, CheckType, CombinationResult, ComplianceResult, ConstituentResult, Exposure, FormulaLine, MaterialResult, SpecificationResult, StandardVerdict, Verdict } from './check-types.ts';
