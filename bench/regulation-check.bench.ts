/**
 * Compliance check throughput: µs per check and checks/s for formulas of 10, 30
 * and 100 materials, against the full sourced catalogue and against one ten
 * times larger, side by side with a linear-scan baseline (what a check without
 * the CAS/name indexes costs). Target: ≤ 20 µs for 30 materials on one core.
 *
 * Then 30-line formulas holding 10 naturals (essential oils, absolutes: each counted with what it
 * carries — IFRA's Annex on natural contributions against the Standards, natural-allergens.csv on
 * the label) side by side with 30-line formulas of single substances only (the baseline: what the
 * naturals' contents cost). Goals: check ≤ 12 µs with metrics, certificate ≤ 50 µs.
 *
 * Then the IFRA certificate (maximum dosage in all 18 categories) on the full data, side by side
 * with the baseline a calculator without it would run: one check per category, each at the
 * concentrate's dosage (what it takes to learn the 18 verdicts, which still does not give the
 * maximum). Target: ≤ 50 µs for 30 materials.
 *
 * It measures the compiled code in dist/ (below).
 *
 *   make bench-regulation     (or, after make build: node --import tsx bench/regulation-check.bench.ts)
 */
import { existsSync } from 'node:fs';
import type * as MetricsModule from '../src/metrics/index.ts';
import type * as RegulationModule from '../src/regulation/index.ts';
import type { CheckRequest, ComplianceChecker as Checker, EuAllergen, IfraStandard, RegulatoryCatalogue as Catalogue, ResolvedMaterial } from '../src/regulation/index.ts';

// The compiled code the service and the CLI run (make build), not the sources through tsx: tsx's transform wraps every
// function it creates in a naming helper (keepNames), which production never runs — it cost the certificate, which
// builds closures per category, about 40 % (60.5 µs through tsx, 42.1 µs compiled, same formulas, this machine).
const compiled = (path: string) => new URL(`../dist/${path}`, import.meta.url);
if (!existsSync(compiled('regulation/index.js'))) throw new Error('dist/ is not built: run `make build` (make bench-regulation does)');
const { createMetrics } = (await import(compiled('metrics/index.js').href)) as typeof MetricsModule;
const { ComplianceChecker, isValidCas, normalizeName, RegulatoryCatalogue } = (await import(compiled('regulation/index.js').href)) as typeof RegulationModule;
import type { PaletteMaterial } from '../src/perfumery/index.ts';

/** Deterministic pseudo-random numbers (mulberry32), so every run checks the same formulas. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A valid CAS number for a synthetic material n (prefix 2 000 000 and up, which no real material in the data uses). */
function syntheticCas(n: number): string {
  const head = String(2_000_000 + n);
  const digits = `${head}00`;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) sum += Number(digits[digits.length - 1 - i]) * (i + 1);
  const cas = `${head}-00-${sum % 10}`;
  if (!isValidCas(cas)) throw new Error(`bad synthetic CAS ${cas}`);
  return cas;
}

/** The real catalogue plus nine renamed copies of every row: ten times the data, same formulas. */
function tenfold(real: Catalogue): Catalogue {
  let n = 0;
  const casMap = () => new Map<string, string>();
  const standards: IfraStandard[] = [...real.standards];
  const allergens: EuAllergen[] = [...real.allergens];
  const palette: PaletteMaterial[] = [...real.palette];
  for (let copy = 1; copy < 10; copy++) {
    const map = casMap();
    const fake = (cas: string) => {
      let mapped = map.get(cas);
      if (mapped === undefined) map.set(cas, (mapped = syntheticCas(n++)));
      return mapped;
    };
    for (const s of real.standards) standards.push({ ...s, id: `${s.id}_x${copy}`, name: `${s.name} x${copy}`, cas: s.cas.map(fake) });
    for (const a of real.allergens) allergens.push({ ...a, id: `${a.id}_x${copy}`, labelName: `${a.labelName} x${copy}`, names: a.names.map((x) => `${x} x${copy}`), cas: a.cas.map(fake), groupCas: a.groupCas.map(fake) });
    for (const p of real.palette) palette.push({ ...p, name: `${p.name} x${copy}`, ifraPrincipalName: `${p.ifraPrincipalName} x${copy}`, cas: fake(p.cas) });
  }
  return new RegulatoryCatalogue({ standards, allergens, groups: real.groups, categories: real.categories, palette });
}

