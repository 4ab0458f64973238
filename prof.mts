import { ComplianceChecker, RegulatoryCatalogue } from './src/regulation/index.ts';
import { createMetrics } from './src/metrics/index.ts';
const real = RegulatoryCatalogue.load();
let s = 11;
const next = () => { s = (s * 1103515245 + 12345) % 2147483648; return s / 2147483648; };
const natural = real.palette.filter((p) => p.natural).map((p) => p.name);
const single = real.palette.filter((p) => !p.natural).map((p) => p.name);
const draw = (pool: string[], n: number) => Array.from({ length: n }, () => pool.splice(Math.floor(next() * pool.length), 1)[0]!);
const reqs = Array.from({ length: 64 }, () => {
  const names = [...draw([...natural], 10), ...draw([...single], 20)].sort(() => next() - 0.5);
  return { category: ['4', '5A', '9', '12'][Math.floor(next() * 4)]!, dosagePct: 15, formula: names.map((material) => ({ material, concentrationPct: Math.round(3 * (0.5 + next()) * 1000) / 1000 })) };
});
const checker = new ComplianceChecker({ catalogue: real, metrics: createMetrics({ defaultMetrics: false }) });
for (let i = 0; i < 20000; i++) checker.check(reqs[i % 64]!);
const t = performance.now();
const N = 100000;
for (let i = 0; i < N; i++) checker.check(reqs[i % 64]!);
console.log(((performance.now() - t) * 1000 / N).toFixed(2), 'µs/check');
