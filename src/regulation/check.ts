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
/** What the first run does not keep (it never reads it). */
const NOT_KEPT = Object.freeze([]) as unknown as never[];

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

  // Resolve every line; a material named twice (by name and by CAS, say) is a mistake in the input.
  const formula = request.formula;
  const resolved = resolveFormula(catalogue, formula);
  // A plain array, not a Float64Array: V8 keeps its numbers unboxed all the same, and makes it several times faster.
  const finished: number[] = [];
  const verdicts: Verdict[] = [];
  let met: Uint8Array | null = null;
  for (let index = 0; index < formula.length; index++) {
    const entry = formula[index]!;
    const material = resolved[index]!;
    finished.push(round((entry.concentrationPct * request.dosagePct) / 100));
    verdicts.push('pass');
    if (entry.specificationMet === true) (met ??= new Uint8Array(formula.length))[index] = 1;
    if (material === null) {
      verdicts[index] = 'unknown';
      unknownMaterials.push({ line: index, input: entry.material });
      checks.ingredient = worse(checks.ingredient, 'unknown');
      continue;
    }
    if (material.natural) {
      const natural = tables.naturalOf(material);
      if (natural.allergens === undefined) gaps.add(natural.allergenGap);
      if (natural.standards === undefined) gaps.add(natural.standardGap);
    }
  }

  const run: CheckRun = { catalogue, category, tables, table: tables.category(category.id), exposure, request, resolved, finished, verdicts, met };
  const decision: Decision = { checks, gaps, unmetSpecifications: [], counts: { violations: [], declared: [], prohibitedAllergens: [], prohibitedLines: [] } };
  assess(run, decision, null);
  if (strict) {
    for (const type of Object.keys(checks) as CheckType[]) if (checks[type] === 'unknown' || checks[type] === 'warning') checks[type] = 'fail';
    // A specification the request does not declare met is a warning in strict mode (and only there): the limits may
    // hold while the raw material's certificate is still to be seen.
    for (const index of decision.unmetSpecifications) {
      verdicts[index] = worse(verdicts[index]!, 'warning');
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
    unknownMaterials,
    gaps: gaps.list,
    counts: decision.counts!,
    describe: () => describe(run),
  });
}

/**
 * The second run: the answer's lines (with the verdicts the first run left, and the notes their
 * materials get) and its parts, the rules applied again (what they decide is known already, and is
 * thrown away).
 */
