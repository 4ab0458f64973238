import { PRODUCT_CATEGORIES, type CreativeBrief, type ProductCategory } from '../llm/index.ts';
import { productDosages, type PaletteMaterial, type Position } from '../perfumery/index.ts';
import { checkFormula, euMaximumIn, naturalContents, prohibitionOf, type CheckRequest, type ComplianceResult, type IfraStandard, type RegulatoryCatalogue } from '../regulation/index.ts';
import { CharacterModel, type CharacterContext, type MaterialInfo } from './character.ts';

/**
 * The composer repairs what a policy picked (units per palette material) into a formula that is
 * safe and complete; it does not compose. Whatever the policy did, it enforces:
 *
 * - nothing the brief refuses (by name, family or descriptor: "no musk" removes every musky material,
 *   "nothing sweet" every gourmand/sweet one and every material described Sweet), nothing IFRA or
 *   the EU prohibits, nothing whose IFRA limit in the brief's category is not sourced;
 * - amounts in proportion to units × the material's typical use level, each within its maximum use
 *   level in the concentrate and its IFRA limit at the brief's dosage, summing to 100 % at
 *   RESOLUTION_PCT; the compliance check `pass` or `warning` (sum rules repaired by lowering the
 *   lines they cover);
 * - every asked family and every named note present (a note no allowed material carries is carried
 *   by its accord, or reported unavailable), top, heart and base, at least MIN_MATERIALS materials.
 *
 * Where it must add a line it adds an on-character one — an asked family, a wheel neighbour, a note
 * carrier (or the accord standing for the note) or a blender, by a fixed rule (`best`); never a
 * generic filler. Added lines are marked `added`: they are repairs, and the reward
 * charges for them (environment.ts). Deterministic: the same picks give the same formula.
 *
 * The brief's context — its category and dosage, what is allowed, its character — is worked out
 * once (`prepare`) and handed to every step that needs it.
 */
export type { Position } from '../perfumery/index.ts';

/** Real formulas hold 8–30 materials; the acceptance floor is 6, the composer aims at 8. */
export const MIN_MATERIALS = 8;
/** The ceiling where usage.csv gives no maximum: no single material above 40 % of the concentrate. */
export const UNSOURCED_MAX_USE_PCT = 40;
/**
 * What the composer itself allows a material whose maximum is not sourced (our choice, well under
 * the ceiling): an unknown use level is not a licence to dominate the formula.
 */
export const UNSOURCED_WORKING_CAP_PCT = 10;
/** Amounts are multiples of this (% of the concentrate). */
export const RESOLUTION_PCT = 0.01;
/** Share of an IFRA limit the composer aims under, so rounding never tips a line over it. */
const IFRA_MARGIN = 0.97;
/** The most an off-character repair line may hold (% of the concentrate): a structural gap is filled, the character is not changed. */
export const OFF_CHARACTER_REPAIR_PCT = 5;
/**
 * The most any repair line may hold (% of the concentrate): when the picks cannot hold 100 %, the
 * room left is shared by several on-character lines, never poured into one (a 40 % blender would
 * make the composer, not the model, the formula's character).
 */
export const REPAIR_LINE_PCT = 10;
/**
 * The dosage assumed for a product whose usual dosage is not sourced (DIFFUSER): the neat
 * concentrate, 100 % — the most conservative reading, never a guess at a lower one.
 */
export const UNSOURCED_DOSAGE_PCT = 100;

export interface ComposedLine {
  /** Palette index. */
  readonly index: number;
  /** % of the concentrate, a multiple of RESOLUTION_PCT. */
  readonly pct: number;
  /** Added by the composer (a repair: a family, note, position or count the picks lacked, or room to fill). */
  readonly added: boolean;
}

export interface Composition {
  readonly lines: readonly ComposedLine[];
  readonly request: CheckRequest;
  readonly check: ComplianceResult;
  /** Named notes neither a material nor an accord carries: the answer says so. */
  readonly unavailableNotes: readonly string[];
  /** Picks the composer left out: refused by the brief, or not allowed in its category. */
  readonly dropped: readonly number[];
}

