import type { FormulationEnv } from './environment.ts';
import { PER_MATERIAL } from './environment.ts';
import { Mlp, softmax } from './mlp.ts';
import type { Random } from './random.ts';

/**
 * A policy network for an environment: its trunk reads the brief and the picks so far (the state's
 * scalars) into one logit per action, and its action head adds, for every material, a weighted sum
 * of that material's own features (mlp.ts) — the weights shared by all materials.
 */
export function policyNetwork(env: Pick<FormulationEnv, 'stateSize' | 'actions' | 'layout'>, hidden: number, random: Random): Mlp {
  return new Mlp([env.layout.scalars, hidden, env.actions], random, { inputSize: env.stateSize, actionFeatures: PER_MATERIAL.map((block) => env.layout.blocks[block]) });
}

/**
 * A policy's action distribution in a state: the softmax of its logits over the actions the state
 * allows. The state ends with one flag per action (FormulationEnv.encode: 1 the brief and its
 * category allow the material, 0 not), so a disallowed action has probability 0 — in sampling,
 * greedy choice, PPO's ratios, distillation and KL alike. A state that allows nothing falls back to
 * the plain softmax.
 */
export function actionProbs(logits: Float32Array, state: Float32Array): Float32Array {
  const n = logits.length;
  const start = state.length - n;
  let max = -Infinity;
  for (let i = 0; i < n; i++) if (state[start + i] === 1 && logits[i]! > max) max = logits[i]!;
  if (max === -Infinity) return softmax(logits);
  const out = new Float32Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) if (state[start + i] === 1) sum += out[i] = Math.exp(logits[i]! - max);
  for (let i = 0; i < n; i++) out[i]! /= sum;
  return out;
}

export function policyProbs(net: Mlp, state: Float32Array): Float32Array {
  return actionProbs(net.forward(state).at(-1)!, state);
}

/** The allowed action a policy rates highest (any action when the state allows none). */
export function greedy(net: Mlp, state: Float32Array): number {
  const logits = net.logits(state);
  const start = state.length - logits.length;
  let best = -1;
  for (let i = 0; i < logits.length; i++) if (state[start + i] === 1 && (best === -1 || logits[i]! > logits[best]!)) best = i;
  if (best !== -1) return best;
  best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
  return best;
}
