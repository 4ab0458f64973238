import { PRODUCT_CATEGORIES, type CreativeBrief } from '../llm/index.ts';
import type { OdorFamily, PaletteMaterial } from '../perfumery/index.ts';
import { checkFormula, prohibitionOf, type CheckRequest, type ComplianceResult, type RegulatoryCatalogue } from '../regulation/index.ts';

/**
 * The composer: turns what a policy picked (units per palette material) into a formula a perfumer
 * would accept for the brief. What it guarantees, whatever the policy did:
 *
 * - nothing the brief refuses (by name, family or descriptor: "no musk" removes every musky material,
 *   "nothing sweet" every gourmand/sweet one and every material described Sweet), nothing IFRA or
 *   the EU prohibits, and nothing whose IFRA limit in the brief's category is not sourced;
 * - every family the brief asks for, every named note a palette material carries (by name or IFRA
 *   descriptor; a note no material carries is reported in `unavailableNotes`), top, heart and base
 *   notes, and at least MIN_MATERIALS materials — added where the policy left them out;
 * - amounts in proportion to units × the material's typical use level, each within its maximum use
 *   level in the concentrate (usage.csv; UNSOURCED_MAX_USE_PCT where none is sourced) and its IFRA
 *   limit at the brief's dosage, summing to 100 % at RESOLUTION_PCT;
 * - the compliance check `pass` or `warning` for the brief's category and dosage: sum rules
 *   (furocoumarin oils, MHC + MOC, isomer groups) are repaired by lowering the lines they cover.
 *
 * Position of a material whose note position is not sourced: derived from its family (our
 * convention, below). Deterministic: the same picks give the same formula.
 */
export type Position = 'top' | 'heart' | 'base';

/** Real formulas hold 8–30 materials; the acceptance floor is 6, the composer aims at 8. */
export const MIN_MATERIALS = 8;
/** The ceiling where usage.csv gives no maximum: no single material above 40 % of the concentrate. */
export const UNSOURCED_MAX_USE_PCT = 40;
/**
 * What the composer itself allows a material whose maximum is not sourced (our choice, well under
 * the ceiling): an unknown use level is not a licence to dominate the formula (Cucumber aldehyde,
 * a trace material, has none sourced).
 */
export const UNSOURCED_WORKING_CAP_PCT = 10;
/** Amounts are multiples of this (% of the concentrate). */
export const RESOLUTION_PCT = 0.01;
/** Typical level assumed where usage.csv gives none (our choice; never above the material's maximum). */
const DEFAULT_TYPICAL_PCT = 2;
/** Share of an IFRA limit the composer aims under, so rounding never tips a line over it. */
const IFRA_MARGIN = 0.97;

/** Our convention for materials whose note position is not sourced (58 rows, mostly naturals). */
const POSITION_BY_FAMILY: Readonly<Record<OdorFamily, Position>> = {
  citrus: 'top',
  green: 'top',
  aldehydic: 'top',
  'marine/ozonic': 'top',
  fruity: 'top',
  floral: 'heart',
  'aromatic/herbal': 'heart',
  spicy: 'heart',
  woody: 'base',
  'ambery/balsamic': 'base',
  musky: 'base',
  'gourmand/sweet': 'base',
  'leathery/animalic': 'base',
  'earthy/mossy': 'base',
};

export interface ComposedLine {
  /** Palette index. */
  readonly index: number;
  /** % of the concentrate, a multiple of RESOLUTION_PCT. */
  readonly pct: number;
  /** Added by the composer (a family, note, position or count the picks lacked), not picked by the policy. */
  readonly added: boolean;
}

export interface Composition {
  readonly lines: readonly ComposedLine[];
  readonly request: CheckRequest;
  readonly check: ComplianceResult;
  /** Named notes no allowed palette material carries: the answer says so. */
  readonly unavailableNotes: readonly string[];
  /** Picks the composer left out: refused by the brief, or not allowed in its category. */
  readonly dropped: readonly number[];
}

