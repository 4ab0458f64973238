import { ErrorCodes, FaiError } from '../errors/index.ts';
import type { CombinationGroup, IfraStandard, RegulatoryCatalogue } from './catalogue.ts';
import type { ProductCategory } from './categories.ts';
import {
  addNote,
  byLine,
  carrierIndexes,
  constituentResult,
  declared,
  excessOf,
  judge,
  lineIndexes,
  mergeLines,
  NO_CARRIERS,
  NO_NOTES,
  round,
  shareOfLimit,
  standardVerdict,
  sumFinishedPct,
  worse,
  type Carrier,
  type Line,
  type Member,
} from './check-results.ts';
import { judgeAllergens } from './check-allergens.ts';
import { cover, NOT_SOURCED, slotOf, tablesOf } from './check-tables.ts';
import type { AllergenResult, CheckRequest, CheckType, CombinationResult, ComplianceResult, ConstituentResult, Exposure, SpecificationResult, Verdict } from './check-types.ts';
import { resolveFormula } from './formula-lines.ts';
import type { AllergenShare } from './naturals.ts';

/**
 * The compliance check: a formula (materials with their % in the fragrance concentrate), the IFRA
 * product category, the dosage of the concentrate in the finished product and leave-on / rinse-off →
 * per-material verdicts against IFRA Standards, combination ("sum of") limits, EU allergens to
 * declare, and one verdict per check type. Pure: no I/O, no metrics (see record-check.ts).
 *
 * Verdicts, from best to worst: `pass`, `warning` (above WARNING_SHARE of a limit), `unknown` (the
 * material or its limit is not in the sourced data — never treated as allowed), `fail`. In strict
 * mode `unknown` and `warning` fail the check type they belong to.
 */
export { WARNING_SHARE, worse } from './check-results.ts';
/**
 * One sum rule for one category, over the lines of its member Standards; null when fewer than
 * two members are in the formula (a lone member is judged by its own Standard).
 * - total: Σ finished % within the limit of `limitFrom`;
 * - share: Σ (finished % ÷ own limit) within 100 %; a member with no restriction in the category
 *   adds nothing, one with an unsourced limit makes the rule unknown, a prohibited one fails it.
 */
function evaluateGroup(catalogue: RegulatoryCatalogue, group: CombinationGroup, memberOf: (standard: IfraStandard) => Member | undefined, categoryId: string): CombinationResult | null {
  const present: Array<{ standard: IfraStandard; member: Member }> = [];
  for (const standard of catalogue.groupMembers(group)) {
    const member = memberOf(standard);
    if (member !== undefined) present.push({ standard, member });
  }
  if (present.length < 2) return null;
  // The lines that are a member, each once (a line may be two members), and what naturals carry of each member.
  const own: Line[] = [];
  let carriedPct = 0;
  for (const { member } of present) {
    for (const line of member.lines) if (!own.includes(line)) own.push(line);
    carriedPct += member.carriedPct;
  }
  const covered = own.slice();
  for (const { member } of present) for (const { line } of member.carried) if (!covered.includes(line)) covered.push(line);
  covered.sort(byLine);
  let totalPct: number;
  let limitPct: number | null;
  let verdict: Verdict;
  if (group.rule === 'total') {
    let ownPct = 0;
    for (const line of own) ownPct += line.finishedPct;
    totalPct = round(ownPct + carriedPct);
    const limit = catalogue.standardById(group.limitFrom!)?.limits[categoryId] ?? NOT_SOURCED;
    limitPct = limit.kind === 'limit' ? limit.pct : limit.kind === 'prohibited' ? 0 : null;
    verdict = limitPct !== null ? judge(totalPct, limitPct) : limit.kind === 'no_restriction' ? 'pass' : 'unknown';
  } else {
    let share = 0;
    verdict = 'pass';
    for (const { standard, member } of present) {
      const limit = standard.limits[categoryId] ?? NOT_SOURCED;
      if (limit.kind === 'limit') share += (sumFinishedPct(member.lines) + member.carriedPct) / limit.pct;
      else if (limit.kind === 'not_sourced') verdict = worse(verdict, 'unknown');
      else if (limit.kind === 'prohibited') verdict = 'fail';
    }
    totalPct = round(share * 100);
    limitPct = 100;
    verdict = worse(verdict, judge(totalPct, 100));
  }
  // Built field by field: a spread of a shared base costs more than the rest of the group's evaluation.
  return {
    id: group.id,
    name: group.name,
    rule: group.rule,
    lines: lineIndexes(covered),
    note: group.note,
    sourceIds: group.sourceIds,
    totalPct,
    limitPct,
    verdict,
    excessPct: excessOf(totalPct, limitPct),
  };
}

