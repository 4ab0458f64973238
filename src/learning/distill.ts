import type { CreativeBrief } from '../llm/index.ts';
import type { Metrics } from '../metrics/index.ts';
import type { FormulationEnv } from './environment.ts';
import { Mlp, softmax } from './mlp.ts';
import { Random } from './random.ts';

export interface Policy {
  readonly net: Mlp;
}

/** KL(p ‖ q) of two distributions. */
export function kl(p: Float32Array, q: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < p.length; i++) if (p[i]! > 0) sum += p[i]! * (Math.log(p[i]!) - Math.log(Math.max(q[i]!, 1e-12)));
  return sum;
}

/** The action a policy rates highest. */
export function greedy(net: Mlp, state: Float32Array): number {
  const logits = net.forward(state).at(-1)!;
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
  return best;
}

export interface DistillResult {
  readonly student: Mlp;
  /** Mean KL(teacher ‖ student) on held-out states, before and after. */
  readonly klBefore: number;
  readonly klAfter: number;
  readonly states: number;
}

/**
 * Teacher → student distillation: a smaller MLP trained to match the teacher's action
 * distributions — minimising KL(teacher ‖ student), whose gradient with respect to the student's
 * logits is (student − teacher) — on states from the teacher's own rollouts over the briefs.
 * `rl_distill_kl{teacher,student}` follows the held-out KL as it trains.
 */
export function distill(options: {
  teacher: Mlp;
  env: FormulationEnv;
  briefs: readonly CreativeBrief[];
  seed: number;
  hidden?: number;
  episodesPerBrief?: number;
  epochs?: number;
  learningRate?: number;
  metrics?: Metrics;
  names?: { teacher: string; student: string };
}): DistillResult {
  const random = new Random(options.seed);
  const student = new Mlp([options.env.stateSize, options.hidden ?? 8, options.env.actions], random);
  // States the teacher visits (sampling its own policy, so the states cover what it does).
  const states: Float32Array[] = [];
  for (const brief of options.briefs) {
    for (let e = 0; e < (options.episodesPerBrief ?? 40); e++) {
      const episode = options.env.episode(brief, (state, r) => r.categorical(softmax(options.teacher.forward(state).at(-1)!)), random);
      states.push(...episode.states);
    }
  }
  for (let i = states.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [states[i], states[j]] = [states[j]!, states[i]!];
  }
  const heldOut = states.slice(0, Math.max(32, Math.floor(states.length / 10)));
  const train = states.slice(heldOut.length);
  const targets = new Map(states.map((s) => [s, softmax(options.teacher.forward(s).at(-1)!)]));
  const meanKl = () => heldOut.reduce((sum, s) => sum + kl(targets.get(s)!, softmax(student.forward(s).at(-1)!)), 0) / heldOut.length;
  const labels = options.names ?? { teacher: 'ppo', student: 'ppo-student' };
  const klBefore = meanKl();
  const batch = 64;
  for (let epoch = 0; epoch < (options.epochs ?? 30); epoch++) {
    for (let start = 0; start < train.length; start += batch) {
      const grads = student.gradients();
      const slice = train.slice(start, start + batch);
      for (const s of slice) {
        const activations = student.forward(s);
        const q = softmax(activations.at(-1)!);
        const p = targets.get(s)!;
        student.backward(activations, Float32Array.from(q, (v, i) => v - p[i]!), grads);
      }
      student.adam(grads, options.learningRate ?? 0.01, slice.length);
    }
    options.metrics?.rlDistillKl.set(labels, meanKl());
  }
  return { student, klBefore, klAfter: meanKl(), states: states.length };
}

/** Mean return of a greedy policy over the briefs, with fixed seeds. */
export function greedyReturn(net: Mlp, env: FormulationEnv, briefs: readonly CreativeBrief[], episodesPerBrief = 5, seed = 12345): number {
  const random = new Random(seed);
  let sum = 0;
  let n = 0;
  for (const brief of briefs) for (let i = 0; i < episodesPerBrief; i++) {
    sum += env.episode(brief, (state) => greedy(net, state), random).reward.total;
    n++;
  }
  return sum / n;
}

export interface Evaluation {
  readonly mean: number;
  /** Half-width of the 95 % confidence interval of the mean (normal approximation over the seeds). */
  readonly ci95: number;
  readonly seeds: number;
  readonly episodes: number;
  readonly perSeed: readonly number[];
}

/**
 * Mean return of a policy sampling its actions (a greedy policy is deterministic, so seeds would
 * not vary it), over fixed seeds 1..seeds: each seed plays `episodesPerBrief` episodes of every brief.
 */
export function evaluatePolicy(net: Mlp, env: FormulationEnv, briefs: readonly CreativeBrief[], seeds = 10, episodesPerBrief = 5): Evaluation {
  if (seeds < 2) throw new RangeError('a confidence interval needs at least 2 seeds');
  const perSeed: number[] = [];
  for (let seed = 1; seed <= seeds; seed++) {
    const random = new Random(seed);
    let sum = 0;
    for (const brief of briefs) for (let i = 0; i < episodesPerBrief; i++) {
      sum += env.episode(brief, (state, r) => r.categorical(softmax(net.forward(state).at(-1)!)), random).reward.total;
    }
    perSeed.push(sum / (briefs.length * episodesPerBrief));
  }
  const mean = perSeed.reduce((a, b) => a + b, 0) / seeds;
  const variance = perSeed.reduce((a, b) => a + (b - mean) ** 2, 0) / (seeds - 1);
  return { mean, ci95: 1.96 * Math.sqrt(variance / seeds), seeds, episodes: seeds * briefs.length * episodesPerBrief, perSeed };
}

/** Microseconds per single forward pass (the inference a request pays), median of a few runs. */
export function inferenceMicros(net: Mlp, state: Float32Array, iterations = 2000): number {
  const runs: number[] = [];
  for (let r = 0; r < 5; r++) {
    const started = performance.now();
    for (let i = 0; i < iterations; i++) net.forward(state);
    runs.push(((performance.now() - started) * 1000) / iterations);
  }
  return runs.sort((a, b) => a - b)[2]!;
}
