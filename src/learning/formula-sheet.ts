import type { CreativeBrief } from '../llm/index.ts';
import type { ComplianceResult } from '../regulation/index.ts';
import type { CharacterRole } from './character.ts';
import type { BriefContext, Composition, DosageChoice, Position } from './composer.ts';
import type { FormulationEnv } from './environment.ts';

/** One line of a formula as a perfumer reads it. */
export interface SheetLine {
  readonly material: string;
  readonly cas: string;
  /** % of the fragrance concentrate. */
  readonly concentrationPct: number;
  /** % in the finished product at the brief's dosage. */
  readonly productPct: number;
  readonly notePosition: Position;
  readonly odorFamily: string;
  /** The highest share of an IFRA limit this line reaches (its % in the product, or what it carries of a substance, ÷ the limit); null when no limit applies. */
  readonly ifraShareOfLimit: number | null;
  /** EU allergens this line makes the label declare. */
  readonly allergens: readonly string[];
  /** `policy`: picked by the policy; `composer`: a repair (added so the formula is complete). */
  readonly source: 'policy' | 'composer';
  /** Why the line is on the brief's character (an asked family, a named note or its accord, a wheel neighbour, a blender), or null: off-character. */
  readonly role: CharacterRole | null;
}

export interface FormulaSheet {
  readonly product: CreativeBrief['productCategory'];
  readonly category: string;
  readonly dosagePct: number;
  /** How the dosage was chosen (the request's, the product's usual default, or the neat concentrate where the product's is not sourced) and the product's usual range. */
  readonly dosage: DosageChoice;
  /** Top, heart, base notes, strongest first within each. */
  readonly lines: readonly SheetLine[];
  /** % of the concentrate in each position. */
  readonly pyramid: Readonly<Record<Position, number>>;
  /** Named notes neither a palette material nor an accord carries (so the formula cannot honour them). */
  readonly unavailableNotes: readonly string[];
  /** Named notes no single material carries, and the accord of palette materials that stands for each. */
  readonly accords: ReadonlyArray<{ readonly note: string; readonly accord: string; readonly materials: readonly string[] }>;
  /** `carriedBy`: the naturals that carry it (their share of the product, and how it was read). */
  readonly allergensToDeclare: ReadonlyArray<{ readonly labelName: string; readonly productPct: number; readonly carriedBy: ReadonlyArray<{ readonly material: string; readonly productPct: number; readonly basis: string }> }>;
  /**
   * IFRA-restricted substances the formula's naturals carry, with the check's totals (every line
   * counted) against their limits, the nearest to its limit first.
   */
  readonly restrictedCarried: ReadonlyArray<{
    readonly substance: string;
    readonly productPct: number;
    readonly limitPct: number | null;
    readonly carriedBy: ReadonlyArray<{ readonly material: string; readonly productPct: number; readonly basis: string | null }>;
  }>;
}

/** A constituent's total as a share of its limit (an unsourced limit counts as reached). */
const shareOf = (c: ComplianceResult['constituents'][number]) => (c.limitPct === null || c.limitPct === 0 ? 1 : c.totalPct / c.limitPct);

const ORDER: Record<Position, number> = { top: 0, heart: 1, base: 2 };
const r4 = (value: number) => Math.round(value * 1e4) / 1e4;

export function formulaSheet(env: FormulationEnv, context: BriefContext, composition: Composition, compliance: ComplianceResult = composition.check): FormulaSheet {
  const brief: CreativeBrief = context.brief;
  const info = env.composer.info;
  const lines = composition.lines.map((line, k) => {
    const material = env.palette[line.index]!;
    const checked = compliance.materials[k];
    let share: number | null = null;
    for (const standard of checked?.standards ?? []) if (standard.shareOfLimit !== null) share = Math.max(share ?? 0, standard.shareOfLimit);
    // A natural line's part of what it carries, against each substance's limit.
    for (const c of compliance.constituents) {
      if (c.limitPct === null || c.limitPct === 0) continue;
      for (const source of c.sources) if (source.line === k && source.basis !== null) share = Math.max(share ?? 0, source.pct / c.limitPct);
    }
    return {
      material: material.name,
      cas: material.cas,
      concentrationPct: line.pct,
      productPct: r4((line.pct * compliance.dosagePct) / 100),
      notePosition: info[line.index]!.position,
      odorFamily: material.odorFamily,
      ifraShareOfLimit: share === null ? null : r4(share),
      allergens: compliance.allergens.declare.filter((a) => a.lines.includes(k)).map((a) => a.labelName),
      source: line.added ? ('composer' as const) : ('policy' as const),
      role: context.roles[line.index] ?? null,
    };
  });
  lines.sort((a, b) => ORDER[a.notePosition] - ORDER[b.notePosition] || b.concentrationPct - a.concentrationPct);
  const pyramid: Record<Position, number> = { top: 0, heart: 0, base: 0 };
  for (const line of lines) pyramid[line.notePosition] += line.concentrationPct;
  for (const position of ['top', 'heart', 'base'] as const) pyramid[position] = Math.round(pyramid[position] * 100) / 100;
  return {
    product: brief.productCategory,
    category: compliance.category,
    dosagePct: compliance.dosagePct,
    dosage: context.dosage,
    lines,
    pyramid,
    unavailableNotes: composition.unavailableNotes,
    accords: context.notes.flatMap(({ note, accord }) => (accord === null ? [] : [{ note, accord: accord.name, materials: accord.members.map((m) => env.palette[m.index]!.name) }])),
    allergensToDeclare: compliance.allergens.declare.map((a) => ({ labelName: a.labelName, productPct: a.totalPct, carriedBy: a.contributions.map((c) => ({ material: c.material, productPct: c.pct, basis: c.basis })) })),
    restrictedCarried: [...compliance.constituents]
      .sort((a, b) => shareOf(b) - shareOf(a))
      .map((c) => ({ substance: c.standard, productPct: c.totalPct, limitPct: c.limitPct, carriedBy: c.sources.map((s) => ({ material: s.material, productPct: s.pct, basis: s.basis })) })),
  };
}