/** The baseline: the same data, resolved by scanning every row for every formula line. */
class LinearScanCatalogue extends RegulatoryCatalogue {
  override resolve(text: string): ResolvedMaterial | null {
    const wanted = normalizeName(text);
    const palette = this.palette.find((p) => p.cas === text.trim() || normalizeName(p.name) === wanted || normalizeName(p.ifraPrincipalName) === wanted) ?? null;
    const cas = palette?.cas ?? (isValidCas(text.trim()) ? text.trim() : null);
    if (cas === null) return super.resolve(text);
    const standards = this.standards.filter((s) => s.cas.includes(cas));
    const allergens = this.allergens.filter((a) => a.cas.includes(cas));
    if (palette === null && standards.length === 0 && allergens.length === 0) return null;
    return {
      key: cas,
      keyOrdinal: super.resolve(cas)!.keyOrdinal,
      name: palette?.name ?? standards[0]?.name ?? allergens[0]!.labelName,
      cas,
      standards,
      allergens,
      palette,
      natural: palette?.natural ?? false,
      standardOrdinals: standards.map((s) => this.standards.indexOf(s)),
      allergenOrdinals: allergens.map((a) => this.allergens.indexOf(a)),
    };
  }
}

/** 30-line formulas with `naturals` naturals of the palette and the rest single substances, in random order. */
function mixedFormulas(catalogue: Catalogue, naturals: number, count: number, seed: number): CheckRequest[] {
  const next = random(seed);
  const natural = catalogue.palette.filter((p) => p.natural).map((p) => p.name);
  const single = catalogue.palette.filter((p) => !p.natural).map((p) => p.name);
  const draw = (pool: string[], n: number) => Array.from({ length: n }, () => pool.splice(Math.floor(next() * pool.length), 1)[0]!);
  return Array.from({ length: count }, () => {
    const names = [...draw([...natural], naturals), ...draw([...single], 30 - naturals)].sort(() => next() - 0.5);
    const formula = names.map((material) => ({ material, concentrationPct: Math.round(3 * (0.5 + next()) * 1000) / 1000 }));
    return { category: ['4', '5A', '9', '12'][Math.floor(next() * 4)]!, dosagePct: 15, formula };
  });
}

function formulas(catalogue: Catalogue, size: number, count: number, seed: number): CheckRequest[] {
  const next = random(seed);
  const names = catalogue.palette.slice(0, 170).map((p) => p.name);
  return Array.from({ length: count }, () => {
    const pool = [...names];
    const formula = Array.from({ length: size }, () => {
      const [name] = pool.splice(Math.floor(next() * pool.length), 1);
      return { material: name!, concentrationPct: Math.round((90 / size) * (0.5 + next()) * 1000) / 1000 };
    });
    const total = formula.reduce((s, l) => s + l.concentrationPct, 0);
    if (total > 100) for (const line of formula) line.concentrationPct = Math.floor((line.concentrationPct * 99_000) / total) / 1000;
    return { category: ['4', '5A', '9', '12'][Math.floor(next() * 4)]!, dosagePct: 15, formula };
  });
}

/** µs per check for each checker: median over 500-check batches, measured in alternating rounds so drift hits all alike. */
function measureAll(checkers: readonly Checker[], requests: readonly CheckRequest[]): Array<{ usPerCheck: number; checksPerSecond: number }> {
  const perCheck = timeAll(checkers.map((checker) => (i: number) => checker.check(requests[i % requests.length]!)), { batch: 500, warmUp: 2_000 });
  return perCheck.map((usPerCheck) => ({ usPerCheck, checksPerSecond: 1e6 / usPerCheck }));
}

/** µs per call of each function: the median over batches, in alternating rounds so drift hits all alike. */
function timeAll(functions: ReadonlyArray<(i: number) => unknown>, options: { batch?: number; warmUp?: number; rounds?: number; secondsPerRound?: number } = {}): number[] {
  const { batch = 200, warmUp = 1_000, rounds = 5, secondsPerRound = 0.2 } = options;
  for (const f of functions) for (let i = 0; i < warmUp; i++) f(i);
  const samples: number[][] = functions.map(() => []);
  for (let round = 0; round < rounds; round++) {
    functions.forEach((f, c) => {
      const deadline = performance.now() + secondsPerRound * 1000;
      let i = 0;
      do {
        const start = performance.now();
        for (let k = 0; k < batch; k++) f(i++);
        samples[c]!.push(((performance.now() - start) * 1000) / batch);
      } while (performance.now() < deadline);
    });
  }
  return samples.map((perBatch) => perBatch.sort((a, b) => a - b)[Math.floor(perBatch.length / 2)]!);
}

type Measured = { usPerCheck: number; checksPerSecond: number };