/** A word as notes and descriptors are compared: lower case, letters only, plural and final e dropped. */
function stem(word: string): string {
  let w = word.toLowerCase().replace(/[^a-z]/g, '');
  if (w.endsWith('ies') && w.length > 4) w = `${w.slice(0, -3)}y`;
  else if (w.endsWith('es') && w.length > 4) w = w.slice(0, -2);
  else if (w.endsWith('s') && w.length > 3 && !w.endsWith('ss')) w = w.slice(0, -1);
  if (w.endsWith('e') && w.length > 4) w = w.slice(0, -1);
  return w;
}

/** "leather" is carried by Leathery, "cedar" by Cedarwood, "spice" by Spicy: a word and its -y / -wood / -ic form. */
function wordCarries(word: string, token: string): boolean {
  if (word === token) return true;
  return word.startsWith(token) && ['y', 'wood', 'ic'].includes(word.slice(token.length));
}

const tokens = (text: string): string[] => text.split(/[\s,;()/-]+/).map(stem).filter((w) => w.length > 1);

interface MaterialInfo {
  readonly position: Position;
  readonly family: OdorFamily;
  readonly words: readonly string[];
  readonly name: string;
  readonly maxUsePct: number;
  readonly typicalPct: number;
}

/** What a category allows: per material, whether it may be used at all, and its tightest single-Standard IFRA limit (% of the product). */
interface CategoryRules {
  readonly allowed: Uint8Array;
  readonly limitPct: Float64Array;
}

/** Everything about one brief the composer needs, built once per brief object. */
interface BriefContext {
  readonly category: string;
  readonly dosagePct: number;
  readonly allowed: Uint8Array;
  readonly limitPct: Float64Array;
  readonly wantedFamilies: ReadonlySet<OdorFamily>;
  /** Named notes a material carries, with their carriers among the allowed materials. */
  readonly notes: ReadonlyArray<{ readonly note: string; readonly carriers: readonly number[] }>;
  readonly unavailableNotes: readonly string[];
  readonly forbidden: ReadonlySet<number>;
  /** Per material: 1 when it carries one of the brief's available notes. */
  readonly carriesNote: Uint8Array;
}

export class Composer {
  readonly info: readonly MaterialInfo[];
  private readonly rules = new Map<string, CategoryRules>();
  private readonly contexts = new WeakMap<CreativeBrief, BriefContext>();

  constructor(
    readonly palette: readonly PaletteMaterial[],
    private readonly regulatory: RegulatoryCatalogue,
  ) {
    this.info = palette.map((m) => {
      const maxUsePct = Math.min(m.maxUsePct ?? UNSOURCED_WORKING_CAP_PCT, UNSOURCED_MAX_USE_PCT, 100);
      return {
        position: m.notePosition ?? POSITION_BY_FAMILY[m.odorFamily],
        family: m.odorFamily,
        words: [...new Set([...tokens(m.name), ...m.odorDescriptors.flatMap(tokens)])],
        name: m.name.toLowerCase(),
        maxUsePct,
        typicalPct: Math.min(m.typicalUsePct ?? DEFAULT_TYPICAL_PCT, maxUsePct),
      };
    });
  }

  /** The brief's IFRA category and the dosage the check assumes (the EDP one where the product has none sourced). */
  static categoryOf(brief: CreativeBrief): { category: string; dosagePct: number } {
    const product = PRODUCT_CATEGORIES[brief.productCategory];
    return { category: product.ifraCategory, dosagePct: product.defaultDosagePct ?? PRODUCT_CATEGORIES.EDP.defaultDosagePct };
  }

  /** Whether material `index` carries a note ("green tea": every word of it among the material's name and descriptors). */
  carries(index: number, note: string): boolean {
    return this.carriesTokens(index, tokens(note));
  }

  private carriesTokens(index: number, wanted: readonly string[]): boolean {
    const words = this.info[index]!.words;
    return wanted.length > 0 && wanted.every((token) => words.some((word) => wordCarries(word, token)));
  }

  /** Whether the brief's refusal `term` refuses material `index`: by family, descriptor or name. */
  refuses(index: number, term: string): boolean {
    return this.refusesTerm(index, term.trim().toLowerCase(), tokens(term));
  }

