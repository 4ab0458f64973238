import { euConditionGaps, euMaximumIn, prohibitionOf, type CategoryLimit, type EuAllergen, type IfraStandard, type RegulatoryCatalogue } from './catalogue.ts';
// The check's noise-only rounding: the certificate's figures are cleaned as the check's are.
import { round } from './check-results.ts';
import { resolveFormula } from './formula-lines.ts';
import { constituentsNotSourced, naturalContents } from './naturals.ts';
import type { CertificateCategory, CertificateRequest, IfraCertificate, LimitingItem, LimitingKind } from './certificate-types.ts';

/**
 * The IFRA Certificate of Conformity of a fragrance concentrate: for each of the 18 IFRA
 * categories, the highest dosage (% of the concentrate in the finished product) at which every
 * IFRA Standard the formula touches is met, the Standards or sum rules that set it, and the
 * amendment. What a fragrance house sends with every concentrate, and what an IFRA calculator
 * computes.
 *
 * For a concentrate holding c % of a material whose category limit is L % of the finished
 * product, dosage d puts d·c/100 % in the product, so d ≤ 100·L/c. A Standard covering several
 * lines (isomers) and a `total` sum rule use the lines' summed c; a `share` sum rule (the
 * furocoumarin oils) needs Σ d·cᵢ/(100·Lᵢ) ≤ 1, so d ≤ 100 / Σ cᵢ/Lᵢ. The maximum is the least of
 * these, capped at 100 (nothing limits it). It is null, with the reason, when a limit it needs is
 * not sourced (or a material is not in the data) and no known limit already brings it to 0:
 * unknown is never allowed.
 *
 * A natural line counts towards the Standards of the substances it carries (IFRA's Annex on
 * natural contributions, read by the rule of naturals.ts): 10 % clove bud oil puts 8.2 % eugenol in
 * the concentrate, and `limitedBy` names the naturals carrying the substance that binds.
 *
 * Values are rounded *down* to 4 significant digits, so the certificate never states more than the
 * limits allow.
 */

/** 10^k for k from -30 to 30, as `10 ** k` computes them: POW10[k + 30]. */
const POW10 = Array.from({ length: 61 }, (_, i) => 10 ** (i - 30));

/** ⌊log10 x⌋ for x > 0, by comparison with the powers of ten (a logarithm per call was a tenth of a certificate). */
function decimalExponent(x: number): number {
  let k = 0;
  if (x >= 1) while (k < 30 && x >= POW10[k + 31]!) k++;
  else while (k > -30 && x < POW10[k + 30]!) k--;
  return k;
}

/** Rounds down to `digits` significant digits, after taking away binary noise (100·0.1/10 = 1.0000000000000002). */
export function floorSignificant(value: number, digits = 4): number {
  if (value === 0 || !Number.isFinite(value)) return value;
  // Binary noise is a few units in the last place: a relative nudge of 1e-12 lifts 2.9999999999999996 to 3 (and leaves
  // 1.0000000000000002 at 1) without printing the number, which costs more than the rest of a category.
  const nudged = value * (1 + 1e-12);
  const exponent = digits - 1 - decimalExponent(Math.abs(nudged));
  const scale = exponent >= -30 && exponent <= 30 ? POW10[exponent + 30]! : 10 ** exponent;
  return Math.floor(nudged * scale) / scale;
}

/**
 * What limits the dosage in a category, before it is known whether it binds: kept as numbers (the
 * exact maximum it allows) and turned into a LimitingItem only when it does — most do not, and the
 * certificate runs 18 categories.
 */
interface Candidate {
  kind: LimitingKind;
  id: string;
  name: string;
  limitPct: number | null;
  concentratePct: number;
  maxDosagePct: number;
  carriedBy: LimitingItem['carriedBy'];
  sourceIds: readonly string[];
}

type Carried = LimitingItem['carriedBy'][number];

/** " (carried by Jasmine absolute, line 2)", or nothing. */
function carriedText(carried: readonly Carried[] | undefined): string {
  return carried === undefined || carried.length === 0 ? '' : ` (carried by ${carried.map((c) => `${c.material}, line ${c.line}`).join('; ')})`;
}
const NONE_CARRIED: readonly Carried[] = Object.freeze([]);

