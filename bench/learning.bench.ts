/**
 * Learning figures, side by side in one run, on the shipped models (models/, pinned in
 * configs/model_pins.json; `make train-default` reproduces them):
 *
 * - per row — the composer alone (no picks), an untrained policy (the teacher's shape, seed 1, no
 *   training) + composer, a random policy + composer, the student, the teacher, and what is served
 *   (the pinned production policy's picks → the composer) — the mean reward with its 95 % t-interval
 *   on training briefs and on held-out briefs (generated with another seed, plus the customer texts of
 *   examples/heldout-briefs.json), the character rate (character.ts: the criterion) on held-out briefs
 *   and on our own kept set (examples/character-briefs.json), and the share of the served concentrate
 *   the policy's picks make up;
 * - latency per formula, end to end as production serves one (the brief's context, the picks, the
 *   composer), teacher vs student, interleaved brief by brief so drift hits both alike, the first of
 *   each pair alternating;
 * - teacher ÷ student: end-to-end speedup (ratio of means, and the median of per-brief ratios),
 *   retention of the teacher's lift over the composer alone, KL(teacher ‖ student) on held-out states.
 *
 * Targets (the formulation issue): served ≥ 20 held-out; untrained ≤ 10; teacher − composer alone ≥ 5;
 * character rate ≥ 90 %; speedup ≥ 4.17, retention ≥ 0.92, KL ≤ 0.15.
 *
 *   make bench-learning
 */
import { readFileSync } from 'node:fs';
import {
  decodeCheckpoint,
  FormulationEnv,
  greedy,
  judge,
  policyNetwork,
  PreparedBriefs,
  Random,
  SHIPPED_FILES,
  SHIPPED_MODELS_DIR,
  TEACHER_HIDDEN,
  trainingBriefSets,
  type Judgement,
  type Mlp,
} from '../src/learning/index.ts';
import { heldOutKl } from '../src/learning/training.ts';
import { localBrief, policyPinOf, readPins } from '../src/llm/index.ts';
import { runModel } from '../src/shadow/index.ts';

const env = new FormulationEnv();
const load = (file: string): Mlp => decodeCheckpoint(readFileSync(new URL(file, SHIPPED_MODELS_DIR)), env.world).net;
const teacher = load(SHIPPED_FILES['formulation-teacher']);
const student = load(SHIPPED_FILES['formulation-student']);
// What serves: the production pin (the shipped pins name the teacher).
const pins = await readPins('configs/model_pins.json');
const servedCid = policyPinOf(pins, 'formulation-policy')?.cid;
const teacherCid = policyPinOf(pins, 'formulation-teacher')?.cid;
const served = servedCid === teacherCid ? teacher : load(SHIPPED_FILES['formulation-policy']);
const untrained = policyNetwork(env, TEACHER_HIDDEN, new Random(1));

const sets = trainingBriefSets();
const training = new PreparedBriefs(env, sets.training.slice(0, 240));
const heldOut = new PreparedBriefs(env, sets.heldOut);
const kept = new PreparedBriefs(env, (JSON.parse(readFileSync('examples/character-briefs.json', 'utf8')) as { texts: string[] }).texts.map(localBrief));

