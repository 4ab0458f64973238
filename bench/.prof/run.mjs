import { createMetrics } from '/work/main/dist/metrics/index.js';
import { RegulatoryCatalogue, ComplianceChecker, ifraCertificate } from '/work/main/dist/regulation/index.js';
function random(seed) { let s = seed >>> 0; return () => { s = (s + 0x6d2b79f5) >>> 0; let t = s; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; }; }
const cat = RegulatoryCatalogue.load();
const next = random(5);
const natural = cat.palette.filter((p) => p.natural).map((p) => p.name);
const single = cat.palette.filter((p) => !p.natural).map((p) => p.name);
const draw = (pool, n) => Array.from({ length: n }, () => pool.splice(Math.floor(next() * pool.length), 1)[0]);
const reqs = Array.from({ length: 64 }, () => {
  const names = [...draw([...natural], 10), ...draw([...single], 20)].sort(() => next() - 0.5);
  return { category: ['4', '5A', '9', '12'][Math.floor(next() * 4)], dosagePct: 15, formula: names.map((material) => ({ material, concentrationPct: Math.round(3 * (0.5 + next()) * 1000) / 1000 })) };
});
const checker = new ComplianceChecker({ catalogue: cat, metrics: createMetrics({ defaultMetrics: false }) });
const mode = process.argv[2] ?? 'check';
const f = mode === 'check' ? (i) => checker.check(reqs[i % 64]) : (i) => ifraCertificate(cat, { formula: reqs[i % 64].formula });
for (let i = 0; i < 5000; i++) f(i);
const t0 = performance.now(); let n = 0;
while (performance.now() - t0 < 4000) { for (let k = 0; k < 500; k++) f(n++); }
console.log(mode, ((performance.now() - t0) * 1000 / n).toFixed(2), 'µs');
if (mode === 'size') {
  let s = { std: 0, cons: 0, comb: 0, found: 0, contrib: 0, lineStd: 0, notes: 0, gaps: 0, json: 0 };
  for (const r of reqs) { const x = checker.check(r); s.cons += x.constituents.length; s.comb += x.combinations.length; s.found += x.allergens.found.length; s.contrib += x.allergens.found.reduce((a, f) => a + (f.contributions?.length ?? 0), 0); s.lineStd += x.materials.reduce((a, m) => a + m.standards.length, 0); s.notes += x.materials.reduce((a, m) => a + m.notes.length, 0); s.gaps += x.gaps.length; s.json += JSON.stringify(x).length; }
  for (const k in s) s[k] = (s[k] / reqs.length).toFixed(1);
  console.log(s);
}
