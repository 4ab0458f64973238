import type { CombinationGroup, IfraStandard } from './catalogue.ts';
import { excessOf, judge, round, sumFinishedPct, worse, type Member } from './check-results.ts';
import type { CheckRun, Covers, Decision, Parts } from './check-run.ts';
import { NOT_SOURCED } from './check-tables.ts';
import type { CombinationResult, Verdict } from './check-types.ts';

/** Sum rules over several Standards (oakmoss + treemoss, MHC + MOC, the furocoumarin oils), when more than one member is present. */
export function judgeGroups(run: CheckRun, decision: Decision, parts: Parts | null, covers: Covers): void {
  const { tables, category, verdicts } = run;
  let evaluated: CombinationGroup[] | undefined;
  for (let slot = 0; slot < covers.standardLines.length; slot++) {
    for (const group of tables.standards[covers.standardOrdinals[slot]!]!.groups) {
      if (evaluated?.includes(group)) continue;
      (evaluated ??= []).push(group);
      const result = evaluateGroup(run, covers, group);
      if (result === null) continue;
      if (result.verdict === 'unknown') decision.gaps.add(`IFRA category ${category.id} limit of ${group.name}`);
      if (parts !== null) parts.combinations.push(result);
      else if (result.verdict === 'fail') decision.counts!.violations.push({ ingredient: result.id, type: 'combination' });
      for (const index of result.lines) verdicts[index] = worse(verdicts[index]!, result.verdict);
      decision.checks.combination = worse(decision.checks.combination, result.verdict);
    }
  }
}

/** A sum rule's member as it counts: the lines that are it, and the natural lines carrying it with their total. */
function memberAt(run: CheckRun, covers: Covers, slot: number): Member {
  const { carrierLine, carrierNext } = run.tables;
  const carriers: number[] = [];
  for (let entry = run.tables.standardCarrierHead[slot]!; entry !== -1; entry = carrierNext[entry]!) carriers.push(carrierLine[entry]!);
  return { lines: covers.standardLines[slot]!, carriers, carriedPct: run.tables.standardCarried[slot]! };
}

/**
 * One sum rule for one category, over the lines of its member Standards; null when fewer than
 * two members are in the formula (a lone member is judged by its own Standard).
 * - total: Σ finished % within the limit of `limitFrom`;
 * - share: Σ (finished % ÷ own limit) within 100 %; a member with no restriction in the category
 *   adds nothing, one with an unsourced limit makes the rule unknown, a prohibited one fails it.
 */
function evaluateGroup(run: CheckRun, covers: Covers, group: CombinationGroup): CombinationResult | null {
  const { catalogue, tables } = run;
  const categoryId = run.category.id;
  const ordinals = tables.groupOrdinals(group);
  let count = 0;
  for (const ordinal of ordinals) if (tables.standardSlot[ordinal] !== -1) count++;
  if (count < 2) return null;
  const present: Array<{ standard: IfraStandard; member: Member }> = [];
  for (const ordinal of ordinals) {
    const slot = tables.standardSlot[ordinal]!;
    if (slot !== -1) present.push({ standard: tables.standards[ordinal]!.standard, member: memberAt(run, covers, slot) });
  }
  // The lines that are a member, each once (a line may be two members), and what naturals carry of each member.
  const own: number[] = [];
  let carriedPct = 0;
  for (const { member } of present) {
    for (const line of member.lines) if (!own.includes(line)) own.push(line);
    carriedPct += member.carriedPct;
  }
  const covered = own.slice();
  for (const { member } of present) for (const line of member.carriers) if (!covered.includes(line)) covered.push(line);
  covered.sort((a, b) => a - b);
  let totalPct: number;
  let limitPct: number | null;
  let verdict: Verdict;
  if (group.rule === 'total') {
    let ownPct = 0;
    for (const index of own) ownPct += run.finished[index]!;
    totalPct = round(ownPct + carriedPct);
    const limit = catalogue.standardById(group.limitFrom!)?.limits[categoryId] ?? NOT_SOURCED;
    limitPct = limit.kind === 'limit' ? limit.pct : limit.kind === 'prohibited' ? 0 : null;
    verdict = limitPct !== null ? judge(totalPct, limitPct) : limit.kind === 'no_restriction' ? 'pass' : 'unknown';
  } else {
    let share = 0;
    verdict = 'pass';
    for (const { standard, member } of present) {
      const limit = standard.limits[categoryId] ?? NOT_SOURCED;
      if (limit.kind === 'limit') share += (sumFinishedPct(run.finished, member.lines) + member.carriedPct) / limit.pct;
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
    lines: covered,
    note: group.note,
    sourceIds: group.sourceIds,
    totalPct,
    limitPct,
    verdict,
    excessPct: excessOf(totalPct, limitPct),
  };
}