const greedyOf = (net: Mlp) => (state: Float32Array) => greedy(net, state);
const randomPolicy = (_: Float32Array, random: Random) => random.int(env.actions);
const rows: Array<[string, ((state: Float32Array, random: Random) => number) | null]> = [
  ['composer alone (no picks)', null],
  [`untrained policy (${TEACHER_HIDDEN} hidden) + composer`, greedyOf(untrained)],
  ['random policy + composer', randomPolicy],
  [`student (${student.sizes[1]} hidden) + composer`, greedyOf(student)],
  [`teacher (${teacher.sizes[1]} hidden) + composer`, greedyOf(teacher)],
  ['served (production pin) + composer', greedyOf(served)],
];
const fmt = (j: Judgement) => `${j.reward.mean.toFixed(2)} ± ${j.reward.ci95.toFixed(2)}`;
const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
console.log(`reward (mean, 95 % t-interval over briefs), character rate and the policy's share of the concentrate\n${training.length} training briefs, ${heldOut.length} held-out briefs (${sets.heldOut.length - 40} generated with another seed + 40 customer texts), ${kept.length} kept character briefs\n`);
const widths = [38, 14, 14, 12, 12, 12];
console.log(['', 'training', 'held-out', 'char held', 'char kept', 'policy %'].map((c, i) => c.padEnd(widths[i]!)).join('  '));
const judged: Record<string, Judgement> = {};
for (const [name, policy] of rows) {
  const t = judge(env, training, policy, new Random(1));
  const h = judge(env, heldOut, policy, new Random(2));
  const k = judge(env, kept, policy, new Random(3));
  judged[name] = h;
  console.log([name, fmt(t), fmt(h), pct(h.characterRate), pct(k.characterRate), policy === null ? '—' : h.policySharePct.toFixed(1)].map((c, i) => c.padEnd(widths[i]!)).join('  '));
}
const alone = judged['composer alone (no picks)']!.reward.mean;
const teacherRow = judged[`teacher (${teacher.sizes[1]} hidden) + composer`]!;
const studentRow = judged[`student (${student.sizes[1]} hidden) + composer`]!;
console.log(`\nteacher − composer alone (held-out): ${(teacherRow.reward.mean - alone).toFixed(2)} points (target ≥ 5)`);

// Latency per formula, end to end as production serves it, interleaved and alternating which runs first.
const latencies = { teacher: [] as number[], student: [] as number[] };
const ratios: number[] = [];
for (const brief of sets.heldOut.slice(0, 20)) for (const net of [teacher, student]) runModel(env, net, brief); // warm-up
for (let round = 0; round < 3; round++) {
  sets.heldOut.forEach((brief, k) => {
    const order = (k + round) % 2 === 0 ? (['teacher', 'student'] as const) : (['student', 'teacher'] as const);
    const ms: Record<string, number> = {};
    for (const which of order) ms[which] = runModel(env, which === 'teacher' ? teacher : student, brief).latencyMs;
    latencies.teacher.push(ms.teacher!);
    latencies.student.push(ms.student!);
    ratios.push(ms.teacher! / ms.student!);
  });
}
const quantile = (values: number[], q: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(q * values.length))]!;
const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
console.log(`\nlatency per formula, end to end (ms; ${latencies.teacher.length} formulas each, interleaved)\n`);
console.log(`${''.padEnd(10)}  ${'p50'.padEnd(8)}  ${'p95'.padEnd(8)}  mean`);
for (const [name, values] of Object.entries(latencies)) console.log(`${name.padEnd(10)}  ${quantile(values, 0.5).toFixed(3).padEnd(8)}  ${quantile(values, 0.95).toFixed(3).padEnd(8)}  ${mean(values).toFixed(3)}`);
const liftT = teacherRow.perBrief.reduce((a, b) => a + b.reward, 0) - alone * teacherRow.perBrief.length;
const liftS = studentRow.perBrief.reduce((a, b) => a + b.reward, 0) - alone * studentRow.perBrief.length;
console.log(
  `\nteacher ÷ student: end-to-end speedup ×${(mean(latencies.teacher) / mean(latencies.student)).toFixed(2)} (ratio of means; median of per-brief ratios ×${quantile(ratios, 0.5).toFixed(2)}; target ≥ 4.17), ` +
    `retention of the lift over the composer alone ${(liftS / liftT).toFixed(4)} (≥ 0.92; reward ratio ${(studentRow.reward.mean / teacherRow.reward.mean).toFixed(4)}), ` +
    `KL on held-out states ${heldOutKl(teacher, student, env, heldOut).toFixed(4)} (≤ 0.15)`,
);
