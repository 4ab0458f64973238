import type { IfraStandard, EuAllergen } from './catalogue.ts';
import type { AllergenResult, ConstituentResult, MaterialResult, StandardVerdict, Verdict } from './check-types.ts';
import type { StandardShare } from './naturals.ts';

/**
 * How the check's answer is assembled: the lines while they are checked, the per-Standard and
 * per-allergen results, the constituents naturals carry, and the arithmetic they share (noise-only
 * rounding, sums, excesses). The rules that decide the verdicts are in check.ts.
 */

/**
 * Rounds away binary floating-point noise (0.8 × 0.1 = 0.08000000000000002) so boundaries hold
 * exactly — and only noise: a rounding to 1e-9 % that would move the value by more than a relative
 * 1e-12 is no noise (3.3e-6 % over a limit of 0.000069 %) and is not made, so no excess disappears.
 */
export function round(value: number): number {
  const rounded = Math.round(value * 1e9) / 1e9;
  return Math.abs(rounded - value) <= Math.abs(value) * 1e-12 ? rounded : value;
}

// Loops rather than reduce/map with arrow functions: tsx (which runs the tests and benchmarks) wraps every
// function expression to keep its name, so a closure per item costs more than the work it does.
export function sumFinishedPct(finished: readonly number[], lines: readonly number[]): number {
  // Most Standards and allergens cover one line, whose % is rounded already.
  if (lines.length === 1) return finished[lines[0]!]!;
  let total = 0;
  for (const index of lines) total += finished[index]!;
  return round(total);
}

/** What a line (or a sum of lines) puts above a limit, % of the finished product; 0 within it or without one. */
export function excessOf(pct: number, limitPct: number | null): number {
  return limitPct === null ? 0 : round(Math.max(0, pct - limitPct));
}

export function shareOfLimit(pct: number, limitPct: number | null): number | null {
  return limitPct === null || limitPct === 0 ? null : round(pct / limitPct);
}

/** A formula line while it is checked: the MaterialResult that is returned (no copy), with its lists still growing. */
export type Line = Omit<MaterialResult, 'verdict' | 'standards' | 'notes'> & { verdict: Verdict; standards: StandardVerdict[]; notes: string[] };

// Most lines carry no note; they share one frozen empty list until they get one.
export const NO_NOTES: string[] = Object.freeze([]) as unknown as string[];

// Most lines are no Standard's; they share one frozen empty list until the answer's parts give them one.
export const NO_STANDARDS: StandardVerdict[] = Object.freeze([]) as unknown as StandardVerdict[];

export function addStandard(line: Line, verdict: StandardVerdict): void {
  if (line.standards === NO_STANDARDS) line.standards = [verdict];
  else line.standards.push(verdict);
}

/** A note alone in a frozen list, by note: a line's notes are the check's fixed words (constant, or made once per Standard or natural), so this holds one list per such note. */
const NOTE_ALONE = new Map<string, string[]>();

export function addNote(line: Line, note: string): void {
  if (line.notes === NO_NOTES) {
    // A line's first note: the frozen list holding that note alone, shared by every line that gets it first.
    let alone = NOTE_ALONE.get(note);
    if (alone === undefined) NOTE_ALONE.set(note, (alone = Object.freeze([note]) as string[]));
    line.notes = alone;
  }
  // A natural's notes are shared by its lines until one gets a note of its own.
  else if (Object.isFrozen(line.notes)) line.notes = [...line.notes, note];
  else line.notes.push(note);
}

// Built field by field: object spread into a literal is several times slower in V8 on this hot path.
export function standardVerdict(
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

export function declared(found: readonly AllergenResult[]): AllergenResult[] {
  const out: AllergenResult[] = [];
  for (const allergen of found) if (allergen.status === 'declare') out.push(allergen);
  return out;
}

export type Contribution = AllergenResult['contributions'][number];

/** Two ascending lists of line indexes as one, each index once. */
export function mergeLines(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const next = j >= b.length || (i < a.length && a[i]! <= b[j]!) ? a[i++]! : b[j++]!;
    if (out.length === 0 || out[out.length - 1] !== next) out.push(next);
  }
  return out;
}
export const NO_CONTRIBUTIONS: readonly Contribution[] = Object.freeze([]);

