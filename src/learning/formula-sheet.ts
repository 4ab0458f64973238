import type { CreativeBrief } from '../llm/index.ts';
import type { ComplianceResult } from '../regulation/index.ts';
import type { Composition, Position } from './composer.ts';
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
  /** The highest share of an IFRA limit this line reaches (its % in the product ÷ the limit); null when no limit applies. */
  readonly ifraShareOfLimit: number | null;
  /** EU allergens this line makes the label declare. */
  readonly allergens: readonly string[];
  /** `policy`: picked by the policy (or the search); `composer`: added so the formula honours the brief. */
  readonly source: 'policy' | 'composer';
}

export interface FormulaSheet {
  readonly product: CreativeBrief['productCategory'];
  readonly category: string;
  readonly dosagePct: number;
  /** Top, heart, base notes, strongest first within each. */
  readonly lines: readonly SheetLine[];
  /** % of the concentrate in each position. */
  readonly pyramid: Readonly<Record<Position, number>>;
  /** Named notes no palette material carries (so the formula cannot honour them). */
  readonly unavailableNotes: readonly string[];
  readonly allergensToDeclare: ReadonlyArray<{ readonly labelName: string; readonly productPct: number }>;
}

const ORDER: Record<Position, number> = { top: 0, heart: 1, base: 2 };
const r4 = (value: number) => Math.round(value * 1e4) / 1e4;

export function formulaSheet(env: FormulationEnv, brief: CreativeBrief, composition: Composition, compliance: ComplianceResult = composition.check): FormulaSheet {
  const info = env.composer.info;
  const lines = composition.lines.map((line, k) => {
    const material = env.palette[line.index]!;
    const checked = compliance.materials[k];
    let share: number | null = null;
    for (const standard of checked?.standards ?? []) if (standard.shareOfLimit !== null) share = Math.max(share ?? 0, standard.shareOfLimit);
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
    lines,
    pyramid,
    unavailableNotes: composition.unavailableNotes,
    allergensToDeclare: compliance.allergens.declare.map((a) => ({ labelName: a.labelName, productPct: a.totalPct })),
  };
}
