import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { ErrorCodes, FaiError } from '../../errors/index.ts';
import { ComplianceChecker, parseCheckRequest, parseFormulaCsv, type ComplianceResult, type Verdict } from '../../regulation/index.ts';
import { ExitCodes } from '../exit-codes.ts';
import { table } from '../table.ts';

export interface CheckFormulaOptions {
  category?: string;
  dosage?: string;
  exposure?: string;
  strict?: boolean;
  json?: boolean;
}

/** A formula file larger than this is not a formula. */
const MAX_FILE_BYTES = 1024 * 1024;

async function readFormulaFile(file: string): Promise<{ text: string; kind: 'json' | 'csv' }> {
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch (error) {
    throw new FaiError(ErrorCodes.VALIDATION, `FILE: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)})`, { field: 'FILE', cause: error });
  }
  if (size > MAX_FILE_BYTES) throw new FaiError(ErrorCodes.BODY_TOO_LARGE, `FILE: ${file} is ${size} bytes (at most ${MAX_FILE_BYTES})`, { field: 'FILE' });
  const text = await readFile(file, 'utf8');
  const extension = extname(file).toLowerCase();
  const kind = extension === '.json' || (extension !== '.csv' && text.trimStart().startsWith('{')) ? 'json' : 'csv';
  return { text, kind };
}

/** A formula file as a request body: the JSON object as written, or {formula} from a CSV. */
export async function readFormulaBody(file: string): Promise<{ body: Record<string, unknown>; kind: 'json' | 'csv' }> {
  const { text, kind } = await readFormulaFile(file);
  if (kind === 'csv') return { body: { formula: parseFormulaCsv(text, 'FILE') }, kind };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new FaiError(ErrorCodes.MALFORMED_BODY, `FILE: ${file} is not valid JSON (${error instanceof Error ? error.message : String(error)})`, { field: 'FILE' });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new FaiError(ErrorCodes.VALIDATION, `FILE: ${file} must hold an object {formula, category, dosagePct}`, { field: 'FILE' });
  }
  return { body: { ...(parsed as Record<string, unknown>) }, kind };
}

function flagNumber(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number)) throw new FaiError(ErrorCodes.VALIDATION, `${flag}: "${value}" is not a number`, { field: flag });
  return number;
}

/** Builds the request body from the file and the flags (flags win), then validates it like the API does. */
export async function loadCheckRequest(file: string, options: CheckFormulaOptions) {
  const { body, kind } = await readFormulaBody(file);
  return applyFlags(body, kind, options);
}

/** The flags of check-formula over the file's fields, then the request validated like the API does. */
function applyFlags(body: Record<string, unknown>, kind: 'json' | 'csv', options: CheckFormulaOptions) {
  if (options.category !== undefined) body.category = options.category;
  const dosage = flagNumber(options.dosage, '--dosage');
  if (dosage !== undefined) body.dosagePct = dosage;
  if (options.exposure !== undefined) body.exposure = options.exposure.replace('-', '_');
  if (options.strict) body.strict = true;
  if (body.category === undefined) throw new FaiError(ErrorCodes.VALIDATION, '--category: required (an IFRA category such as 4 or 5A)', { field: '--category' });
  if (body.dosagePct === undefined) throw new FaiError(ErrorCodes.VALIDATION, '--dosage: required (% of the concentrate in the product, e.g. 15)', { field: '--dosage' });
  return parseCheckRequest(body, kind === 'json' ? 'FILE' : 'input');
}

const pct = (value: number | null) => (value === null ? '—' : `${Number(value.toPrecision(4))}%`);

/** A value beside a limit, with as many digits as it takes for the two to read differently when they differ (1.5004 % vs 1.5 %). */
function pctAgainst(value: number, limit: number | null): string {
  if (limit === null || value === limit) return pct(value);
  for (let digits = 4; digits <= 15; digits++) if (Number(value.toPrecision(digits)) !== Number(limit.toPrecision(digits))) return `${Number(value.toPrecision(digits))}%`;
  return `${value}%`;
}
const VERDICT_TEXT: Record<Verdict, string> = { pass: 'PASS', warning: 'WARNING', unknown: 'UNKNOWN', fail: 'FAIL' };