export function allergenResult(
  allergen: EuAllergen,
  covered: readonly number[],
  totalPct: number,
  thresholdPct: number | null,
  status: AllergenResult['status'],
  contributions: readonly Contribution[] = NO_CONTRIBUTIONS,
  notes: readonly string[] = allergen.notes,
  euMaximum: AllergenResult['euMaximum'] = null,
): AllergenResult {
  let lines = covered.slice();
  // Contributions come in line order; merged with the lines that are the allergen, in order, once each.
  if (contributions.length > 0) {
    const carrying: number[] = [];
    for (const c of contributions) carrying.push(c.line);
    lines = covered.length === 0 ? carrying : mergeLines(lines, carrying);
  }
  return {
    id: allergen.id,
    labelName: allergen.labelName,
    entry: allergen.entry,
    lines,
    totalPct,
    thresholdPct,
    status,
    contributions,
    euMaximum,
    notes,
    sourceIds: allergen.sourceIds,
  };
}

/** A natural line carrying a Standard's substance, and what it puts of it in the product (% of the finished product). */
export interface Carrier {
  readonly line: Line;
  readonly share: StandardShare;
  readonly pct: number;
}

/** A Standard as a sum rule counts it: the lines that are it, and the natural lines that carry it with their total (line indexes). */
export interface Member {
  readonly lines: readonly number[];
  readonly carriers: readonly number[];
  readonly carriedPct: number;
}

export const NO_CARRIERS: readonly Carrier[] = Object.freeze([]);

/** The line indexes of carriers, ascending (they are pushed in line order). */
export function carrierIndexes(carriers: readonly Carrier[]): number[] {
  const indexes: number[] = [];
  for (const carrier of carriers) indexes.push(carrier.line.line);
  return indexes;
}

/**
 * A Standard's total from every line, for the answer: each line's part, and the sentence that says
 * it. Both are built when read (most answers are read by code that looks at the verdict and the
 * totals; printing the numbers costs more than the check): getters, and `toJSON` for the
 * serialised answer.
 */
export class Constituent implements ConstituentResult {
  private built: ConstituentResult['sources'] | undefined;

  constructor(
    readonly standardId: string,
    readonly standard: string,
    readonly totalPct: number,
    readonly limitPct: number | null,
    readonly verdict: Verdict,
    private readonly covered: readonly Line[],
    private readonly carriers: readonly Carrier[],
  ) {}

  get sources(): ConstituentResult['sources'] {
    if (this.built === undefined) {
      const sources: Array<ConstituentResult['sources'][number]> = [];
      for (const line of this.covered) sources.push({ line: line.line, material: line.name!, pct: line.finishedPct, basis: null });
      for (const { line, share, pct } of this.carriers) sources.push({ line: line.line, material: line.name!, pct: round(pct), basis: share.basis });
      if (this.covered.length > 0) sources.sort(bySourceLine);
      this.built = sources;
    }
    return this.built;
  }

  get summary(): string {
    const limit = this.limitPct === null ? 'limit not sourced' : this.limitPct === 0 ? 'prohibited' : `limit ${this.limitPct} %`;
    const parts = this.sources.map((source) => `line ${source.line} ${source.material} (${source.basis === null ? `${source.pct} %` : `${source.pct} %: ${source.basis}`})`);
    return `${this.standard} ${this.totalPct} % of the product (${limit}): ${parts.join(' + ')}`;
  }

  toJSON(): ConstituentResult {
    const { standardId, standard, totalPct, limitPct, verdict, sources, summary } = this;
    return { standardId, standard, totalPct, limitPct, verdict, sources, summary };
  }
}

export function constituentResult(standard: IfraStandard, covered: readonly Line[], carriers: readonly Carrier[], totalPct: number, limitPct: number | null, verdict: Verdict): ConstituentResult {
  return new Constituent(standard.id, standard.name, totalPct, limitPct, verdict, covered, carriers);
}

export function bySourceLine(a: { readonly line: number }, b: { readonly line: number }): number {
  return a.line - b.line;
}

/** Share of a limit above which a verdict is a warning (the issue's "> 80% of a limit"). */
export const WARNING_SHARE = 0.8;

const RANK: Record<Verdict, number> = { pass: 0, warning: 1, unknown: 2, fail: 3 };

export function worse(a: Verdict, b: Verdict): Verdict {
  // Compared as strings (interned: a pointer compare), not through RANK: this runs for every line and Standard.
  if (a === b || b === 'pass') return a;
  if (a === 'pass') return b;
  return RANK[b] > RANK[a] ? b : a;
}

/** A total against a limit: over it fails, over WARNING_SHARE of it warns. */
export function judge(totalPct: number, limitPct: number): Verdict {
  if (totalPct > limitPct) return 'fail';
  const warnAbove = WARNING_SHARE * limitPct;
  // round() moves a value by a relative 1e-12 at most: a total clearly below the warning needs no rounding to pass.
  if (totalPct <= warnAbove * (1 - 1e-11)) return 'pass';
  if (totalPct > round(warnAbove)) return 'warning';
  return 'pass';
}
