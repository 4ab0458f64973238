import { ErrorCodes, FaiError } from '../errors/index.ts';
import { prohibitionOf, type CombinationGroup, type EuAllergen, type IfraStandard, type RegulatoryCatalogue } from './catalogue.ts';
import type { AllergenResult, CheckRequest, CheckType, CombinationResult, ComplianceResult, Exposure, MaterialResult, SpecificationResult, StandardVerdict, Verdict } from './check-types.ts';
import { RINSE_OFF_CATEGORIES } from './categories.ts';
import { resolveFormula } from './formula-lines.ts';

/**
 * The compliance check: a formula (materials with their % in the fragrance
 * concentrate), the IFRA product category, the dosage of the concentrate in the
 * finished product and leave-on / rinse-off → per-material verdicts against IFRA
 * Standards, combination ("sum of") limits, EU allergens to declare, and one
 * verdict per check type. Pure: no I/O, no metrics (see record-check.ts).
 *
 * Verdicts, from best to worst: `pass`, `warning` (above WARNING_SHARE of a
 * limit), `unknown` (the material or its limit is not in the sourced data —
 * never treated as allowed), `fail`. In strict mode `unknown` and `warning`
 * fail the check type they belong to.
 */
/** Share of a limit above which a verdict is a warning (the "> 80% of a limit"). */
export const WARNING_SHARE = 0.8;

const RANK: Record<Verdict, number> = { pass: 0, warning: 1, unknown: 2, fail: 3 };

export function worse(a: Verdict, b: Verdict): Verdict {
  return RANK[b] > RANK[a] ? b : a;
}

/** Rounds away binary floating-point noise (0.8 × 0.1 = 0.08000000000000002) so boundaries hold exactly. */
function round(value: number): number {
  return Math.round(value * 1e9) / 1e9;
}

// Loops rather than reduce/map with arrow functions: tsx (which runs the tests and benchmarks) wraps every
// function expression to keep its name, so a closure per item costs more than the work it does.
function sumFinishedPct(lines: readonly Line[]): number {
  let total = 0;
  for (const line of lines) total += line.finishedPct;
  return round(total);
}

function lineIndexes(lines: readonly Line[]): number[] {
  const indexes: number[] = [];
  for (const line of lines) indexes.push(line.line);
  return indexes;
}

function judge(totalPct: number, limitPct: number): Verdict {
  if (totalPct > limitPct) return 'fail';
  if (totalPct > round(WARNING_SHARE * limitPct)) return 'warning';
  return 'pass';
}

/** A formula line while it is checked: the MaterialResult that is returned (no copy), with its lists still growing. */
type Line = Omit<MaterialResult, 'verdict' | 'standards' | 'notes'> & { verdict: Verdict; standards: StandardVerdict[]; notes: string[] };

// Most lines carry no note; they share one frozen empty list until they get one.
const NO_NOTES: string[] = Object.freeze([]) as unknown as string[];

function addNote(line: Line, note: string): void {
  if (line.notes === NO_NOTES) line.notes = [note];
  else line.notes.push(note);
}

// Built field by field: object spread into a literal is several times slower in V8 on this hot path.
function standardVerdict(
  standard: IfraStandard,
  limitPct: number | null,
  limit: StandardVerdict['limit'],
  verdict: Verdict,
  excessPct: number,
  shareOfLimit: number | null,
  combination: string | null,
): StandardVerdict {
  return {
    standardId: standard.id,
    standard: standard.name,
    types: standard.typeList,
    amendment: standard.amendment,
    limitPct,
    limit,
    verdict,
    excessPct,
    shareOfLimit,
    combination,
    sourceIds: standard.sourceIds,
  };
}

const limitGaps = new WeakMap<IfraStandard, Map<string, string>>();

/** "IFRA category 4 limit of Coumarin", built once per Standard and category. */
function limitGap(standard: IfraStandard, categoryId: string): string {
  let byCategory = limitGaps.get(standard);
  if (byCategory === undefined) limitGaps.set(standard, (byCategory = new Map()));
  let text = byCategory.get(categoryId);
  if (text === undefined) byCategory.set(categoryId, (text = `IFRA category ${categoryId} limit of ${standard.name}`));
  return text;
}

function declared(found: readonly AllergenResult[]): AllergenResult[] {
  const out: AllergenResult[] = [];
  for (const allergen of found) if (allergen.status === 'declare') out.push(allergen);
  return out;
}

function allergenResult(allergen: EuAllergen, covered: readonly Line[], totalPct: number, thresholdPct: number | null, status: AllergenResult['status']): AllergenResult {
  return {
    id: allergen.id,
    labelName: allergen.labelName,
    entry: allergen.entry,
    lines: lineIndexes(covered),
    totalPct,
    thresholdPct,
    status,
    notes: allergen.notes,
    sourceIds: allergen.sourceIds,
  };
}