  private refusesTerm(index: number, f: string, termTokens: readonly string[]): boolean {
    const info = this.info[index]!;
    if (f === '') return false;
    if (info.family === f || info.family.split('/').some((segment) => segment.startsWith(f) || (f.startsWith(segment) && segment.length >= 4))) return true;
    if (info.name.includes(f)) return true;
    return this.carriesTokens(index, termTokens);
  }

  /** Materials the brief refuses. */
  forbidden(brief: CreativeBrief): ReadonlySet<number> {
    return this.context(brief).forbidden;
  }

  context(brief: CreativeBrief): BriefContext {
    let context = this.contexts.get(brief);
    if (context !== undefined) return context;
    const { category, dosagePct } = Composer.categoryOf(brief);
    const rules = this.categoryRules(category);
    const forbidden = new Set<number>();
    const terms = brief.forbiddenIngredients.map((term) => ({ f: term.trim().toLowerCase(), t: tokens(term) }));
    for (let i = 0; i < this.info.length; i++) if (terms.some(({ f, t }) => this.refusesTerm(i, f, t))) forbidden.add(i);
    const allowed = Uint8Array.from(rules.allowed, (a, i) => (a === 1 && !forbidden.has(i) ? 1 : 0));
    const named = [...new Set([...brief.notesPreference.top, ...brief.notesPreference.heart, ...brief.notesPreference.base].map((n) => n.trim().toLowerCase()))];
    const notes: Array<{ note: string; carriers: number[] }> = [];
    const unavailableNotes: string[] = [];
    const carriesNote = new Uint8Array(this.info.length);
    for (const note of named) {
      const carriers: number[] = [];
      const noteTokens = tokens(note);
      for (let i = 0; i < this.info.length; i++) if (allowed[i] === 1 && this.carriesTokens(i, noteTokens)) carriers.push(i);
      if (carriers.length === 0) unavailableNotes.push(note);
      else {
        notes.push({ note, carriers });
        for (const i of carriers) carriesNote[i] = 1;
      }
    }
    context = { category, dosagePct, allowed, limitPct: rules.limitPct, wantedFamilies: new Set(brief.notesPreference.families), notes, unavailableNotes, forbidden, carriesNote };
    this.contexts.set(brief, context);
    return context;
  }

  /**
   * Per category: a material is allowed unless the EU prohibits it (Annex II), an IFRA Standard
   * prohibits it (in every category, or in this one), or a limit it needs here is not sourced
   * (unknown is never allowed). Its limit is the tightest of its Standards' (% of the product).
   */
  private categoryRules(category: string): CategoryRules {
    let rules = this.rules.get(category);
    if (rules !== undefined) return rules;
    const allowed = new Uint8Array(this.info.length);
    const limitPct = new Float64Array(this.info.length).fill(Infinity);
    this.palette.forEach((material, i) => {
      const resolved = this.regulatory.resolve(material.cas);
      let ok = resolved !== null && !resolved.allergens.some((a) => a.annex === 'annex_ii');
      for (const standard of resolved?.standards ?? []) {
        if (prohibitionOf(standard) !== null) ok = false;
        if (!standard.types.has('restriction')) continue;
        const limit = standard.limits[category];
        if (limit === undefined || limit.kind === 'not_sourced' || limit.kind === 'prohibited') ok = false;
        else if (limit.kind === 'limit') limitPct[i] = Math.min(limitPct[i]!, limit.pct);
      }
      allowed[i] = ok ? 1 : 0;
    });
    rules = { allowed, limitPct };
    this.rules.set(category, rules);
    return rules;
  }

  /** The best material to add: carries a wanted note, is in a wanted family, sits at the position; ties by palette order. */
  private best(context: BriefContext, chosen: ReadonlyMap<number, number>, filter: (i: number) => boolean): number | null {
    let best: number | null = null;
    let bestScore = -1;
    for (let i = 0; i < this.info.length; i++) {
      if (context.allowed[i] !== 1 || chosen.has(i) || !filter(i)) continue;
      const score = 4 * context.carriesNote[i]! + 2 * (context.wantedFamilies.has(this.info[i]!.family) ? 1 : 0) + Math.min(this.info[i]!.maxUsePct, 20) / 20;
      if (score > bestScore) {
        best = i;
        bestScore = score;
      }
    }
    return best;
  }