const real = RegulatoryCatalogue.load();
const big = tenfold(real);
const linear = new LinearScanCatalogue({ standards: real.standards, allergens: real.allergens, groups: real.groups, categories: real.categories, palette: real.palette });
const linearBig = new LinearScanCatalogue({ standards: big.standards, allergens: big.allergens, groups: big.groups, categories: big.categories, palette: big.palette });
const metrics = createMetrics({ defaultMetrics: false });

console.log(`catalogue: ${real.standards.length} IFRA Standards, ${real.allergens.length} EU allergens, ${real.palette.length} palette materials; ×10: ${big.standards.length}, ${big.allergens.length}, ${big.palette.length}`);
console.log('µs per check (median of 500-check batches over 5 alternating rounds; checks/s in brackets); every check records its metrics as the service does\n');
const rows: string[][] = [['materials', 'indexed', 'indexed ×10 data', 'linear scan', 'linear ×10 data', '×10 / indexed', 'linear / indexed']];
for (const size of [10, 30, 100]) {
  const requests = formulas(real, size, 64, size);
  const [indexed, indexedBig, scan, scanBig] = measureAll(
    [real, big, linear, linearBig].map((catalogue) => new ComplianceChecker({ catalogue, metrics })),
    requests,
  ) as [Measured, Measured, Measured, Measured];
  const cell = (m: Measured) => `${m.usPerCheck.toFixed(2)} (${Math.round(m.checksPerSecond).toLocaleString('en')})`;
  rows.push([String(size), cell(indexed), cell(indexedBig), cell(scan), cell(scanBig), (indexedBig.usPerCheck / indexed.usPerCheck).toFixed(2), (scan.usPerCheck / indexed.usPerCheck).toFixed(1)]);
}
const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
for (const row of rows) console.log(row.map((cell, c) => cell.padEnd(widths[c]!)).join('  '));
const thirty = rows[2]![1]!;
console.log(`\ntarget: ≤ 20 µs per check for 30 materials; measured ${thirty.split(' ')[0]} µs`);

console.log('\n30 lines holding 10 naturals (what they carry counted) vs 30 single substances (baseline): µs per call, median over alternating rounds\n');
{
  const withNaturals = mixedFormulas(real, 10, 64, 11);
  const withoutNaturals = mixedFormulas(real, 0, 64, 11);
  const checker = new ComplianceChecker({ catalogue: real, metrics });
  const [checkNaturals, checkSingles, certificateNaturals, certificateSingles] = timeAll([
    (i) => checker.check(withNaturals[i % 64]!),
    (i) => checker.check(withoutNaturals[i % 64]!),
    (i) => checker.certificate({ formula: withNaturals[i % 64]!.formula }),
    (i) => checker.certificate({ formula: withoutNaturals[i % 64]!.formula }),
  ], { batch: 500, warmUp: 2_000 }) as [number, number, number, number];
  const naturalRows = [
    ['', '10 naturals', 'no natural (baseline)', 'naturals / baseline', 'goal'],
    ['check (with metrics)', checkNaturals.toFixed(2), checkSingles.toFixed(2), (checkNaturals / checkSingles).toFixed(2), '≤ 12 µs'],
    ['certificate', certificateNaturals.toFixed(2), certificateSingles.toFixed(2), (certificateNaturals / certificateSingles).toFixed(2), '≤ 50 µs'],
  ];
  const w = naturalRows[0]!.map((_, c) => Math.max(...naturalRows.map((r) => r[c]!.length)));
  for (const row of naturalRows) console.log(row.map((cell, c) => cell.padEnd(w[c]!)).join('  '));
}

console.log('\nIFRA certificate, all 18 categories (µs per certificate, median of 200-call batches over 5 alternating rounds)\n');
const plain = new ComplianceChecker({ catalogue: real });
const categoryIds = real.categories.map((c) => c.id);
const certificateRows: string[][] = [['materials', 'certificate', '18 checks (baseline)', 'baseline / certificate']];
for (const size of [10, 30, 100]) {
  const requests = formulas(real, size, 64, size);
  const [certificate, perCategory] = timeAll([
    (i) => plain.certificate({ formula: requests[i % requests.length]!.formula }),
    (i) => {
      const request = requests[i % requests.length]!;
      for (const category of categoryIds) plain.check({ ...request, category });
    },
  ]) as [number, number];
  certificateRows.push([String(size), certificate.toFixed(2), perCategory.toFixed(2), (perCategory / certificate).toFixed(2)]);
}
const certificateWidths = certificateRows[0]!.map((_, c) => Math.max(...certificateRows.map((r) => r[c]!.length)));
for (const row of certificateRows) console.log(row.map((cell, c) => cell.padEnd(certificateWidths[c]!)).join('  '));
console.log(`\ntarget: ≤ 50 µs per certificate for 30 materials; measured ${certificateRows[2]![1]} µs`);
