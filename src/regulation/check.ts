import { ErrorCodes, FaiError } from '../errors/index.ts';
import type { CombinationGroup, EuAllergen, IfraStandard, RegulatoryCatalogue, StandardType } from './catalogue.ts';
import { RINSE_OFF_CATEGORIES } from './categories.ts';

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
export type Verdict = 'pass' | 'warning' | 'unknown' | 'fail';
export type CheckType = 'ingredient' | 'concentration' | 'combination';
export type Exposure = 'leave_on' | 'rinse_off';

/** Share of a limit above which a verdict is a warning (the "> 80% of a limit"). */
export const WARNING_SHARE = 0.8;

export interface FormulaLine {
  /** A CAS number or a name (palette, IFRA or INCI name). */
  readonly material: string;
  /** % (w/w) of the material in the fragrance concentrate. */
  readonly concentrationPct: number;
}

export interface CheckRequest {
  readonly formula: readonly FormulaLine[];
  /** IFRA category id as IFRA writes it: "4", "5A", … */
  readonly category: string;
  /** % (w/w) of the concentrate in the finished product, e.g. 15 for an EDP. */
  readonly dosagePct: number;
  /** Defaults from the category: rinse-off for 7A and 9, leave-on otherwise. */
  readonly exposure?: Exposure | undefined;
  readonly strict?: boolean | undefined;
}

export interface StandardVerdict {
  readonly standardId: string;
  readonly standard: string;
  readonly types: readonly StandardType[];
  readonly amendment: number | null;
  /** Category limit in % of the finished product; null when there is none or it is not sourced. */
  readonly limitPct: number | null;
  readonly limit: 'limit' | 'no_restriction' | 'not_sourced' | 'prohibited' | 'none';
  readonly verdict: Verdict;
  /** This material's finished-product % above the limit (0 when within). */
  readonly excessPct: number;
  /** This material's finished-product % ÷ the limit. */
  readonly shareOfLimit: number | null;
  /** Set when other lines count against the same limit (see `combinations`). */
  readonly combination: string | null;
  readonly sourceIds: readonly string[];
}

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
  readonly status: 'declare' | 'below_threshold' | 'threshold_not_sourced' | 'prohibited';
  readonly notes: readonly string[];
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
  readonly specifications: ReadonlyArray<{ readonly line: number; readonly standard: string; readonly note: string }>;
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

const RANK: Record<Verdict, number> = { pass: 0, warning: 1, unknown: 2, fail: 3 };

export function worse(a: Verdict, b: Verdict): Verdict {
  return RANK[b] > RANK[a] ? b : a;
}

/** Rounds away binary floating-point noise (0.8 × 0.1 = 0.08000000000000002) so boundaries hold exactly. */
function round(value: number): number {
  return Math.round(value * 1e9) / 1e9;
}

// Loops rather than reduce/map with arrow functions: tsx (which runs the service) wraps every
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
  const specifications: Array<{ line: number; standard: string; note: string }> = [];
  const unknownMaterials: Array<{ line: number; input: string }> = [];
  const notAssessed: Array<{ line: number; material: string }> = [];

  // Resolve every line; a material named twice (by name and by CAS, say) is a mistake in the input.
  const lines: Line[] = [];
  const seen = new Map<string, number>();
  const byStandard = new Map<IfraStandard, Line[]>();
  const byAllergen = new Map<EuAllergen, Line[]>();
  for (let index = 0; index < request.formula.length; index++) {
    const entry = request.formula[index]!;
    const resolved = catalogue.resolve(entry.material);
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
    if (resolved === null) {
      line.verdict = 'unknown';
      addNote(line, 'not in the sourced data (IFRA Standards index, EU allergens, materials palette): not assessed');
      unknownMaterials.push({ line: index, input: entry.material });
      checks.ingredient = worse(checks.ingredient, 'unknown');
      continue;
    }
    const first = seen.get(resolved.key);
    if (first !== undefined) {
      throw new FaiError(ErrorCodes.VALIDATION, `formula.${index}.material: "${entry.material}" is ${resolved.name}, already listed at formula.${first}`, {
        field: `formula.${index}.material`,
      });
    }
    seen.set(resolved.key, index);
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
    if (standard.types.has('specification')) {
      for (const line of covered) specifications.push({ line: line.line, standard: standard.name, note: standard.notes || 'IFRA specification: purity or quality criteria apply to the raw material' });
    }
    if (standard.types.has('prohibition')) {
      // A Standard that prohibits some grades or uses and restricts others: the data does not say which this line is.
      // (prohibition + specification prohibits the material; the specification concerns it as an impurity of others.)
      const mixed = standard.types.has('restriction');
      const verdict: Verdict = mixed ? 'unknown' : 'fail';
      for (const line of covered) {
        line.standards.push(standardVerdict(standard, mixed ? null : 0, 'prohibited', verdict, mixed ? 0 : line.finishedPct, null, null));
        line.verdict = worse(line.verdict, verdict);
        if (mixed) addNote(line, `${standard.name}: the Standard is ${types.join(' + ')} for different grades or uses; check which applies`);
        else prohibited.push({ line: line.line, material: line.name!, reason: `IFRA prohibition (${standard.name})`, sourceIds: standard.sourceIds });
      }
      checks.ingredient = worse(checks.ingredient, verdict);
      if (mixed) gaps.add('which part of a mixed prohibition/restriction Standard applies');
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

  // Groups of Standards that count together (e.g. oakmoss + treemoss), when more than one of them is present.
  const evaluated = new Set<CombinationGroup>();
  for (const standard of byStandard.keys()) {
    for (const group of catalogue.groupsOf(standard)) {
      if (evaluated.has(group)) continue;
      evaluated.add(group);
      const members = group.standardIds.map((id) => [...byStandard.keys()].find((s) => s.id === id)).filter((s) => s !== undefined);
      if (members.length < 2) continue;
      const covered = [...new Set(members.flatMap((s) => byStandard.get(s) ?? []))].sort((a, b) => a.line - b.line);
      const totalPct = sumFinishedPct(covered);
      const limit = catalogue.standardById(group.limitFrom)?.limits[category.id] ?? { kind: 'not_sourced' as const };
      const limitPct = limit.kind === 'limit' ? limit.pct : null;
      const verdict: Verdict = limit.kind === 'limit' ? judge(totalPct, limit.pct) : limit.kind === 'no_restriction' ? 'pass' : 'unknown';
      if (verdict === 'unknown') gaps.add(`IFRA category ${category.id} limit of ${group.name}`);
      combinations.push({
        id: group.id,
        name: group.name,
        lines: lineIndexes(covered),
        totalPct,
        limitPct,
        verdict,
        excessPct: limitPct === null ? 0 : round(Math.max(0, totalPct - limitPct)),
        note: group.note,
        sourceIds: group.sourceIds,
      });
      for (const line of covered) line.verdict = worse(line.verdict, verdict);
      checks.combination = worse(checks.combination, verdict);
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