function toItem(candidate: Candidate): LimitingItem {
  return {
    kind: candidate.kind,
    id: candidate.id,
    name: candidate.name,
    limitPct: candidate.limitPct,
    concentratePct: round(candidate.concentratePct),
    maxDosagePct: floorSignificant(Math.min(100, candidate.maxDosagePct)),
    carriedBy: candidate.carriedBy,
    sourceIds: candidate.sourceIds,
  };
}

/** Keeps the least maximum and the candidates that reach it (ties within rounding). */
class Least {
  value = 100;
  private readonly reaching: Candidate[] = [];
  offer(candidate: Candidate): void {
    const value = candidate.maxDosagePct;
    if (value > this.value * (1 + 1e-9)) return;
    if (value < this.value * (1 - 1e-9)) {
      this.value = value;
      this.reaching.length = 0;
    }
    if (value < 100) this.reaching.push(candidate);
  }
  items(): LimitingItem[] {
    return this.reaching.map(toItem);
  }
}

const NOT_SOURCED: CategoryLimit = { kind: 'not_sourced' };
/** A Standard's limits by category position: the limits, and their % as numbers (Infinity: no restriction; NaN: prohibited or not sourced). */
interface LimitColumn {
  readonly limits: readonly CategoryLimit[];
  readonly pct: Float64Array;
  /** prohibitionOf(standard), read once per catalogue (it walks the Standard's limits). */
  readonly prohibition: ReturnType<typeof prohibitionOf>;
  /** The Standard's source ids, as positions in LimitTable.sourceIds. */
  readonly sources: Int32Array;
}

/** Every Standard's limit columns, by ordinal, and the source ids they cite (each once). */
interface LimitTable {
  readonly columns: readonly LimitColumn[];
  readonly sourceIds: readonly string[];
}

const tablesByCatalogue = new WeakMap<RegulatoryCatalogue, LimitTable>();

/** Per Standard ordinal, its limit in each category, by the category's position in `catalogue.categories`: built once per catalogue. */
function limitTable(catalogue: RegulatoryCatalogue): LimitTable {
  let table = tablesByCatalogue.get(catalogue);
  if (table === undefined) {
    const sourceIds: string[] = [];
    const sourceOrdinal = new Map<string, number>();
    const columns = catalogue.standards.map((standard) => {
      const limits = catalogue.categories.map((category) => standard.limits[category.id] ?? NOT_SOURCED);
      const pct = new Float64Array(limits.length);
      limits.forEach((limit, i) => (pct[i] = limit.kind === 'limit' ? limit.pct : limit.kind === 'no_restriction' ? Infinity : NaN));
      const sources = Int32Array.from(standard.sourceIds, (id) => {
        let ordinal = sourceOrdinal.get(id);
        if (ordinal === undefined) sourceOrdinal.set(id, (ordinal = sourceIds.push(id) - 1));
        return ordinal;
      });
      return { limits, pct, prohibition: prohibitionOf(standard), sources };
    });
    tablesByCatalogue.set(catalogue, (table = { columns, sourceIds }));
  }
  return table;
}

const DAY_MS = 86_400_000;
let today = { until: 0, text: '' };

/** Today's date (UTC) as YYYY-MM-DD, worked out once a day: a Date and its ISO string per certificate were a tenth of its cost. */
function todayIso(now = Date.now()): string {
  if (now >= today.until) {
    const start = now - (now % DAY_MS);
    today = { until: start + DAY_MS, text: new Date(start).toISOString().slice(0, 10) };
  }
  return today.text;
}

/** The cited Standards' source ids and the other ids the certificate collected, each once, sorted. */
function citedSourceIds(cited: Uint8Array, standardSourceIds: readonly string[], others: Set<string>): string[] {
  for (let i = 0; i < cited.length; i++) if (cited[i] === 1) others.add(standardSourceIds[i]!);
  return [...others].sort();
}

