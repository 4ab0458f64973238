/**
 * Learning figures side by side: environment steps per second (random policy), one PPO update
 * (32 episodes, 4 epochs), and teacher vs student — inference µs, greedy return (retention) and
 * KL(teacher ‖ student). Targets: student ≥ 4.17× faster, retention ≥ 0.92, mean KL ≤ 0.15.
 *
 *   make bench-learning        (trains a PPO teacher first: about a minute and a half)
 */
import { distill, FormulationEnv, greedyReturn, inferenceMicros, PpoTrainer, Random, TRAINING_BRIEFS } from '../src/learning/index.ts';
import { localBrief } from '../src/llm/index.ts';

const env = new FormulationEnv();
const briefs = TRAINING_BRIEFS.map(localBrief);
const random = new Random(1);
let steps = 0;
let started = performance.now();
while (performance.now() - started < 1_000) {
  env.episode(briefs[steps % briefs.length]!, (_, r) => r.int(env.actions), random);
  steps += 16;
}
const stepsPerSecond = (steps * 1000) / (performance.now() - started);

const teacher = new PpoTrainer({ env, briefs, seed: 7 });
started = performance.now();
teacher.train(32);
const firstUpdateMs = performance.now() - started;
started = performance.now();
teacher.train(3968);
const trainSeconds = (performance.now() - started) / 1000;
const updateMs = (trainSeconds * 1000) / (3968 / 32);

const result = distill({ teacher: teacher.policy, env, briefs, seed: 7 });
const state = env.encode(briefs[0]!, new Map(), 0);
const teacherUs = inferenceMicros(teacher.policy, state);
const studentUs = inferenceMicros(result.student, state);
const teacherReturn = greedyReturn(teacher.policy, env, briefs);
const studentReturn = greedyReturn(result.student, env, briefs);

console.log(`environment: ${Math.round(stepsPerSecond).toLocaleString('en')} steps/s (random policy, reward with the compliance check at each episode end)`);
console.log(`PPO update (32 episodes, 4 epochs): ${updateMs.toFixed(0)} ms on average (first: ${firstUpdateMs.toFixed(0)} ms); 4000 episodes in ${(trainSeconds + firstUpdateMs / 1000).toFixed(1)} s, reward MA100 ${teacher.averages.ma100.toFixed(2)}`);
console.log('');
console.log('            hidden  inference µs  greedy return');
console.log(`teacher     ${String(teacher.policy.sizes[1]).padEnd(6)}  ${teacherUs.toFixed(1).padEnd(12)}  ${teacherReturn.toFixed(2)}`);
console.log(`student     ${String(result.student.sizes[1]).padEnd(6)}  ${studentUs.toFixed(1).padEnd(12)}  ${studentReturn.toFixed(2)}`);
console.log('');
console.log(`speed-up ×${(teacherUs / studentUs).toFixed(2)} (target ≥ 4.17), retention ${(studentReturn / teacherReturn).toFixed(3)} (≥ 0.92), KL(teacher ‖ student) ${result.klBefore.toFixed(3)} → ${result.klAfter.toFixed(3)} (≤ 0.15)`);