/** How the check's dosage was chosen. */
export interface DosageChoice {
  readonly pct: number;
  /** `request`: the caller gave it; `product`: the product's usual default (product-dosage.csv); `not_sourced`: the product has none, so the neat concentrate. */
  readonly source: 'request' | 'product' | 'not_sourced';
  readonly usualMinPct: number | null;
  readonly usualMaxPct: number | null;
}

/** Everything about one brief the environment, the composer and the reward need, built once per brief. */
export interface BriefContext extends CharacterContext {
  readonly brief: CreativeBrief;
  readonly product: ProductCategory;
  readonly category: string;
  readonly dosagePct: number;
  readonly dosage: DosageChoice;
  readonly allowed: Uint8Array;
  /**
   * Per material: the most of it the product may hold by IFRA in the category, % of the product —
   * its tightest Standard's limit, or for a natural the point where a substance it carries reaches
   * its Standard's limit (12 % for clove bud oil in category 4: 82 % eugenol against 2.5 %, with
   * Math.min over its substances).
   */
  readonly limitPct: Float64Array;
  /** Per material: the most of it a line may hold, % of the concentrate (maximum use level, IFRA limit at the dosage under the margin). */
  readonly capPct: Float64Array;
  readonly forbidden: ReadonlySet<number>;
}

/** A line's ceiling: its maximum use level and its IFRA limit at the dosage, under the margin. */
function capOf(maxUsePct: number, limitPct: number, dosagePct: number): number {
  return Math.min(maxUsePct, Number.isFinite(limitPct) ? ((limitPct * 100) / dosagePct) * IFRA_MARGIN : Infinity);
}

/** What a category allows: per material, whether it may be used at all, and its tightest single-Standard IFRA limit (% of the product). */
interface CategoryRules {
  readonly allowed: Uint8Array;
  readonly limitPct: Float64Array;
}

/** The IFRA category and dosage of a product: the request's dosage, else the product's default, else the neat concentrate. */
export function dosageOf(product: ProductCategory, requestedPct?: number): { category: string; dosage: DosageChoice } {
  const row = productDosages().get(product);
  const category = row?.ifraCategory ?? PRODUCT_CATEGORIES[product].ifraCategory;
  const usual = { usualMinPct: row?.usualMinPct ?? null, usualMaxPct: row?.usualMaxPct ?? null };
  if (requestedPct !== undefined) return { category, dosage: { pct: requestedPct, source: 'request', ...usual } };
  if (row?.defaultPct != null) return { category, dosage: { pct: row.defaultPct, source: 'product', ...usual } };
  return { category, dosage: { pct: UNSOURCED_DOSAGE_PCT, source: 'not_sourced', ...usual } };
}

export class Composer {
  readonly character: CharacterModel;
  readonly info: readonly MaterialInfo[];
  private readonly rules = new Map<string, CategoryRules>();

  constructor(
    readonly palette: readonly PaletteMaterial[],
    private readonly regulatory: RegulatoryCatalogue,
  ) {
    this.character = new CharacterModel(palette, { unsourcedWorkingCapPct: UNSOURCED_WORKING_CAP_PCT, unsourcedMaxUsePct: UNSOURCED_MAX_USE_PCT });
    this.info = this.character.info;
  }

  /** Whether material `index` carries a note ("green tea": every word of it among the material's name and descriptors). */
  carries(index: number, note: string): boolean {
    return this.character.carries(index, note);
  }

  /** Whether the brief's refusal `term` refuses material `index`: by family, descriptor or name. */
  refuses(index: number, term: string): boolean {
    return this.character.refuses(index, term);
  }

