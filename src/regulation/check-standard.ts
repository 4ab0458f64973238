import {
  addNote,
  addStandard,
  carrierIndexes,
  constituentResult,
  excessOf,
  judge,
  mergeLines,
  NO_CARRIERS,
  round,
  shareOfLimit,
  standardVerdict,
  sumFinishedPct,
  worse,
  type Line,
} from './check-results.ts';
import { carriersTake, type CheckCounts, type CheckRun, type Covers, type Decision, type Parts } from './check-run.ts';
import type { Verdict } from './check-types.ts';

/**
 * One IFRA Standard's rule, as the check's assess() applies it to each Standard a formula covers (beside
 * the sum rules, check-groups.ts, and the allergens, check-allergens.ts).
 *
 * One IFRA Standard: its limit applies to the sum of every line it covers and of what natural lines
 * carry of it; the lines that are it and the natural lines carrying it take its verdict.
 */
export function judgeStandard(run: CheckRun, decision: Decision, parts: Parts | null, covers: Covers, slot: number): void {
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
