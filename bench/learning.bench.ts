/**
 * Learning figures, side by side in one run, on the shipped models (models/, pinned in
 * configs/model_pins.json; `make train-default` reproduces them):
 *
 * - mean return with its 95 % t-interval on the held-out briefs (generated with another seed, plus
 *   examples/heldout-briefs.json) beside training briefs, for: the composer alone (no picks, the
 *   baseline), a random policy, the student, the teacher, and what is served (teacher + the
 *   serving-time search);
 * - latency per formula, p50 and p95, end to end (forward passes, steps, composer; served also the
 *   search), teacher vs student vs served, interleaved brief by brief so drift hits all alike;
 * - teacher ÷ student: end-to-end speedup, retention (held-out), KL(teacher ‖ student) on held-out states.
 *
 * Targets: held-out mean ≥ 18 (served), retention ≥ 0.92, KL ≤ 0.15, end-to-end speedup ≥ 4.17.
 *
 *   make bench-learning
 */
import { readFileSync } from 'node:fs';
import { decodeCheckpoint, FormulationEnv, greedy, meanInterval, Random, refine, scorePolicy, SHIPPED_FILES, SHIPPED_MODELS_DIR, trainingBriefSets, type Mlp } from '../src/learning/index.ts';
import { heldOutKl } from '../src/learning/training.ts';
import type { CreativeBrief } from '../src/llm/index.ts';

const load = (file: string): Mlp => decodeCheckpoint(readFileSync(new URL(file, SHIPPED_MODELS_DIR))).net;
const teacher = load(SHIPPED_FILES['formulation-teacher']);
const student = load(SHIPPED_FILES['formulation-student']);
const env = new FormulationEnv();
const sets = trainingBriefSets();
const training = sets.training.slice(0, 240);
const heldOut = sets.heldOut;

const fmt = (m: { mean: number; ci95: number }) => `${m.mean.toFixed(2)} ± ${m.ci95.toFixed(2)}`;
const random = new Random(1);
const randomReturns = (briefs: readonly CreativeBrief[]) => meanInterval(briefs.map((b) => env.episode(b, (_, r) => r.int(env.actions), random).reward.total));
const servedReturns = (briefs: readonly CreativeBrief[]) => meanInterval(briefs.map((b) => refine(env, b, env.episode(b, (s) => greedy(teacher, s), random).units).reward.total));
const aloneReturns = (briefs: readonly CreativeBrief[]) => meanInterval(briefs.map((b) => env.reward(b, new Map()).total));

const studentScores = scorePolicy(student, env, sets);
const teacherScores = scorePolicy(teacher, env, sets);
const rows: Array<[string, string, string]> = [
  ['composer alone (no picks)', fmt(aloneReturns(training)), fmt(aloneReturns(heldOut))],
  ['random policy + composer', fmt(randomReturns(training)), fmt(randomReturns(heldOut))],
  ['student (8 hidden) + composer', fmt(studentScores.training), fmt(studentScores.heldOut)],
  ['teacher (128 hidden) + composer', fmt(teacherScores.training), fmt(teacherScores.heldOut)],
  ['served: teacher + search', fmt(servedReturns(training)), fmt(servedReturns(heldOut))],
];
console.log(`mean return, 95 % t-interval (greedy; ${training.length} training briefs, ${heldOut.length} held-out briefs)\n`);
const widths = [34, 16, 16];
console.log(['', 'training', 'held-out'].map((c, i) => c.padEnd(widths[i]!)).join('  '));
for (const row of rows) console.log(row.map((c, i) => c.padEnd(widths[i]!)).join('  '));

// Latency per formula, end to end, each model on its own copy of the brief (no cache shared), interleaved.
const latencies: Record<'teacher' | 'student' | 'served', number[]> = { teacher: [], student: [], served: [] };
const timeOne = (net: Mlp, brief: CreativeBrief, search: boolean) => {
  const own = structuredClone(brief);
  const started = performance.now();
  const { units } = env.episode(own, (s) => greedy(net, s), random);
  // Served: the search composes as it scores and keeps its best formula; otherwise the picks are composed once.
  if (search) refine(env, own, units);
  else env.compose(own, units);
  return performance.now() - started;
};
for (const brief of heldOut.slice(0, 20)) for (const net of [teacher, student]) timeOne(net, brief, false); // warm-up
for (let round = 0; round < 3; round++) {
  for (const brief of heldOut) {
    latencies.teacher.push(timeOne(teacher, brief, false));
    latencies.student.push(timeOne(student, brief, false));
    latencies.served.push(timeOne(teacher, brief, true));
  }
}
const quantile = (values: number[], q: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(q * values.length))]!;
console.log(`\nlatency per formula, end to end (ms; ${latencies.teacher.length} formulas each, interleaved)\n`);
console.log(`${''.padEnd(10)}  ${'p50'.padEnd(8)}  ${'p95'.padEnd(8)}  mean`);
for (const [name, values] of Object.entries(latencies)) {
  console.log(`${name.padEnd(10)}  ${quantile(values, 0.5).toFixed(3).padEnd(8)}  ${quantile(values, 0.95).toFixed(3).padEnd(8)}  ${(values.reduce((a, b) => a + b, 0) / values.length).toFixed(3)}`);
}
const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
const teacherHeld = teacherScores.heldOut.mean;
const studentHeld = studentScores.heldOut.mean;
console.log(`\nteacher ÷ student: end-to-end speedup ×${(mean(latencies.teacher) / mean(latencies.student)).toFixed(2)} (target ≥ 4.17), retention ${(studentHeld / teacherHeld).toFixed(4)} (≥ 0.92), KL on held-out ${heldOutKl(teacher, student, env, heldOut).toFixed(4)} (≤ 0.15)`);