/** The category's use for EU labelling (category-exposure.csv): leave-on, rinse-off, or not a cosmetic product. */
export function defaultExposure(category: ProductCategory): Exposure {
  return category.use;
}

/** Runs the check. Throws FAI_ERR_VALIDATION for an unknown category or a material listed twice. */
export function checkFormula(catalogue: RegulatoryCatalogue, request: CheckRequest): ComplianceResult {
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
  const table = tables.category(category.id);
  const strict = request.strict ?? false;
  const exposure: Exposure = request.exposure ?? defaultExposure(category);
  const checks: Record<CheckType, Verdict> = { ingredient: 'pass', concentration: 'pass', combination: 'pass' };
  const gaps = new Set<string>();
  const prohibited: Array<{ line: number; material: string; reason: string; sourceIds: readonly string[] }> = [];
  const specifications: SpecificationResult[] = [];
  const unmetSpecifications = new Set<Line>();
  const unknownMaterials: Array<{ line: number; input: string }> = [];
  const notAssessed: Array<{ line: number; material: string }> = [];

  // Resolve every line; a material named twice (by name and by CAS, say) is a mistake in the input.
  const lines: Line[] = [];
  const resolvedLines = resolveFormula(catalogue, request.formula);
  const specificationMet = new Set<Line>();
  // The Standards and allergens the formula covers (ordinals, first seen first) and the lines each covers;
  // the tables' slots say where an ordinal's lines are, and are cleared before the check returns.
  const { standardSlot, allergenSlot } = tables;
  const standardOrdinals: number[] = [];
  const standardLines: Line[][] = [];
  const allergenOrdinals: number[] = [];
  const allergenLines: Line[][] = [];
  /** By allergen slot: what natural lines carry of it (only when the formula holds a natural). */
  const carried: Array<Array<{ line: Line; share: AllergenShare }>> = [];
  /** By Standard slot: the natural lines that carry its substance (IFRA's Annex). */
  const carriedStd: Carrier[][] = [];
  /** By Standard slot: the sum of what they carry, % of the finished product. */
  const carriedTotal: number[] = [];
  const constituents: ConstituentResult[] = [];
  const combinations: CombinationResult[] = [];
  const found: AllergenResult[] = [];
  try {
    for (let index = 0; index < request.formula.length; index++) {
      const entry = request.formula[index]!;
      const resolved = resolvedLines[index]!;
      const line: Line = {
        line: index,
        input: entry.material,
        known: resolved !== null,
        name: resolved === null ? null : resolved.name,
        cas: resolved === null ? null : resolved.cas,
        concentrationPct: entry.concentrationPct,
        finishedPct: round((entry.concentrationPct * request.dosagePct) / 100),
        verdict: 'pass',
        standards: [],
        notes: NO_NOTES,
      };
      lines.push(line);
      if (entry.specificationMet === true) specificationMet.add(line);
      if (resolved === null) {
        line.verdict = 'unknown';
        addNote(line, 'not in the sourced data (IFRA Standards index, EU allergens, materials palette): not assessed');
        unknownMaterials.push({ line: index, input: entry.material });
        checks.ingredient = worse(checks.ingredient, 'unknown');
        continue;
      }
      for (const ordinal of resolved.standardOrdinals) cover(standardSlot, standardOrdinals, standardLines, ordinal, line);
      for (const ordinal of resolved.allergenOrdinals) cover(allergenSlot, allergenOrdinals, allergenLines, ordinal, line);
      if (resolved.natural) {
        const natural = tables.naturalOf(resolved);
        line.notes = natural.notes;
        const { allergens, standards } = natural;
        if (allergens === undefined) {
          notAssessed.push({ line: index, material: resolved.name });
          gaps.add(natural.allergenGap);
        } else {
          for (const share of allergens) (carried[slotOf(allergenSlot, allergenOrdinals, allergenLines, share.allergenOrdinal)] ??= []).push({ line, share });
        }
        if (standards === undefined) gaps.add(natural.standardGap);
        else {
          for (const share of standards) {
            // Unrounded: the Standard's total is rounded once; the part a source shows, when it is read.
            const carrier: Carrier = { line, share, pct: (line.finishedPct * share.pct) / 100 };
            (carriedStd[slotOf(standardSlot, standardOrdinals, standardLines, share.standardOrdinal)] ??= []).push(carrier);
          }
        }
      }
      if (resolved.standards.length === 0 && resolved.allergens.length === 0) addNote(line, 'no IFRA Standard in the IFRA Standards index');
    }

    // IFRA Standards: a Standard's limit applies to the sum of every line it covers and of what natural lines carry of it.
    for (let i = 0; i < standardOrdinals.length; i++) {
      const ordinal = standardOrdinals[i]!;
      const covered = standardLines[i]!;
      const carriers = carriedStd[i];
      const facts = tables.standards[ordinal]!;
      const standard = facts.standard;
      let carriedPct = 0;
      if (carriers !== undefined) {
        for (const carrier of carriers) carriedPct += carrier.pct;
      }
      carriedTotal[i] = carriedPct;
      if (facts.specificationNote !== null) {
        for (const line of covered) {
          const met = specificationMet.has(line);
          specifications.push({ line: line.line, standardId: standard.id, standard: standard.name, note: standard.specification!, met, sourceIds: standard.sourceIds });
          addNote(line, facts.specificationNote);
          if (!met) unmetSpecifications.add(line);
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
          if (specificationMet.has(line)) continue;
          undeclared = true;
          line.standards.push(standardVerdict(standard, null, 'grade_not_declared', 'unknown', 0, null, null));
          line.verdict = worse(line.verdict, 'unknown');
          addNote(line, facts.gradeNote);
        }
        if (undeclared) {
          checks.ingredient = worse(checks.ingredient, 'unknown');
          gaps.add(facts.gradeGap);
        }
        if (!facts.restriction) {
          for (const line of covered) if (specificationMet.has(line)) line.standards.push(standardVerdict(standard, null, 'none', 'pass', 0, null, null));
          continue;
        }
      } else if (prohibition !== null) {
        const mixed = prohibition !== 'prohibited';
        const verdict: Verdict = mixed ? 'unknown' : 'fail';
        let judged = carriers !== undefined;
        for (const line of covered) {
          if (standard.sharedCas.length > 0 && line.cas !== null && standard.sharedCas.includes(line.cas)) {
            // On the part that allows the material too (Tagetes oil 8016-84-0): declared as that part, that part's rule
            // judges it; undeclared, it is unknown — never a bare "prohibited".
            const met = specificationMet.has(line);
            line.standards.push(standardVerdict(standard, null, met ? 'none' : 'grade_not_declared', met ? 'pass' : 'unknown', 0, null, null));
            if (met) continue;
            line.verdict = worse(line.verdict, 'unknown');
            addNote(line, facts.sharedNote);
            checks.ingredient = worse(checks.ingredient, 'unknown');
            gaps.add(facts.sharedGap);
            continue;
          }
          judged = true;
          line.standards.push(standardVerdict(standard, mixed ? null : 0, 'prohibited', verdict, mixed ? 0 : line.finishedPct, null, null));
          line.verdict = worse(line.verdict, verdict);
          if (mixed) addNote(line, facts.mixedNote);
          else prohibited.push({ line: line.line, material: line.name!, reason: facts.prohibitionReason, sourceIds: standard.sourceIds });
        }
        if (carriers !== undefined) {
          for (const { line, share } of carriers) {
            line.verdict = worse(line.verdict, verdict);
            if (mixed) addNote(line, facts.mixedNote);
            else prohibited.push({ line: line.line, material: line.name!, reason: `${facts.prohibitionReason}: carried (${share.basis})`, sourceIds: standard.sourceIds });
          }
          constituents.push(constituentResult(standard, covered, carriers, round(sumFinishedPct(covered) + carriedPct), mixed ? null : 0, verdict));
        }
        if (judged) {
          checks.ingredient = worse(checks.ingredient, verdict);
          if (mixed) gaps.add(facts.mixedGap);
        }
        continue;
      }
      if (!facts.restriction) {
        for (const line of covered) line.standards.push(standardVerdict(standard, null, 'none', 'pass', 0, null, null));
        continue;
      }
      const contributors = carriers === undefined ? covered.length : covered.length + carriers.length;
      const totalPct = carriers === undefined ? sumFinishedPct(covered) : round(sumFinishedPct(covered) + carriedPct);
      const combination = contributors > 1 ? standard.id : null;
      let verdict: Verdict;
      let limitPct: number | null = null;
      if (limit.kind === 'prohibited') {
        // The Standard prohibits the material in this category (p-BMHCA in 1 and 6).
        for (const line of covered) {
          line.standards.push(standardVerdict(standard, 0, 'prohibited', 'fail', line.finishedPct, null, null));
          line.verdict = 'fail';
          prohibited.push({ line: line.line, material: line.name!, reason: table.prohibitedReasons[ordinal]!, sourceIds: standard.sourceIds });
        }
        if (carriers !== undefined) {
          for (const { line, share } of carriers) {
            line.verdict = 'fail';
            prohibited.push({ line: line.line, material: line.name!, reason: `${table.prohibitedReasons[ordinal]!}: carried (${share.basis})`, sourceIds: standard.sourceIds });
          }
          constituents.push(constituentResult(standard, covered, carriers, totalPct, 0, 'fail'));
        }
        checks.ingredient = 'fail';
        continue;
      }
      if (limit.kind === 'no_restriction') verdict = 'pass';
      else if (limit.kind === 'not_sourced') {
        verdict = 'unknown';
        gaps.add(table.limitGaps[ordinal]!);
      } else {
        limitPct = limit.pct;
        verdict = judge(totalPct, limit.pct);
      }
      const against = contributors > 1 ? totalPct : null;
      for (const line of covered) {
        line.standards.push(standardVerdict(standard, limitPct, limit.kind, verdict, excessOf(against ?? line.finishedPct, limitPct), shareOfLimit(line.finishedPct, limitPct), combination));
        line.verdict = worse(line.verdict, verdict);
      }
      if (carriers !== undefined) {
        // A natural line's part is in `constituents` (its share of the total, and how it was read); the line takes the verdict.
        for (const { line } of carriers) line.verdict = worse(line.verdict, verdict);
        constituents.push(constituentResult(standard, covered, carriers, totalPct, limitPct, verdict));
      }
      if (contributors > 1) {
        combinations.push({
          id: standard.id,
          name: standard.name,
          rule: 'total',
          lines: carriers === undefined ? lineIndexes(covered) : mergeLines(lineIndexes(covered), carrierIndexes(carriers)),
          totalPct,
          limitPct,
          verdict,
          excessPct: excessOf(totalPct, limitPct),
          note: carriers === undefined ? facts.combinationNote : facts.carriedNote,
          sourceIds: standard.sourceIds,
        });
        checks.combination = worse(checks.combination, verdict);
      } else {
        checks.concentration = worse(checks.concentration, verdict);
      }
    }

    // Sum rules over several Standards (oakmoss + treemoss, MHC + MOC, the furocoumarin oils), when more than one member is present.
    const evaluated = new Set<CombinationGroup>();
    const memberOf = (standard: IfraStandard): Member | undefined => {
      const slot = standardSlot[catalogue.standardOrdinal(standard)]!;
      return slot === -1 ? undefined : { lines: standardLines[slot]!, carried: carriedStd[slot] ?? NO_CARRIERS, carriedPct: carriedTotal[slot]! };
    };
    for (const ordinal of standardOrdinals) {
      for (const group of tables.standards[ordinal]!.groups) {
        if (evaluated.has(group)) continue;
        evaluated.add(group);
        const result = evaluateGroup(catalogue, group, memberOf, category.id);
        if (result === null) continue;
        if (result.verdict === 'unknown') gaps.add(`IFRA category ${category.id} limit of ${group.name}`);
        combinations.push(result);
        for (const index of result.lines) lines[index]!.verdict = worse(lines[index]!.verdict, result.verdict);
        checks.combination = worse(checks.combination, result.verdict);
      }
    }

    // EU allergens: declared when the total in the finished product exceeds the threshold for the exposure.
    judgeAllergens({ tables, table, category, exposure, allergenOrdinals, allergenLines, carried, checks, gaps, prohibited, found });
  } finally {
    for (const ordinal of standardOrdinals) standardSlot[ordinal] = -1;
    for (const ordinal of allergenOrdinals) allergenSlot[ordinal] = -1;
  }

  if (exposure === 'not_cosmetic' && found.length > 0) gaps.add(`allergen labelling of IFRA category ${category.id} products (not a cosmetic product: ${category.useNote})`);
  if (strict) {
    for (const type of Object.keys(checks) as CheckType[]) if (checks[type] === 'unknown' || checks[type] === 'warning') checks[type] = 'fail';
    // A specification the request does not declare met is a warning in strict mode (and only there): the limits may
    // hold while the raw material's certificate is still to be seen.
    for (const line of unmetSpecifications) {
      line.verdict = worse(line.verdict, 'warning');
      checks.ingredient = worse(checks.ingredient, 'warning');
    }
  }
  const verdict = worse(worse(checks.ingredient, checks.concentration), checks.combination);
  return {
    verdict,
    strict,
    category: category.id,
    dosagePct: request.dosagePct,
    exposure,
    checks,
    materials: lines,
    prohibited,
    combinations,
    constituents,
    specifications,
    allergens: { declare: declared(found), found, notAssessed },
    unknownMaterials,
    gaps: [...gaps],
  };
}

export type { AllergenResult, CheckRequest, CheckType, CombinationResult, ComplianceResult, ConstituentResult, Exposure, FormulaLine, MaterialResult, SpecificationResult, StandardVerdict, Verdict } from './check-types.ts';