function describe(run: CheckRun): Parts {
  const { request, resolved, finished, verdicts, tables } = run;
  const materials: Line[] = [];
  const notAssessed: Array<{ line: number; material: string }> = [];
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
      finishedPct: finished[index]!,
      verdict: verdicts[index]!,
      standards: NO_STANDARDS,
      notes: NO_NOTES,
    };
    materials.push(line);
    if (material === null) line.notes = NOT_IN_THE_DATA;
    else {
      if (material.natural) {
        const natural = tables.naturalOf(material);
        line.notes = natural.notes;
        if (natural.allergens === undefined) notAssessed.push({ line: index, material: material.name });
      }
      if (material.standards.length === 0 && material.allergens.length === 0) addNote(line, NO_STANDARD_NOTE);
    }
  }
  const parts = emptyParts(materials, notAssessed);
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
  const { tables, resolved, finished } = run;
  const { standardSlot, allergenSlot, standardCarried, standardCarriers, allergenCarried, allergenCarriedLow, allergenCarriers, standardCarrierHead, allergenCarrierHead } = tables;
  // The Standards and allergens the formula covers (ordinals, first seen first) and the lines each covers;
  // the tables' slots say where an ordinal's lines are, and are cleared before the run returns.
  // The natural lines carrying each slot's substance, as objects: for the second run only.
  const carriedStd: Covers['carriedStd'] = parts === null ? NOT_KEPT : [];
  const carried: Covers['carried'] = parts === null ? NOT_KEPT : [];
  const covers: Covers = { standardOrdinals: tables.standardOrdinalAt, standardLines: [], allergenOrdinals: tables.allergenOrdinalAt, allergenLines: [], carriedStd, carried };
  const { standardOrdinals, standardLines, allergenOrdinals, allergenLines } = covers;
  try {
    let entry = 0;
    for (let index = 0; index < resolved.length; index++) {
      const material = resolved[index]!;
      if (material === null) continue;
      for (const ordinal of material.standardOrdinals) cover(standardSlot, standardOrdinals, standardLines, ordinal, index);
      for (const ordinal of material.allergenOrdinals) cover(allergenSlot, allergenOrdinals, allergenLines, ordinal, index);
      if (!material.natural) continue;
      const { allergens, standards } = tables.naturalOf(material);
      const finishedPct = finished[index]!;
      if (allergens !== undefined) {
        for (const share of allergens) {
          const slot = slotOf(allergenSlot, allergenOrdinals, allergenLines, share.allergenOrdinal);
          allergenCarried[slot]! += round((finishedPct * share.pct) / 100);
          allergenCarriedLow[slot]! += (finishedPct * share.lowPct) / 100;
          allergenCarriers[slot]!++;
          entry = tables.addCarrier(allergenCarrierHead, slot, index, entry);
          if (parts !== null) (carried[slot] ??= []).push({ line: parts.materials[index]!, share });
        }
      }
      if (standards !== undefined) {
        for (const share of standards) {
          const slot = slotOf(standardSlot, standardOrdinals, standardLines, share.standardOrdinal);
          // Unrounded: the Standard's total is rounded once; the part a source shows, when it is read.
          const pct = (finishedPct * share.pct) / 100;
          standardCarried[slot]! += pct;
          standardCarriers[slot]!++;
          entry = tables.addCarrier(standardCarrierHead, slot, index, entry);
          if (parts !== null) (carriedStd[slot] ??= []).push({ line: parts.materials[index]!, share, pct });
        }
      }
    }
    for (let slot = 0; slot < standardLines.length; slot++) judgeStandard(run, decision, parts, covers, slot);
    judgeGroups(run, decision, parts, covers);
    judgeAllergens(run, decision, parts, covers);
  } finally {
    // Loops rather than fill(): for the few slots a check uses, each fill() call cost more than its work.
    for (let slot = 0; slot < standardLines.length; slot++) {
      standardSlot[standardOrdinals[slot]!] = -1;
      standardCarried[slot] = 0;
      standardCarriers[slot] = 0;
      standardCarrierHead[slot] = -1;
    }
    for (let slot = 0; slot < allergenLines.length; slot++) {
      allergenSlot[allergenOrdinals[slot]!] = -1;
      allergenCarried[slot] = 0;
      allergenCarriedLow[slot] = 0;
      allergenCarriers[slot] = 0;
      allergenCarrierHead[slot] = -1;
    }
  }
  if (run.exposure === 'not_cosmetic' && allergenLines.length > 0) {
    decision.gaps.add(run.table.notCosmeticGap);
  }
}

/**
 * One IFRA Standard: its limit applies to the sum of every line it covers and of what natural lines
 * carry of it; the lines that are it and the natural lines carrying it take its verdict.
 */