  compose(brief: CreativeBrief, units: ReadonlyMap<number, number>): Composition {
    const context = this.context(brief);
    const weights = new Map<number, number>();
    const added = new Set<number>();
    const dropped: number[] = [];
    for (const [i, u] of units) {
      if (u <= 0) continue;
      if (context.allowed[i] === 1) weights.set(i, u);
      else dropped.push(i);
    }
    const add = (i: number | null) => {
      if (i === null) return;
      weights.set(i, 1);
      added.add(i);
    };
    for (const family of context.wantedFamilies) {
      if (![...weights.keys()].some((i) => this.info[i]!.family === family)) add(this.best(context, weights, (i) => this.info[i]!.family === family));
    }
    for (const { carriers } of context.notes) {
      if (!carriers.some((i) => weights.has(i))) add(this.best(context, weights, (i) => carriers.includes(i)));
    }
    const positions: Position[] = ['top', 'heart', 'base'];
    for (const position of positions) {
      if (![...weights.keys()].some((i) => this.info[i]!.position === position)) add(this.best(context, weights, (i) => this.info[i]!.position === position));
    }
    for (let k = 0; weights.size < MIN_MATERIALS && k < 3 * MIN_MATERIALS; k++) {
      const position = positions[(k + 2) % 3]!; // base, top, heart, …
      add(this.best(context, weights, (i) => this.info[i]!.position === position) ?? this.best(context, weights, () => true));
    }

    const caps = new Map<number, number>();
    for (const i of weights.keys()) caps.set(i, this.capOf(i, context));
    let pct = this.fill(context, weights, caps, added);
    let request = this.requestOf(context, pct);
    let check = checkFormula(this.regulatory, request);
    // Sum rules the single-line caps cannot see: lower every line a failing sum covers, and fill again.
    for (let round = 0; round < 8 && (check.verdict === 'fail' || check.verdict === 'unknown'); round++) {
      const lines = [...pct.keys()];
      for (const combination of check.combinations) {
        if (combination.verdict !== 'fail' || combination.limitPct === null) continue;
        const factor = ((combination.rule === 'share' ? 100 / combination.totalPct : combination.limitPct / combination.totalPct) * IFRA_MARGIN) ** (round + 1);
        for (const line of combination.lines) caps.set(lines[line]!, pct.get(lines[line]!)! * factor);
      }
      for (const material of check.materials) {
        if (material.verdict === 'unknown' || (material.verdict === 'fail' && !check.combinations.some((c) => c.verdict === 'fail' && c.lines.includes(material.line)))) {
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

  /** A line's ceiling: its maximum use level and its IFRA limit at the brief's dosage, under the margin. */
  private capOf(i: number, context: BriefContext): number {
    const ifra = context.limitPct[i]!;
    return Math.min(this.info[i]!.maxUsePct, Number.isFinite(ifra) ? ((ifra * 100) / context.dosagePct) * IFRA_MARGIN : Infinity);
  }

  /**
   * Amounts ∝ units × typical level, water-filled under the caps to 100 % (a line at its cap keeps
   * it; the rest share what is left in proportion); when the caps cannot hold 100 %, a material with
   * room (preferring the brief's families) joins. Rounded to RESOLUTION_PCT, never above a cap.
   */
  private fill(context: BriefContext, weights: Map<number, number>, caps: Map<number, number>, added: Set<number>): Map<number, number> {
    for (let guard = 0; guard < this.info.length; guard++) {
      let capacity = 0;
      for (const i of weights.keys()) capacity += caps.get(i)!;
      if (capacity >= 100 + 1e-9) break;
      const filler = this.best(context, weights, (i) => this.capOf(i, context) >= 5) ?? this.best(context, weights, () => true);
      if (filler === null) break;
      weights.set(filler, 1);
      added.add(filler);
      caps.set(filler, this.capOf(filler, context));
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