export function renderResult(source: string, result: ComplianceResult): string {
  const out: string[] = [];
  out.push(
    `${source}: IFRA category ${result.category}, concentrate at ${result.dosagePct}% of the product, ${result.exposure === 'not_cosmetic' ? 'not a cosmetic product' : result.exposure.replace('_', '-')}${result.strict ? ', strict' : ''}`,
    '',
  );
  out.push(
    table([
      ['#', 'MATERIAL', 'CAS', 'IN CONCENTRATE', 'IN PRODUCT', 'LIMIT', 'VERDICT', 'WHY'],
      ...result.materials.map((m) => {
        const limits = m.standards.filter((s) => s.limit !== 'none');
        // An EU Annex III maximum on an allergen this line is (or carries) is a limit of the row too.
        const euLimits = result.allergens.found.filter((a) => a.euMaximum !== null && a.lines.includes(m.line)).map((a) => a.euMaximum!.limitPct);
        const limit = [
          ...limits.map((s) => (s.limit === 'limit' ? pct(s.limitPct) : s.limit === 'no_restriction' ? 'none' : s.limit === 'prohibited' ? 'prohibited' : 'not sourced')),
          ...euLimits.map((l) => `EU ${pct(l)}`),
        ].join(', ');
        const sums = result.combinations.filter((c) => c.verdict !== 'pass' && c.lines.includes(m.line)).map((c) => `${c.name}: ${c.verdict}`);
        // Specification texts are long: the table says there is one, the section below gives it.
        // A natural's notes say what of it is counted; the sections below give it.
        const natural = m.notes.some((note) => note.startsWith('natural material:'));
        const notes = [
          ...m.notes.filter((note) => !note.startsWith('natural material:')).map((note) => (note.startsWith('specification (') ? 'specification (below)' : note)),
          ...(natural ? ['natural material (what it carries: below)'] : []),
        ];
        // What a natural carries is listed with its totals below the table; the row names what of it is not a pass.
        const euMaximums = result.allergens.found.filter((a) => a.euMaximum !== null && a.euMaximum.verdict !== 'pass' && a.lines.includes(m.line)).map((a) => `${a.labelName} (EU Annex III maximum): ${a.euMaximum!.verdict}`);
        const carried = result.constituents.filter((c) => c.verdict !== 'pass' && c.sources.some((s) => s.line === m.line && s.basis !== null)).map((c) => `${c.standard} (carried): ${c.verdict}`);
        const why = [...m.standards.filter((s) => s.verdict !== 'pass').map((s) => `${s.standard}${s.combination ? ' (sum)' : ''}: ${s.verdict}`), ...carried, ...euMaximums, ...sums, ...notes].join('; ');
        // The product % against the tightest limit: never printed equal to a limit it differs from.
        const tightest = [...limits.map((s) => s.limitPct), ...euLimits].reduce<number | null>((least, l) => (l !== null && l > 0 && (least === null || l < least) ? l : least), null);
        return [String(m.line), m.name ?? m.input, m.cas ?? '', pct(m.concentrationPct), pctAgainst(m.finishedPct, tightest), limit || '—', VERDICT_TEXT[m.verdict], why];
      }),
    ]),
  );
  if (result.combinations.length > 0) {
    out.push('', 'Combinations (a limit on the sum):');
    out.push(
      table([
        ['GROUP', 'LINES', 'TOTAL', 'LIMIT', 'VERDICT'],
        ...result.combinations.map((c) => [c.name, c.lines.join(', '), pctAgainst(c.totalPct, c.limitPct), pct(c.limitPct), VERDICT_TEXT[c.verdict]]),
      ]),
    );
  }
  if (result.constituents.length > 0) {
    out.push('', 'IFRA-restricted substances carried by naturals (IFRA Annex on natural contributions):');
    for (const c of result.constituents) {
      out.push(`  ${c.standard}: ${pctAgainst(c.totalPct, c.limitPct)} of the product (limit ${c.limitPct === null ? 'not sourced' : pct(c.limitPct)}) ${VERDICT_TEXT[c.verdict]}`);
      for (const s of c.sources) out.push(`    line ${s.line} ${s.material}: ${pct(s.pct)}${s.basis === null ? '' : ` (${s.basis})`}`);
    }
  }
  const maximums = result.allergens.found.filter((a) => a.euMaximum !== null);
  if (maximums.length > 0) {
    out.push('', 'EU Annex III maximum concentrations (Regulation 1223/2009):');
    for (const a of maximums) out.push(`  ${a.labelName}: ${pctAgainst(a.totalPct, a.euMaximum!.limitPct)} of the product (at most ${pct(a.euMaximum!.limitPct)} in ${a.euMaximum!.products}) ${VERDICT_TEXT[a.euMaximum!.verdict]}`);
  }
  if (result.prohibited.length > 0) {
    out.push('', 'Prohibited:');
    for (const p of result.prohibited) out.push(`  line ${p.line} ${p.material}: ${p.reason} [${p.sourceIds.join(', ')}]`);
  }
  out.push(
    '',
    result.exposure === 'not_cosmetic'
      ? `Allergens to declare: EU cosmetic labelling does not apply to IFRA category ${result.category} (not a cosmetic product; see the gaps).`
      : result.allergens.declare.length === 0
        ? 'Allergens to declare: none above the threshold.'
        : 'Allergens to declare on the label:',
  );
  for (const a of result.allergens.declare) {
    out.push(`  ${a.labelName}: ${pct(a.totalPct)} (threshold ${pct(a.thresholdPct)}; lines ${a.lines.join(', ')})`);
    // Why, where a natural carries it: each natural line's share and how it was read.
    for (const c of a.contributions) out.push(`    line ${c.line} carries ${pct(c.pct)}: ${c.basis}`);
  }
  if (result.allergens.notAssessed.length > 0) {
    out.push(`  Not assessed (natural materials whose constituents are not sourced): ${result.allergens.notAssessed.map((n) => n.material).join(', ')}`);
  }
  if (result.specifications.length > 0) {
    out.push('', 'IFRA specifications (raw-material criteria):');
    for (const s of result.specifications) out.push(`  line ${s.line} ${s.standard}${s.met ? ' (declared met)' : ''}: ${s.note}`);
  }
  if (result.gaps.length > 0) {
    out.push('', 'Not sourced, so not judged:');
    for (const gap of result.gaps) out.push(`  - ${gap}`);
  }
  out.push(
    '',
    `Checks: ingredient ${VERDICT_TEXT[result.checks.ingredient]} · concentration ${VERDICT_TEXT[result.checks.concentration]} · combination ${VERDICT_TEXT[result.checks.combination]} → ${VERDICT_TEXT[result.verdict]}`,
    '',
  );
  return out.join('\n');
}

export function verdictExitCode(verdict: Verdict): number {
  if (verdict === 'fail') return ExitCodes.CRITICAL;
  if (verdict === 'pass') return ExitCodes.OK;
  return ExitCodes.WARNING;
}

/** Checks a formula file locally (no service needed) and returns the exit code. */
export async function checkFormulaFile(file: string, options: CheckFormulaOptions, write: (text: string) => void = (text) => process.stdout.write(text)): Promise<number> {
  const request = await loadCheckRequest(file, options);
  const result = new ComplianceChecker().check(request);
  write(options.json ? `${JSON.stringify(result, null, 2)}\n` : renderResult(file, result));
  return verdictExitCode(result.verdict);
}
