import { parse } from 'csv-parse/sync';
import { z } from 'zod';
import { ErrorCodes, FaiError, parseOrThrow } from '../errors/index.ts';
import type { CheckRequest, FormulaLine } from './check.ts';

/** Most lines a formula may have: formulas of real perfumes run to a few hundred materials at most. */
export const MAX_FORMULA_LINES = 500;
/** Concentrations may add up to 100 % within this rounding tolerance. */
const SUM_TOLERANCE_PCT = 1e-6;

const percent = (what: string) =>
  z
    .number({ error: (issue) => (issue.input === undefined ? 'is required' : `must be a number (${what})`) })
    .refine(Number.isFinite, 'must be a finite number')
    .refine((v) => v >= 0, 'must not be negative')
    .refine((v) => v <= 100, 'must be at most 100');

const Line = z
  .object({
    material: z.string().trim().min(1, 'is required: a CAS number or a name').max(200, 'is longer than 200 characters').optional(),
    cas: z.string().trim().min(1).max(20).optional(),
    concentrationPct: percent('% of the material in the fragrance concentrate'),
    specificationMet: z.boolean({ error: 'must be true or false (the raw material\'s certificate shows its IFRA specifications met)' }).optional(),
  })
  .strict()
  .refine((line) => line.material !== undefined || line.cas !== undefined, { message: 'names no material: give `material` (a name or CAS) or `cas`', path: ['material'] });

/** The body of POST /v1/compliance/check (and a JSON file for `fai check-formula`). */
export const CheckRequestSchema = z
  .object({
    formula: z.array(Line).min(1, 'must list at least one material').max(MAX_FORMULA_LINES, `must list at most ${MAX_FORMULA_LINES} materials`),
    category: z.union([z.string(), z.number()]).transform((value) => normalizeCategory(String(value))),
    dosagePct: percent('% of the concentrate in the finished product').refine((v) => v > 0, 'must be above 0'),
    exposure: z.enum(['leave_on', 'rinse_off']).optional(),
    strict: z.boolean().optional(),
  })
  .strict();

/**
 * The body of POST /v1/compliance/certificate (and a file for `fai ifra-certificate`): the check's
 * input, of which only the formula is needed — a certificate covers every category and dosage.
 * `name` is the formula's name printed on the certificate.
 */
export const CertificateRequestSchema = z
  .object({
    formula: CheckRequestSchema.shape.formula,
    name: z.string().trim().min(1, 'is empty').max(200, 'is longer than 200 characters').optional(),
    category: CheckRequestSchema.shape.category.optional(),
    dosagePct: CheckRequestSchema.shape.dosagePct.optional(),
    exposure: CheckRequestSchema.shape.exposure,
    strict: CheckRequestSchema.shape.strict,
  })
  .strict();

/** Validates a certificate request at the edge, with the check's rules for the formula (at most 100 % in total). */
export function parseCertificateRequest(input: unknown, where = 'body'): { formula: FormulaLine[]; name?: string } {
  return certificateRequestOf(parseOrThrow(CertificateRequestSchema, input, where), where);
}

/** A certificate request that passed CertificateRequestSchema (the route's validation), with the rules the schema cannot state. */
export function certificateRequestOf(parsed: z.output<typeof CertificateRequestSchema>, where = 'body'): { formula: FormulaLine[]; name?: string } {
  const formula = toFormulaLines(parsed.formula, where);
  return parsed.name === undefined ? { formula } : { formula, name: parsed.name };
}

function toFormulaLines(lines: z.infer<typeof CheckRequestSchema>['formula'], where: string): FormulaLine[] {
  const total = lines.reduce((sum, line) => sum + line.concentrationPct, 0);
  if (total > 100 + SUM_TOLERANCE_PCT) {
    throw new FaiError(ErrorCodes.VALIDATION, `${where}.formula: concentrations add up to ${Math.round(total * 1000) / 1000} % of the concentrate (at most 100)`, {
      field: `${where}.formula`,
    });
  }
  return lines.map((line) => {
    const out: { material: string; cas?: string; concentrationPct: number; specificationMet?: boolean } = { material: line.material ?? line.cas!, concentrationPct: line.concentrationPct };
    // Both given: the check resolves both and refuses a line whose two fields name different substances.
    if (line.material !== undefined && line.cas !== undefined) out.cas = line.cas;
    if (line.specificationMet !== undefined) out.specificationMet = line.specificationMet;
    return out;
  });
}

/** "cat 5a", "5A", 4 → "5A", "4": the way IFRA writes categories. */
export function normalizeCategory(text: string): string {
  return text.trim().toUpperCase().replace(/^CAT(EGORY)?\s*/, '');
}

/**
 * Validates a check request at the edge: shape, finite non-negative
 * percentages, at most 100 % in total. The category itself is checked against
 * the data by the check (it knows which categories exist).
 */
export function parseCheckRequest(input: unknown, where = 'body'): CheckRequest {
  return checkRequestOf(parseOrThrow(CheckRequestSchema, input, where), where);
}

/** A check request that passed CheckRequestSchema (the route's validation), with the rules the schema cannot state. */
export function checkRequestOf(parsed: z.output<typeof CheckRequestSchema>, where = 'body'): CheckRequest {
  return {
    formula: toFormulaLines(parsed.formula, where),
    category: parsed.category,
    dosagePct: parsed.dosagePct,
    exposure: parsed.exposure,
    strict: parsed.strict,
  };
}

/** A number as a person writes it in a CSV cell: no units, no words, no empty cell. */
function csvNumber(cell: string | undefined, field: string): number {
  const text = (cell ?? '').trim().replace(/%$/, '');
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(text)) {
    throw new FaiError(ErrorCodes.VALIDATION, `${field}: "${cell ?? ''}" is not a number`, { field });
  }
  return Number(text);
}

/**
 * Reads a formula from CSV: a header with `material` (or `cas`) and
 * `concentration_pct` (or `concentration`), one material per row. The category,
 * dosage and exposure come from elsewhere (command-line flags).
 */
export function parseFormulaCsv(text: string, where = 'file'): Array<{ material: string; concentrationPct: number }> {
  let records: Array<Record<string, string>>;
  try {
    records = parse(text, { columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()), skip_empty_lines: true, trim: true, comment: '#' });
  } catch (error) {
    throw new FaiError(ErrorCodes.MALFORMED_BODY, `${where}: not valid CSV (${error instanceof Error ? error.message : String(error)})`, { field: where, cause: error });
  }
  if (records.length === 0) throw new FaiError(ErrorCodes.VALIDATION, `${where}: no formula rows`, { field: where });
  const columns = Object.keys(records[0]!);
  const materialColumn = ['material', 'cas', 'name'].find((c) => columns.includes(c));
  const concentrationColumn = ['concentration_pct', 'concentration', 'pct'].find((c) => columns.includes(c));
  if (materialColumn === undefined || concentrationColumn === undefined) {
    throw new FaiError(ErrorCodes.VALIDATION, `${where}: the header needs a "material" and a "concentration_pct" column (found: ${columns.join(', ')})`, { field: where });
  }
  return records.map((record, i) => ({
    material: record[materialColumn] ?? '',
    concentrationPct: csvNumber(record[concentrationColumn], `${where}.formula.${i}.concentrationPct (row ${i + 2})`),
  }));
}
