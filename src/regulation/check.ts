import { ErrorCodes, FaiError } from '../errors/index.ts';
import type { RegulatoryCatalogue } from './catalogue.ts';
import type { ProductCategory } from './categories.ts';
import { addNote, NO_NOTES, NO_STANDARDS, round, worse, type Line } from './check-results.ts';
import { judgeAllergens } from './check-allergens.ts';
import { judgeGroups } from './check-groups.ts';
import { judgeStandard } from './check-standard.ts';
import { CheckAnswer } from './check-answer.ts';
import { emptyParts, GapList, type CheckRun, type Covers, type Decision, type Parts } from './check-run.ts';
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

export type { AllergenResult, CheckRequest, CheckType, CombinationResult, ComplianceResult, ConstituentResult, Exposure, FormulaLine, MaterialResult, SpecificationResult, StandardVerdict, Verdict } from './check-types.ts';
