import type { FormulaLine } from './check-types.ts';

/**
 * What an IFRA Certificate of Conformity says (certificate.ts computes it): per category the
 * maximum dosage and what limits it, and how the certificate names them in words.
 */

/** `eu_maximum`: an EU Annex III maximum concentration (Regulation 1223/2009), outside IFRA but binding on the product. */
export type LimitingKind = 'standard' | 'sum_rule' | 'prohibition' | 'eu_maximum';

export interface LimitingItem {
  readonly kind: LimitingKind;
  /** The Standard's or sum rule's id. */
  readonly id: string;
  readonly name: string;
  /** The category limit in % of the finished product (for a share rule: 100, the sum of shares). */
  readonly limitPct: number | null;
  /** What the formula puts against it: the lines' % in the concentrate (a share rule: Σ cᵢ/Lᵢ × 100). */
  readonly concentratePct: number;
  /** The dosage this item alone allows. */
  readonly maxDosagePct: number;
  /**
   * The natural lines that carry its substance (IFRA's Annex on natural contributions): each one's
   * part of `concentratePct` (% of the concentrate) and how it was read. Empty when none does.
   */
  readonly carriedBy: ReadonlyArray<{ readonly line: number; readonly material: string; readonly concentratePct: number; readonly basis: string }>;
  readonly sourceIds: readonly string[];
}

export interface CertificateCategory {
  readonly category: string;
  readonly description: string;
  /** null when a limit it needs is not sourced; 100 only where nothing limits it. */
  readonly maxDosagePct: number | null;
  /** The items that set the maximum (several when they tie). Empty at 100. */
  readonly limitedBy: readonly LimitingItem[];
  /** With maxDosagePct null: the least of the known limits, which the unknown ones can only lower. */
  readonly upperBoundPct: number | null;
  /** Why maxDosagePct is null. */
  readonly reason: string | null;
}

export interface IfraCertificate {
  readonly amendment: number;
  readonly name: string | null;
  /** The day the certificate was issued (YYYY-MM-DD). */
  readonly date: string;
  readonly formula: ReadonlyArray<{ readonly line: number; readonly material: string; readonly name: string | null; readonly cas: string | null; readonly concentrationPct: number }>;
  readonly categories: readonly CertificateCategory[];
  /** Raw-material specifications the certificate relies on (peroxide values, grades, …). */
  readonly specifications: ReadonlyArray<{ readonly line: number; readonly standard: string; readonly note: string }>;
  /** Outside IFRA: materials EU Regulation 1223/2009 Annex II prohibits in cosmetics whatever the dosage. */
  readonly euProhibited: ReadonlyArray<{ readonly line: number; readonly material: string; readonly entry: string | null }>;
  readonly gaps: readonly string[];
  readonly sourceIds: readonly string[];
}

export interface CertificateRequest {
  readonly formula: readonly FormulaLine[];
  readonly name?: string | undefined;
  /** Defaults to now; fixed in tests and for reproducible pages. */
  readonly date?: Date | undefined;
}

/**
 * "Eugenol (carried by Clove bud oil)": what binds, and the naturals its substance comes from —
 * "Citronellal (with what Grapefruit oil carries)" where lines of the substance itself count too.
 */
export function limitedByText(item: LimitingItem): string {
  if (item.carriedBy.length === 0) return item.name;
  const naturals = [...new Set(item.carriedBy.map((c) => c.material))].join(', ');
  const carried = item.carriedBy.reduce((sum, c) => sum + c.concentratePct, 0);
  // A sum rule's concentratePct is its members' together (or, for a share rule, a sum of shares): never "carried by" alone.
  return item.kind !== 'sum_rule' && item.concentratePct <= carried * (1 + 1e-9) ? `${item.name} (carried by ${naturals})` : `${item.name} (with what ${naturals} carries)`;
}

/** "51st Amendment". */
export function amendmentName(amendment: number): string {
  const suffix = amendment % 100 >= 11 && amendment % 100 <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][amendment % 10] ?? 'th');
  return `${amendment}${suffix} Amendment`;
}