function judgeStandard(run: CheckRun, decision: Decision, parts: Parts | null, covers: Covers, slot: number): void {
  const { tables, table, finished, verdicts, resolved } = run;
  const { checks, gaps, counts } = decision;
  const ordinal = covers.standardOrdinals[slot]!;
  /** The lines that are the Standard (indexes). */
  const covered = covers.standardLines[slot]!;
  const carrierCount = tables.standardCarriers[slot]!;
  const carriedPct = tables.standardCarried[slot]!;
  // Built by the second run only: the answer's lines, and the natural ones carrying the substance.
  const materials = parts === null ? undefined : parts.materials;
  const carriers = parts === null ? undefined : (covers.carriedStd[slot] ?? NO_CARRIERS);
  const facts = tables.standards[ordinal]!;
  const standard = facts.standard;
  if (facts.specificationNote !== null) {
    for (const index of covered) {
      const isMet = isSpecificationMet(run, index);
      if (materials !== undefined) {
        parts!.specifications.push({ line: index, standardId: standard.id, standard: standard.name, note: standard.specification!, met: isMet, sourceIds: standard.sourceIds });
        addNote(materials[index]!, facts.specificationNote);
      }
      if (!isMet) decision.unmetSpecifications.push(index);
    }
  }
  const limit = table.limits[ordinal]!;
  const unapplied = table.unappliedRules[ordinal]!;
  if (unapplied.length > 0) for (const text of unapplied) gaps.add(text);
  // A prohibition applied by sourced limits falls through to the restriction below (its grade condition is a specification, above).
  const prohibition = facts.prohibition;
  if (prohibition === 'grade') {
    // The prohibited grade: a line that does not declare the specified grade is unknown, never a bare "prohibited"; one
    // that does is judged by the Standard's restriction, if it has one (styrax), and passes it otherwise (rectified cade oil).
    let undeclared = false;
    for (const index of covered) {
      if (isSpecificationMet(run, index)) continue;
      undeclared = true;
      verdicts[index] = worse(verdicts[index]!, 'unknown');
      if (materials !== undefined) {
        addStandard(materials[index]!, standardVerdict(standard, null, 'grade_not_declared', 'unknown', 0, null, null));
        addNote(materials[index]!, facts.gradeNote);
      }
    }
    if (undeclared) {
      checks.ingredient = worse(checks.ingredient, 'unknown');
      gaps.add(facts.gradeGap);
    }
    if (!facts.restriction) {
      if (materials !== undefined) for (const index of covered) if (isSpecificationMet(run, index)) addStandard(materials[index]!, standardVerdict(standard, null, 'none', 'pass', 0, null, null));
      return;
    }
  } else if (prohibition !== null) {
    const mixed = prohibition !== 'prohibited';
    const verdict: Verdict = mixed ? 'unknown' : 'fail';
    let judged = carrierCount > 0;
    for (const index of covered) {
      const cas = resolved[index]!.cas;
      if (standard.sharedCas.length > 0 && cas !== null && standard.sharedCas.includes(cas)) {
        // On the part that allows the material too (Tagetes oil 8016-84-0): declared as that part, that part's rule
        // judges it; undeclared, it is unknown — never a bare "prohibited".
        const isMet = isSpecificationMet(run, index);
        if (materials !== undefined) addStandard(materials[index]!, standardVerdict(standard, null, isMet ? 'none' : 'grade_not_declared', isMet ? 'pass' : 'unknown', 0, null, null));
        if (isMet) continue;
        verdicts[index] = worse(verdicts[index]!, 'unknown');
        if (materials !== undefined) addNote(materials[index]!, facts.sharedNote);
        checks.ingredient = worse(checks.ingredient, 'unknown');
        gaps.add(facts.sharedGap);
        continue;
      }
      judged = true;
      verdicts[index] = worse(verdicts[index]!, verdict);
      if (materials !== undefined) {
        const line = materials[index]!;
        addStandard(line, standardVerdict(standard, mixed ? null : 0, 'prohibited', verdict, mixed ? 0 : line.finishedPct, null, null));
        if (mixed) addNote(line, facts.mixedNote);
        else parts!.prohibited.push({ line: index, material: line.name!, reason: facts.prohibitionReason, sourceIds: standard.sourceIds });
      } else if (!mixed) countProhibited(counts!, standard.id, index);
    }
    if (carrierCount > 0) {
      if (materials !== undefined) {
        for (const { line, share } of carriers!) {
          if (mixed) addNote(line, facts.mixedNote);
          else parts!.prohibited.push({ line: line.line, material: line.name!, reason: `${facts.prohibitionReason}: carried (${share.basis})`, sourceIds: standard.sourceIds });
        }
        parts!.constituents.push(constituentResult(standard, linesAt(materials, covered), carriers!, round(sumFinishedPct(finished, covered) + carriedPct), mixed ? null : 0, verdict));
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
    if (materials !== undefined) for (const index of covered) addStandard(materials[index]!, standardVerdict(standard, null, 'none', 'pass', 0, null, null));
    return;
  }
  const contributors = covered.length + carrierCount;
  const totalPct = carrierCount === 0 ? sumFinishedPct(finished, covered) : round(sumFinishedPct(finished, covered) + carriedPct);
  const combination = contributors > 1 ? standard.id : null;
  if (limit.kind === 'prohibited') {
    // The Standard prohibits the material in this category (p-BMHCA in 1 and 6).
    for (const index of covered) {
      verdicts[index] = 'fail';
      if (materials !== undefined) {
        const line = materials[index]!;
        addStandard(line, standardVerdict(standard, 0, 'prohibited', 'fail', line.finishedPct, null, null));
        parts!.prohibited.push({ line: index, material: line.name!, reason: table.prohibitedReasons[ordinal]!, sourceIds: standard.sourceIds });
      } else countProhibited(counts!, standard.id, index);
    }
    if (carrierCount > 0) {
      if (materials !== undefined) {
        for (const { line, share } of carriers!) parts!.prohibited.push({ line: line.line, material: line.name!, reason: `${table.prohibitedReasons[ordinal]!}: carried (${share.basis})`, sourceIds: standard.sourceIds });
        parts!.constituents.push(constituentResult(standard, linesAt(materials, covered), carriers!, totalPct, 0, 'fail'));
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
  if (verdict !== 'pass') for (const index of covered) verdicts[index] = worse(verdicts[index]!, verdict);
  if (materials !== undefined) {
    const against = contributors > 1 ? totalPct : null;
    for (const index of covered) {
      const line = materials[index]!;
      addStandard(line, standardVerdict(standard, limitPct, limit.kind, verdict, excessOf(against ?? line.finishedPct, limitPct), shareOfLimit(line.finishedPct, limitPct), combination));
    }
    // A natural line's part is in `constituents` (its share of the total, and how it was read); the line takes the verdict.
    if (carrierCount > 0) parts!.constituents.push(constituentResult(standard, linesAt(materials, covered), carriers!, totalPct, limitPct, verdict));
  } else if (verdict === 'fail' && contributors === 1) counts!.violations.push({ ingredient: standard.id, type: 'over_limit' });
  if (contributors > 1) {
    if (materials !== undefined) {
      parts!.combinations.push({
        id: standard.id,
        name: standard.name,
        rule: 'total',
        lines: carrierCount === 0 ? covered.slice() : mergeLines(covered, carrierIndexes(carriers!)),
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

function isSpecificationMet(run: CheckRun, index: number): boolean {
  return run.met !== null && run.met[index] === 1;
}

/** The answer's lines at these indexes. */
function linesAt(materials: readonly Line[], indexes: readonly number[]): Line[] {
  const lines: Line[] = [];
  for (const index of indexes) lines.push(materials[index]!);
  return lines;
}

/** A line an IFRA prohibition fails (by its own Standard, or as the one line carrying the substance): one violation. */
function countProhibited(counts: CheckCounts, standardId: string, line: number): void {
  counts.prohibitedLines.push(line);
  counts.violations.push({ ingredient: standardId, type: 'prohibited' });
}


export type { AllergenResult, CheckRequest, CheckType, CombinationResult, ComplianceResult, ConstituentResult, Exposure, FormulaLine, MaterialResult, SpecificationResult, StandardVerdict, Verdict } from './check-types.ts';