/**
 * One sum rule for one category, over the lines of its member Standards; null when fewer than
 * two members are in the formula (a lone member is judged by its own Standard).
 * - total: Σ finished % within the limit of `limitFrom`;
 * - share: Σ (finished % ÷ own limit) within 100 %; a member with no restriction in the category
 *   adds nothing, one with an unsourced limit makes the rule unknown, a prohibited one fails it.
 */
function evaluateGroup(catalogue: RegulatoryCatalogue, group: CombinationGroup, byStandard: ReadonlyMap<IfraStandard, readonly Line[]>, categoryId: string): CombinationResult | null {
  const members: Array<[IfraStandard, readonly Line[]]> = [];
  for (const id of group.standardIds) {
    const standard = catalogue.standardById(id);
    const covered = standard === undefined ? undefined : byStandard.get(standard);
    if (standard !== undefined && covered !== undefined) members.push([standard, covered]);
  }
  if (members.length < 2) return null;
  const covered = [...new Set(members.flatMap(([, lines]) => lines))].sort((a, b) => a.line - b.line);
  const base = { id: group.id, name: group.name, rule: group.rule, lines: lineIndexes(covered), note: group.note, sourceIds: group.sourceIds };
  if (group.rule === 'total') {
    const totalPct = sumFinishedPct(covered);
    const limit = catalogue.standardById(group.limitFrom!)?.limits[categoryId] ?? { kind: 'not_sourced' as const };
    const limitPct = limit.kind === 'limit' ? limit.pct : limit.kind === 'prohibited' ? 0 : null;
    const verdict: Verdict = limitPct !== null ? judge(totalPct, limitPct) : limit.kind === 'no_restriction' ? 'pass' : 'unknown';
    return { ...base, totalPct, limitPct, verdict, excessPct: limitPct === null ? 0 : round(Math.max(0, totalPct - limitPct)) };
  }
  let share = 0;
  let verdict: Verdict = 'pass';
  for (const [standard, lines] of members) {
    const limit = standard.limits[categoryId] ?? { kind: 'not_sourced' as const };
    if (limit.kind === 'limit') share += sumFinishedPct(lines) / limit.pct;
    else if (limit.kind === 'not_sourced') verdict = worse(verdict, 'unknown');
    else if (limit.kind === 'prohibited') verdict = 'fail';
  }
  const totalPct = round(share * 100);
  verdict = worse(verdict, judge(totalPct, 100));
  return { ...base, totalPct, limitPct: 100, verdict, excessPct: round(Math.max(0, totalPct - 100)) };
}