export function ifraCertificate(catalogue: RegulatoryCatalogue, request: CertificateRequest): IfraCertificate {
  const resolved = resolveFormula(catalogue, request.formula);
  // Per Standard: the concentrate % against it — the lines that are it and what naturals carry of it.
  const byStandard = new Map<IfraStandard, number>();
  const carriedBy = new Map<IfraStandard, Carried[]>();
  // Per Standard: the lines that do not declare its specification met (a prohibited grade then cannot be ruled out).
  const undeclared = new Map<IfraStandard, number[]>();
  // Per prohibition: the lines with a CAS it shares with the part of its Standard that allows the material, not declared as that part.
  const sharedUndeclared = new Map<IfraStandard, number[]>();
  // Per EU allergen with an Annex III maximum: its concentrate % (the lines that are it and what naturals carry of it).
  const allergenTotals = new Map<EuAllergen, { concentratePct: number; carried: Carried[] }>();
  const addAllergen = (allergen: EuAllergen, pct: number, carried: Carried | null) => {
    if (allergen.maximums.length === 0) return;
    const total = allergenTotals.get(allergen) ?? { concentratePct: 0, carried: [] };
    total.concentratePct += pct;
    if (carried !== null) total.carried.push(carried);
    allergenTotals.set(allergen, total);
  };
  const gaps = new Set<string>();
  const specifications: Array<{ line: number; standard: string; note: string }> = [];
  const euProhibited: Array<{ line: number; material: string; entry: string | null }> = [];
  // Constraints alike in every category: prohibitions, and what cannot be known at all.
  const always: Candidate[] = [];
  const alwaysUnknown: string[] = [];
  const sourceIds = new Set<string>();
  resolved.forEach((material, line) => {
    const concentrationPct = request.formula[line]!.concentrationPct;
    if (material === null) {
      alwaysUnknown.push(`"${request.formula[line]!.material}" is not in the sourced data`);
      return;
    }
    for (const standard of material.standards) {
      if (material.cas !== null && standard.sharedCas.includes(material.cas)) {
        // The check's rule: a CAS on both the prohibited and the allowed part of a Standard (Tagetes oil 8016-84-0) is
        // judged by the allowed part when the line declares it, and cannot be judged when it does not.
        if (request.formula[line]!.specificationMet !== true) sharedUndeclared.set(standard, [...(sharedUndeclared.get(standard) ?? []), line]);
        continue;
      }
      byStandard.set(standard, (byStandard.get(standard) ?? 0) + concentrationPct);
      if (standard.specification !== null) specifications.push({ line, standard: standard.name, note: standard.specification });
      if (standard.specification !== null && standard.types.has('prohibition') && request.formula[line]!.specificationMet !== true) undeclared.set(standard, [...(undeclared.get(standard) ?? []), line]);
    }
    for (const allergen of material.allergens) {
      if (allergen.annex === 'annex_ii') euProhibited.push({ line, material: material.name, entry: allergen.entry });
      else addAllergen(allergen, concentrationPct, null);
    }
    if (material.natural) {
      const { allergens, standards: contents } = naturalContents(catalogue, material.name);
      for (const share of allergens ?? []) {
        const pct = (concentrationPct * share.pct) / 100;
        addAllergen(catalogue.allergens[share.allergenOrdinal]!, pct, { line, material: material.name, concentratePct: round(pct), basis: share.basis });
      }
      if (contents === undefined) gaps.add(constituentsNotSourced(material.name));
      else {
        for (const share of contents.shares) {
          const standard = catalogue.standards[share.standardOrdinal]!;
          if (material.standards.includes(standard)) continue;
          const carried = (concentrationPct * share.pct) / 100;
          byStandard.set(standard, (byStandard.get(standard) ?? 0) + carried);
          const entry = { line, material: material.name, concentratePct: round(carried), basis: share.basis };
          const list = carriedBy.get(standard);
          if (list === undefined) carriedBy.set(standard, [entry]);
          else list.push(entry);
        }
        for (const text of contents.unmapped) gaps.add(`${material.name} carries ${text} (IFRA's Annex): not counted`);
      }
    }
  });

  for (const [standard, lines] of sharedUndeclared) {
    for (const id of standard.sourceIds) sourceIds.add(id);
    alwaysUnknown.push(`${standard.name}: IFRA prohibits it and lists CAS ${standard.sharedCas.join(', ')} under the part of the Standard that allows the material too; line ${lines.join(', ')} does not declare the allowed part (specificationMet)`);
  }
  const { columns, sourceIds: standardSourceIds } = limitTable(catalogue);
  // Which of the Standards' source ids the certificate cites: a flag per id, turned into names once at the end.
  const cited = new Uint8Array(standardSourceIds.length);
  for (const allergen of allergenTotals.keys()) {
    for (const id of allergen.sourceIds) sourceIds.add(id);
    for (const gap of euConditionGaps(allergen)) gaps.add(gap);
  }
  // perPct: 100 ÷ the concentrate %, so a category's maximum for a limit is one multiplication.
  const restricting: Array<{ standard: IfraStandard; concentratePct: number; perPct: number; column: LimitColumn }> = [];
  for (const [standard, concentratePct] of byStandard) {
    for (const rule of catalogue.unappliedRulesOf(standard)) gaps.add(rule.text);
    const limitsOf = columns[catalogue.standardOrdinal(standard)]!;
    for (const ordinal of limitsOf.sources) cited[ordinal] = 1;
    const prohibition = limitsOf.prohibition;
    // The check's rule: a prohibited grade is ruled out only by the lines declaring the specified grade.
    if (prohibition === 'grade' && undeclared.has(standard)) {
      alwaysUnknown.push(`${standard.name}: IFRA prohibits a grade of it, and line ${undeclared.get(standard)!.join(', ')} does not declare the specified grade (specificationMet)`);
    } else if (prohibition === 'specification_not_sourced') {
      alwaysUnknown.push(`the specification of ${standard.name} (a prohibition + specification Standard: which grade is allowed) is not sourced`);
    } else if (prohibition === 'grade') {
      if (standard.types.has('restriction') && concentratePct > 0) restricting.push({ standard, concentratePct, perPct: 100 / concentratePct, column: limitsOf });
    } else if (prohibition !== null) {
      if (prohibition === 'limits_not_sourced') alwaysUnknown.push(`limits of ${standard.name} (a prohibition + restriction Standard) are not sourced${carriedText(carriedBy.get(standard))}`);
      else always.push({ kind: 'prohibition', id: standard.id, name: standard.name, limitPct: 0, concentratePct, maxDosagePct: 0, carriedBy: carriedBy.get(standard) ?? NONE_CARRIED, sourceIds: standard.sourceIds });
    } else if (standard.types.has('restriction') && concentratePct > 0) restricting.push({ standard, concentratePct, perPct: 100 / concentratePct, column: limitsOf });
  }
  const groups = catalogue.groups.flatMap((group) => {
    const members = group.standardIds.flatMap((id) => {
      const standard = catalogue.standardById(id)!;
      const concentratePct = byStandard.get(standard);
      return concentratePct === undefined || concentratePct === 0 ? [] : [{ standard, concentratePct }];
    });
    if (members.length < 2) return [];
    for (const id of group.sourceIds) sourceIds.add(id);
    const from = group.limitFrom === null ? null : catalogue.standardById(group.limitFrom)!;
    const carried = members.flatMap((m) => carriedBy.get(m.standard) ?? []);
    return [{ group, members, from, totalPct: members.reduce((sum, m) => sum + m.concentratePct, 0), carried: carried.length === 0 ? NONE_CARRIED : carried }];
  });

  // What cannot be known in any category, said once: most categories add nothing to it.
  const alwaysReason = alwaysUnknown.join('; ');
  // Each category's maximum per restricting Standard, reused from category to category.
  const maxDosages = new Float64Array(restricting.length);
  const categories: CertificateCategory[] = catalogue.categories.map((category, column) => {
    const least = new Least();
    const unknowns: string[] = [];
    for (const candidate of always) least.offer(candidate);
    const offerLimit = (
      limit: CategoryLimit | undefined,
      standard: IfraStandard,
      concentratePct: number,
      carried: readonly Carried[],
      as: { kind: LimitingKind; id: string; name: string; sourceIds: readonly string[] } | null,
    ) => {
      if (limit === undefined || limit.kind === 'not_sourced') unknowns.push(`IFRA category ${category.id} limit of ${standard.name} is not sourced`);
      else if (limit.kind === 'prohibited') least.offer({ kind: 'prohibition', id: as?.id ?? standard.id, name: as?.name ?? standard.name, limitPct: 0, concentratePct, maxDosagePct: 0, carriedBy: carried, sourceIds: as?.sourceIds ?? standard.sourceIds });
      else if (limit.kind === 'limit') {
        const maxDosagePct = (100 * limit.pct) / concentratePct;
        if (maxDosagePct < least.value * (1 + 1e-9)) least.offer({ kind: as?.kind ?? 'standard', id: as?.id ?? standard.id, name: as?.name ?? standard.name, limitPct: limit.pct, concentratePct, maxDosagePct, carriedBy: carried, sourceIds: as?.sourceIds ?? standard.sourceIds });
      }
    };
    // Most limits do not bind: the least maximum they allow is found on numbers first (no restriction: Infinity; NaN, a
    // prohibited or unsourced cell, is never less), and only the limits that reach it — or whose cell is not a number —
    // are offered, so no candidate is built for a limit that a later one undercuts.
    let reach = least.value;
    for (let i = 0; i < restricting.length; i++) {
      const item = restricting[i]!;
      const maxDosagePct = (maxDosages[i] = item.column.pct[column]! * item.perPct);
      if (maxDosagePct < reach) reach = maxDosagePct;
    }
    reach *= 1 + 1e-9;
    for (let i = 0; i < restricting.length; i++) {
      if (maxDosages[i]! >= reach) continue;
      const { standard, concentratePct, column: limitsOf } = restricting[i]!;
      offerLimit(limitsOf.limits[column], standard, concentratePct, carriedBy.get(standard) ?? NONE_CARRIED, null);
    }
    for (const { group, members, from, totalPct, carried } of groups) {
      if (from !== null) {
        offerLimit(from.limits[category.id], from, totalPct, carried, { kind: 'sum_rule', id: group.id, name: group.name, sourceIds: group.sourceIds });
        continue;
      }
      let shares = 0;
      for (const { standard, concentratePct } of members) {
        const limit = standard.limits[category.id];
        if (limit === undefined || limit.kind === 'not_sourced') unknowns.push(`IFRA category ${category.id} limit of ${standard.name} (in ${group.name}) is not sourced`);
        else if (limit.kind === 'limit') shares += concentratePct / limit.pct;
      }
      if (shares > 0) least.offer({ kind: 'sum_rule', id: group.id, name: group.name, limitPct: 100, concentratePct: Number((shares * 100).toPrecision(12)), maxDosagePct: 100 / shares, carriedBy: carried, sourceIds: group.sourceIds });
    }
    // EU Annex III maximums, where one applies in this category: 100 × maximum / concentrate %.
    for (const [allergen, { concentratePct, carried }] of allergenTotals) {
      const maximum = euMaximumIn(allergen, category.id);
      if (maximum === null || concentratePct <= 0) continue;
      const maxDosagePct = (100 * maximum.pct) / concentratePct;
      if (maxDosagePct >= least.value * (1 + 1e-9)) continue;
      least.offer({ kind: 'eu_maximum', id: allergen.id, name: `${allergen.labelName} (EU Annex III entry ${allergen.entry}: at most ${maximum.pct} % in ${maximum.products})`, limitPct: maximum.pct, concentratePct, maxDosagePct, carriedBy: carried.length === 0 ? NONE_CARRIED : carried, sourceIds: allergen.sourceIds });
    }
    const limitedBy = least.items();
    const maxDosagePct = floorSignificant(least.value);
    if ((unknowns.length > 0 || alwaysUnknown.length > 0) && maxDosagePct > 0) {
      const reason = unknowns.length === 0 ? alwaysReason : [...alwaysUnknown, ...unknowns].join('; ');
      return { category: category.id, description: category.description, maxDosagePct: null, limitedBy, upperBoundPct: maxDosagePct, reason };
    }
    return { category: category.id, description: category.description, maxDosagePct, limitedBy, upperBoundPct: null, reason: null };
  });

  return {
    amendment: catalogue.latestAmendment,
    name: request.name ?? null,
    date: request.date === undefined ? todayIso() : request.date.toISOString().slice(0, 10),
    formula: request.formula.map((line, index) => ({
      line: index,
      material: line.material,
      name: resolved[index]?.name ?? null,
      cas: resolved[index]?.cas ?? null,
      concentrationPct: line.concentrationPct,
    })),
    categories,
    specifications,
    euProhibited,
    gaps: [...gaps],
    sourceIds: citedSourceIds(cited, standardSourceIds, sourceIds),
  };
}
