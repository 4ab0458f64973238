import type { FormulationEnv } from './environment.ts';
import { asPrepared, type BriefPool, type PreparedBriefs } from './prepared-briefs.ts';
import type { Mlp } from './mlp.ts';
import { Random } from './random.ts';
import { actionProbs, policyNetwork, policyProbs } from './policy.ts';

export interface Policy {
  readonly net: Mlp;
}

/** KL(p ‖ q) of two distributions. */
export function kl(p: Float32Array, q: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < p.length; i++) if (p[i]! > 0) sum += p[i]! * (Math.log(p[i]!) - Math.log(Math.max(q[i]!, 1e-12)));
  return sum;
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
 * The held-out KL before and after is in the result (and a job's summary); `rl_distill_kl` is the
 * shadow evaluation's measure of the pinned models on live traffic, not training's.
 */
export function distill(options: {
  teacher: Mlp;
  env: FormulationEnv;
  briefs: BriefPool;
  /** Briefs the held-out KL is measured on: never among `briefs` (states of the same rollouts would duplicate training states). */
  heldOutBriefs?: BriefPool;
  seed: number;
  hidden?: number;
  episodesPerBrief?: number;
  epochs?: number;
  learningRate?: number;
}): DistillResult {
  const random = new Random(options.seed);
  const student = policyNetwork(options.env, options.hidden ?? 8, random);
  // States the teacher visits (sampling its own policy, so the states cover what it does).
  const visit = (briefs: PreparedBriefs, episodes: number): Float32Array[] => {
    const states: Float32Array[] = [];
    for (const context of briefs) {
      for (let e = 0; e < episodes; e++) states.push(...options.env.episode(context, (state, r) => r.categorical(policyProbs(options.teacher, state)), random).states);
    }
    return states;
  };
  const train = visit(asPrepared(options.env, options.briefs), options.episodesPerBrief ?? 40);
  for (let i = train.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [train[i], train[j]] = [train[j]!, train[i]!];
  }
  // Held-out states come from briefs the student never learns from (their own rollouts, one each).
  const heldOut = options.heldOutBriefs === undefined ? train.splice(0, Math.max(32, Math.floor(train.length / 10))) : visit(asPrepared(options.env, options.heldOutBriefs), 1);
  const targets = new Map([...train, ...heldOut].map((s) => [s, policyProbs(options.teacher, s)]));
  const meanKl = () => heldOut.reduce((sum, s) => sum + kl(targets.get(s)!, policyProbs(student, s)), 0) / heldOut.length;
  const klBefore = meanKl();
  const batch = 64;
  for (let epoch = 0; epoch < (options.epochs ?? 30); epoch++) {
    for (let start = 0; start < train.length; start += batch) {
      const grads = student.gradients();
      const slice = train.slice(start, start + batch);
      for (const s of slice) {
        const activations = student.forward(s);
        const q = actionProbs(activations.at(-1)!, s);
        const p = targets.get(s)!;
        student.backward(activations, Float32Array.from(q, (v, i) => v - p[i]!), grads);
      }
      student.adam(grads, options.learningRate ?? 0.01, slice.length);
    }
  }
  return { student, klBefore, klAfter: meanKl(), states: train.length + heldOut.length };
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