export function defaultExposure(category: string): Exposure {
  return RINSE_OFF_CATEGORIES.has(category) ? 'rinse_off' : 'leave_on';
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
  const strict = request.strict ?? false;
  const exposure = request.exposure ?? defaultExposure(category.id);
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
  const byStandard = new Map<IfraStandard, Line[]>();
  const byAllergen = new Map<EuAllergen, Line[]>();
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
    for (const standard of resolved.standards) {
      const covered = byStandard.get(standard);
      if (covered === undefined) byStandard.set(standard, [line]);
      else covered.push(line);
    }
    for (const allergen of resolved.allergens) {
      const covered = byAllergen.get(allergen);
      if (covered === undefined) byAllergen.set(allergen, [line]);
      else covered.push(line);
    }
    if (resolved.natural) {
      notAssessed.push({ line: index, material: resolved.name });
      addNote(line, 'natural material: the allergens it contains are not sourced, so they are not counted');
      gaps.add('composition of natural materials (their allergen content) is not sourced');
    }
    if (resolved.standards.length === 0 && resolved.allergens.length === 0) addNote(line, 'no IFRA Standard in the IFRA Standards index');
  }

  // IFRA Standards: a Standard's limit applies to the sum of every line it covers.
  const combinations: CombinationResult[] = [];
  for (const [standard, covered] of byStandard) {
    const types = standard.typeList;
    if (standard.specification !== null) {
      for (const line of covered) {
        const met = specificationMet.has(line);
        specifications.push({ line: line.line, standardId: standard.id, standard: standard.name, note: standard.specification, met, sourceIds: standard.sourceIds });
        addNote(line, `specification (${standard.name}): the raw material's certificate must show: ${standard.specification}`);
        if (!met) unmetSpecifications.add(line);
      }
    }
    const relevantLimit = standard.limits[category.id];
    if (relevantLimit === undefined || relevantLimit.kind !== 'no_restriction') {
      for (const rule of catalogue.unappliedRulesOf(standard)) gaps.add(rule.text);
    }
    // A prohibition applied by sourced limits falls through to the restriction below (its grade condition is a specification, above).
    const prohibition = prohibitionOf(standard);
    if (prohibition !== null) {
      const mixed = prohibition === 'limits_not_sourced';
      const verdict: Verdict = mixed ? 'unknown' : 'fail';
      for (const line of covered) {
        line.standards.push(standardVerdict(standard, mixed ? null : 0, 'prohibited', verdict, mixed ? 0 : line.finishedPct, null, null));
        line.verdict = worse(line.verdict, verdict);
        if (mixed) addNote(line, `${standard.name}: the Standard is ${types.join(' + ')} for different grades or uses, and its limits are not sourced`);
        else prohibited.push({ line: line.line, material: line.name!, reason: `IFRA prohibition (${standard.name})`, sourceIds: standard.sourceIds });
      }
      checks.ingredient = worse(checks.ingredient, verdict);
      if (mixed) gaps.add(`limits of ${standard.name} (a prohibition + restriction Standard)`);
      continue;
    }
    if (!standard.types.has('restriction')) {
      for (const line of covered) line.standards.push(standardVerdict(standard, null, 'none', 'pass', 0, null, null));
      continue;
    }
    const limit = standard.limits[category.id] ?? { kind: 'not_sourced' as const };
    const totalPct = sumFinishedPct(covered);
    const combination = covered.length > 1 ? standard.id : null;
    let verdict: Verdict;
    let limitPct: number | null = null;
    if (limit.kind === 'prohibited') {
      // The Standard prohibits the material in this category (p-BMHCA in 1 and 6).
      for (const line of covered) {
        line.standards.push(standardVerdict(standard, 0, 'prohibited', 'fail', line.finishedPct, null, null));
        line.verdict = 'fail';
        prohibited.push({ line: line.line, material: line.name!, reason: `IFRA prohibits ${standard.name} in category ${category.id}`, sourceIds: standard.sourceIds });
      }
      checks.ingredient = 'fail';
      continue;
    }
    if (limit.kind === 'no_restriction') verdict = 'pass';
    else if (limit.kind === 'not_sourced') {
      verdict = 'unknown';
      gaps.add(limitGap(standard, category.id));
    } else {
      limitPct = limit.pct;
      verdict = judge(totalPct, limit.pct);
    }
    for (const line of covered) {
      line.standards.push(
        standardVerdict(
          standard,
          limitPct,
          limit.kind,
          verdict,
          limitPct === null ? 0 : round(Math.max(0, (covered.length > 1 ? totalPct : line.finishedPct) - limitPct)),
          limitPct === null || limitPct === 0 ? null : round(line.finishedPct / limitPct),
          combination,
        ),
      );
      line.verdict = worse(line.verdict, verdict);
    }
    if (covered.length > 1) {
      combinations.push({
        id: standard.id,
        name: standard.name,
        rule: 'total',
        lines: lineIndexes(covered),
        totalPct,
        limitPct,
        verdict,
        excessPct: limitPct === null ? 0 : round(Math.max(0, totalPct - limitPct)),
        note: `the ${standard.name} Standard limits the sum of the materials it covers`,
        sourceIds: standard.sourceIds,
      });
      checks.combination = worse(checks.combination, verdict);
    } else {
      checks.concentration = worse(checks.concentration, verdict);
    }
  }

  // Sum rules over several Standards (oakmoss + treemoss, MHC + MOC, the furocoumarin oils), when more than one member is present.
  const evaluated = new Set<CombinationGroup>();
  for (const standard of byStandard.keys()) {
    for (const group of catalogue.groupsOf(standard)) {
      if (evaluated.has(group)) continue;
      evaluated.add(group);
      const result = evaluateGroup(catalogue, group, byStandard, category.id);
      if (result === null) continue;
      if (result.verdict === 'unknown') gaps.add(`IFRA category ${category.id} limit of ${group.name}`);
      combinations.push(result);
      for (const index of result.lines) lines[index]!.verdict = worse(lines[index]!.verdict, result.verdict);
      checks.combination = worse(checks.combination, result.verdict);
    }
  }

  // EU allergens: declared when the total in the finished product exceeds the threshold for the exposure.
  const found: AllergenResult[] = [];
  for (const [allergen, covered] of byAllergen) {
    const totalPct = sumFinishedPct(covered);
    if (allergen.annex === 'annex_ii') {
      found.push(allergenResult(allergen, covered, totalPct, 0, 'prohibited'));
      for (const line of covered) {
        line.verdict = 'fail';
        prohibited.push({ line: line.line, material: line.name!, reason: `EU Regulation 1223/2009 Annex II (${allergen.labelName})`, sourceIds: allergen.sourceIds });
      }
      checks.ingredient = 'fail';
      continue;
    }
    const thresholdPct = exposure === 'leave_on' ? allergen.leaveOnThresholdPct : allergen.rinseOffThresholdPct;
    if (thresholdPct === null) {
      gaps.add(`EU labelling threshold of ${allergen.labelName}`);
      found.push(allergenResult(allergen, covered, totalPct, thresholdPct, 'threshold_not_sourced'));
    } else {
      // The Regulation requires labelling when the concentration *exceeds* the threshold.
      found.push(allergenResult(allergen, covered, totalPct, thresholdPct, totalPct > thresholdPct ? 'declare' : 'below_threshold'));
    }
  }

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
    specifications,
    allergens: { declare: declared(found), found, notAssessed },
    unknownMaterials,
    gaps: [...gaps],
  };
}

export type { AllergenResult, CheckRequest, CheckType, CombinationResult, ComplianceResult, Exposure, FormulaLine, MaterialResult, SpecificationResult, StandardVerdict, Verdict } from './check-types.ts';