  /** The brief's context, worked out once: category and dosage, what is refused and allowed, its character. */
  prepare(brief: CreativeBrief, options: { dosagePct?: number } = {}): BriefContext {
    const { category, dosage } = dosageOf(brief.productCategory, options.dosagePct);
    const rules = this.categoryRules(category);
    const forbidden = new Set<number>();
    for (const term of brief.forbiddenIngredients) {
      if (term.trim() === '') continue;
      const refused = this.character.refusedSet(term);
      for (let i = 0; i < refused.length; i++) if (refused[i] === 1) forbidden.add(i);
    }
    // Plain loops, not TypedArray.from: this runs once per served formula, and .from's iterator allocates per element.
    const n = this.info.length;
    const allowed = new Uint8Array(n);
    const capPct = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      allowed[i] = rules.allowed[i] === 1 && !forbidden.has(i) ? 1 : 0;
      capPct[i] = capOf(this.info[i]!.maxUsePct, rules.limitPct[i]!, dosage.pct);
    }
    return { ...this.character.characterOf(brief, allowed), brief, product: brief.productCategory, category, dosagePct: dosage.pct, dosage, allowed, limitPct: rules.limitPct, capPct, forbidden };
  }

  /**
   * Per category: a material is allowed unless the EU prohibits it (Annex II), an IFRA Standard
   * prohibits it (in every category, or in this one), or a limit it needs here is not sourced
   * (unknown is never allowed) — its own Standards', and for a natural those of the substances it
   * carries (IFRA's Annex, as the check counts them). Its limit is the tightest, % of the product,
   * EU Annex III maximums included (on the material, and on the allergens a natural carries).
   */
  private categoryRules(category: string): CategoryRules {
    let rules = this.rules.get(category);
    if (rules !== undefined) return rules;
    const allowed = new Uint8Array(this.info.length);
    const limitPct = new Float64Array(this.info.length).fill(Infinity);
    this.palette.forEach((material, i) => {
      const resolved = this.regulatory.resolve(material.cas);
      let ok = resolved !== null && !resolved.allergens.some((a) => a.annex === 'annex_ii');
      // Each Standard with the share of the material it applies to: 100 % for its own, a carried substance's % of the natural.
      const against: Array<{ standard: IfraStandard; sharePct: number }> = (resolved?.standards ?? []).map((standard) => ({ standard, sharePct: 100 }));
      const carries = resolved?.natural === true ? naturalContents(this.regulatory, resolved.name) : null;
      if (resolved !== null && carries !== null) {
        for (const share of carries.standards?.shares ?? []) {
          const standard = this.regulatory.standards[share.standardOrdinal]!;
          if (!resolved.standards.includes(standard)) against.push({ standard, sharePct: share.pct });
        }
      }
      for (const { standard, sharePct } of against) {
        if (prohibitionOf(standard) !== null) ok = false;
        if (!standard.types.has('restriction')) continue;
        const limit = standard.limits[category];
        if (limit === undefined || limit.kind === 'not_sourced' || limit.kind === 'prohibited') ok = false;
        else if (limit.kind === 'limit') limitPct[i] = Math.min(limitPct[i]!, (limit.pct * 100) / sharePct);
      }
      // EU Annex III maximums in the category, on what the material is and what a natural carries (the check judges both).
      const allergens = (resolved?.allergens ?? []).map((allergen) => ({ allergen, sharePct: 100 }));
      if (carries !== null) {
        for (const share of carries.allergens ?? []) allergens.push({ allergen: this.regulatory.allergens[share.allergenOrdinal]!, sharePct: share.pct });
      }
      for (const { allergen, sharePct } of allergens) {
        const maximum = euMaximumIn(allergen, category);
        if (maximum !== null) limitPct[i] = Math.min(limitPct[i]!, (maximum.pct * 100) / sharePct);
      }
      allowed[i] = ok ? 1 : 0;
    });
    rules = { allowed, limitPct };
    this.rules.set(category, rules);
    return rules;
  }

  /**
   * The material a repair adds, among those `filter` admits and the formula lacks: on-character, and
   * chosen by a fixed rule, not by the brief's profile — a repair fills a gap, it does not compose.
   * Blenders first (they round off any character without adding one of their own), then the asked
   * families and note carriers, then the wheel neighbours; within each, the one with the most room
   * (maximum use level); ties by palette order. With `onCharacter` false, any allowed material may be
   * chosen (only where no on-character one exists at all).
   */
  private best(context: BriefContext, chosen: ReadonlyMap<number, number>, filter: (i: number) => boolean, onCharacter = true): number | null {
    let best: number | null = null;
    let bestScore = -Infinity;
    for (let i = 0; i < this.info.length; i++) {
      if (context.allowed[i] !== 1 || chosen.has(i) || !filter(i)) continue;
      const role = context.roles[i];
      if (onCharacter && role === null) continue;
      const rank = this.info[i]!.blender ? 3 : role === 'asked' || role === 'note' ? 2 : role === 'neighbour' ? 1 : 0;
      const score = rank + Math.min(this.info[i]!.maxUsePct, 40) / 41;
      if (score > bestScore) {
        best = i;
        bestScore = score;
      }
    }
    return best;
  }

  compose(context: BriefContext, units: ReadonlyMap<number, number>): Composition {
    const weights = new Map<number, number>();
    const added = new Set<number>();
    const dropped: number[] = [];
    for (const [i, u] of units) {
      if (u <= 0) continue;
      if (context.allowed[i] === 1) weights.set(i, u);
      else dropped.push(i);
    }
    const add = (i: number | null, parts = 1) => {
      if (i === null || weights.has(i)) return;
      weights.set(i, parts);
      added.add(i);
    };
    const has = (predicate: (i: number) => boolean) => [...weights.keys()].some(predicate);
    for (const family of context.wantedFamilies) {
      if (!has((i) => this.info[i]!.family === family)) add(this.best(context, weights, (i) => this.info[i]!.family === family));
    }
    for (const { carriers, accord } of context.notes) {
      if (accord !== null) for (const m of accord.members) add(m.index, m.parts);
      else if (!carriers.some((i) => weights.has(i))) add(this.best(context, weights, (i) => carriers.includes(i)));
    }
    const positions: Position[] = ['top', 'heart', 'base'];
    for (const position of positions) {
      if (!has((i) => this.info[i]!.position === position)) {
        const at = (i: number) => this.info[i]!.position === position;
        add(this.best(context, weights, at) ?? this.best(context, weights, at, false));
      }
    }
    for (let k = 0; weights.size < MIN_MATERIALS && k < 3 * MIN_MATERIALS; k++) {
      const position = positions[(k + 2) % 3]!; // base, top, heart, …
      add(this.best(context, weights, (i) => this.info[i]!.position === position) ?? this.best(context, weights, () => true));
    }

    const caps = new Map<number, number>();
    for (const i of weights.keys()) caps.set(i, this.capOf(i, context, added.has(i)));
    let pct = this.fill(context, weights, caps, added);
    let request = this.requestOf(context, pct);
    let check = checkFormula(this.regulatory, request);
    // Sums the single-line caps cannot see — IFRA sum rules, and an EU Annex III maximum over several lines (the rose
    // ketones of two materials, an allergen two naturals carry): lower every line a failing sum covers, and fill again.
    for (let round = 0; round < 8 && (check.verdict === 'fail' || check.verdict === 'unknown'); round++) {
      const lines = [...pct.keys()];
      const failingSums: Array<{ lines: readonly number[]; factor: number }> = [];
      for (const combination of check.combinations) {
        if (combination.verdict !== 'fail' || combination.limitPct === null) continue;
        failingSums.push({ lines: combination.lines, factor: combination.rule === 'share' ? 100 / combination.totalPct : combination.limitPct / combination.totalPct });
      }
      for (const allergen of check.allergens.found) {
        if (allergen.euMaximum?.verdict === 'fail') failingSums.push({ lines: allergen.lines, factor: allergen.euMaximum.limitPct / allergen.totalPct });
      }
      for (const sum of failingSums) {
        const factor = (sum.factor * IFRA_MARGIN) ** (round + 1);
        for (const line of sum.lines) caps.set(lines[line]!, Math.min(caps.get(lines[line]!) ?? Infinity, pct.get(lines[line]!)! * factor));
      }
      for (const material of check.materials) {
        if (material.verdict === 'unknown' || (material.verdict === 'fail' && !failingSums.some((sum) => sum.lines.includes(material.line)))) {
          weights.delete(lines[material.line]!);
          caps.delete(lines[material.line]!);
        }
      }
      pct = this.fill(context, weights, caps, added);
      request = this.requestOf(context, pct);
      check = checkFormula(this.regulatory, request);
    }
    const lines = [...pct].map(([index, amount]) => ({ index, pct: amount, added: added.has(index) }));
    return { lines, request, check, unavailableNotes: context.unavailableNotes, dropped };
  }

  /**
   * A line's ceiling: its cap in the brief's context; a line the composer adds holds at most
   * REPAIR_LINE_PCT, and one off the brief's character (only where no on-character material can fill
   * a gap, a missing position) stays a minor line, under OFF_CHARACTER_REPAIR_PCT.
   */
  private capOf(i: number, context: BriefContext, added = false): number {
    const cap = context.capPct[i]!;
    if (!added) return cap;
    return Math.min(cap, context.onCharacter[i] === 1 ? REPAIR_LINE_PCT : OFF_CHARACTER_REPAIR_PCT);
  }

  /**
   * Amounts ∝ units × typical level, water-filled under the caps to 100 % (a line at its cap keeps
   * it; the rest share what is left in proportion); when the caps cannot hold 100 %, an on-character
   * material with room joins (a blender, most often). Rounded to RESOLUTION_PCT, never above a cap.
   */
  private fill(context: BriefContext, weights: Map<number, number>, caps: Map<number, number>, added: Set<number>): Map<number, number> {
    for (let guard = 0; guard < this.info.length; guard++) {
      let capacity = 0;
      for (const i of weights.keys()) capacity += caps.get(i)!;
      if (capacity >= 100 + 1e-9) break;
      const roomy = (i: number) => this.capOf(i, context, true) >= 5;
      const filler = this.best(context, weights, roomy) ?? this.best(context, weights, () => true) ?? this.best(context, weights, roomy, false) ?? this.best(context, weights, () => true, false);
      if (filler === null) break;
      weights.set(filler, 1);
      added.add(filler);
      caps.set(filler, this.capOf(filler, context, true));
    }
    // A line whose ceiling is under one step cannot be in the formula at all.
    for (const i of [...weights.keys()]) {
      if (caps.get(i)! < RESOLUTION_PCT) {
        weights.delete(i);
        caps.delete(i);
      }
    }
    const items = [...weights.keys()].map((i) => ({ i, a: weights.get(i)! * this.info[i]!.typicalPct, cap: caps.get(i)! }));
    items.sort((x, y) => x.cap / x.a - y.cap / y.a);
    const exact = new Map<number, number>();
    let remaining = 100;
    let weight = items.reduce((sum, item) => sum + item.a, 0);
    for (const item of items) {
      const share = (item.a * remaining) / weight;
      const amount = share > item.cap ? item.cap : share;
      exact.set(item.i, amount);
      remaining -= amount;
      weight -= item.a;
    }
    // To the resolution: round down, then hand out the rest a step at a time to the lines with room, largest remainder first.
    const steps = Math.round(100 / RESOLUTION_PCT);
    const rounded = new Map<number, number>();
    let used = 0;
    for (const [i, amount] of exact) {
      const n = Math.max(1, Math.floor(amount / RESOLUTION_PCT + 1e-9));
      rounded.set(i, n);
      used += n;
    }
    const byRemainder = [...exact.keys()].sort((a, b) => exact.get(b)! / RESOLUTION_PCT - rounded.get(b)! - (exact.get(a)! / RESOLUTION_PCT - rounded.get(a)!));
    for (let k = 0; used < steps && k < 4 * steps; k++) {
      const i = byRemainder[k % byRemainder.length]!;
      if ((rounded.get(i)! + 1) * RESOLUTION_PCT <= caps.get(i)! + 1e-9) {
        rounded.set(i, rounded.get(i)! + 1);
        used++;
      }
    }
    // Every line holds at least one step: where that overshoots, the largest lines give a step back.
    const largest = [...rounded.keys()].sort((a, b) => rounded.get(b)! - rounded.get(a)!);
    for (let k = 0; used > steps; k++) {
      const i = largest[k % largest.length]!;
      if (rounded.get(i)! > 1) {
        rounded.set(i, rounded.get(i)! - 1);
        used--;
      }
    }
    const out = new Map<number, number>();
    for (const [i, n] of rounded) out.set(i, Math.round(n * RESOLUTION_PCT * 100) / 100);
    return out;
  }

  private requestOf(context: BriefContext, pct: ReadonlyMap<number, number>): CheckRequest {
    return { category: context.category, dosagePct: context.dosagePct, formula: [...pct].map(([i, amount]) => ({ material: this.palette[i]!.cas, concentrationPct: amount })) };
  }
}
