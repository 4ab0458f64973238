import { LOCAL_JOB, type LearningMetrics } from './metric-relay.ts';
import type { FormulationEnv, RewardBreakdown } from './environment.ts';
import { asPrepared, type BriefPool, type PreparedBriefs } from './prepared-briefs.ts';
import { Mlp } from './mlp.ts';
import { greedy as greedyAction, greedyReturn } from './evaluate.ts';
import { Random } from './random.ts';
import { ReturnAverages, type TrainProgress } from './reinforce.ts';
import { actionProbs, policyNetwork, policyProbs } from './policy.ts';

export interface PpoOptions {
  env: FormulationEnv;
  briefs: BriefPool;
  seed: number;
  hidden?: number;
  learningRate?: number;
  /** The action head's learning rate (default HEAD_LEARNING_RATE; the trunk's default shrinks with its width: see Mlp.adam). */
  headLearningRate?: number;
  /** Episodes collected per update. */
  episodesPerUpdate?: number;
  epochs?: number;
  minibatch?: number;
  clip?: number;
  entropy?: number;
  gaeLambda?: number;
  metrics?: LearningMetrics;
  /** rl_* series label: `ppo`, or the job's own algorithm when PPO trains inside it (hybrid, distill). */
  algorithm?: string;
}

/** The action head's Adam step (its few weights are shared by every material; see Mlp.adam). */
const HEAD_LEARNING_RATE = 0.003;
/** Hidden units of PPO's value network. */
const VALUE_HIDDEN = 64;

/** How many training briefs `evaluate` plays greedily. */
export const EVALUATION_BRIEFS = 200;

interface Transition {
  state: Float32Array;
  action: number;
  logProb: number;
  advantage: number;
  ret: number;
}

/**
 * PPO with the clipped objective: a softmax policy and a value network (both MLPs), advantages by
 * GAE (γ = 1 over the 16-step episode; the reward arrives at the end), several epochs of minibatch
 * updates per batch of episodes, an entropy bonus, and the clip fraction — the share of samples
 * whose probability ratio left [1 − ε, 1 + ε] — measured per update into rl_clip_frac{algorithm="ppo"}.
 */
export class PpoTrainer {
  readonly policy: Mlp;
  readonly value: Mlp;
  readonly averages: ReturnAverages;
  /** Clip fraction of the last update. */
  lastClipFraction = 0;
  private readonly env: FormulationEnv;
  private readonly briefs: PreparedBriefs;
  private readonly random: Random;
  private readonly metrics: LearningMetrics | undefined;
  private readonly o: Required<Omit<PpoOptions, 'env' | 'briefs' | 'seed' | 'metrics' | 'algorithm' | 'headLearningRate'>>;
  private readonly headLearningRate: number;
  /** The algorithm this run reports under (a hybrid or distill run trains its policy with PPO, and says so). */
  private readonly algorithm: string;

  constructor(options: PpoOptions) {
    if (options.briefs.length === 0) throw new RangeError('training needs at least one brief');
    this.env = options.env;
    this.briefs = asPrepared(options.env, options.briefs);
    this.random = new Random(options.seed);
    this.metrics = options.metrics;
    this.averages = new ReturnAverages(options.metrics, options.algorithm ?? 'ppo');
    this.o = {
      hidden: options.hidden ?? 128,
      // A wide trunk sums more units into each logit: its step shrinks with its width (HEAD_LEARNING_RATE at 128 units).
      learningRate: options.learningRate ?? (HEAD_LEARNING_RATE * 128) / Math.max(128, options.hidden ?? 128),
      episodesPerUpdate: options.episodesPerUpdate ?? 32,
      epochs: options.epochs ?? 2,
      minibatch: options.minibatch ?? 128,
      clip: options.clip ?? 0.2,
      entropy: options.entropy ?? 0.01,
      gaeLambda: options.gaeLambda ?? 0.95,
    };
    this.algorithm = options.algorithm ?? 'ppo';
    this.headLearningRate = options.headLearningRate ?? (options.learningRate === undefined ? HEAD_LEARNING_RATE : this.o.learningRate);
    this.policy = policyNetwork(options.env, this.o.hidden, this.random);
    // The value of a state needs the brief and the picks so far: the scalars, through a smaller net.
    this.value = new Mlp([options.env.layout.scalars, VALUE_HIDDEN, 1], this.random, { inputSize: options.env.stateSize });
  }

  act(state: Float32Array, random: Random, greedy = false): number {
    if (greedy) return greedyAction(this.policy, state);
    return random.categorical(policyProbs(this.policy, state));
  }

  private collect(): { transitions: Transition[]; rewards: RewardBreakdown[] } {
    const transitions: Transition[] = [];
    const rewards: RewardBreakdown[] = [];
    for (let e = 0; e < this.o.episodesPerUpdate; e++) {
      const context = this.briefs.get(this.random.int(this.briefs.length));
      const episode = this.env.episode(context, (state, random) => this.act(state, random), this.random);
      const values = episode.states.map((s) => this.value.forward(s).at(-1)![0]!);
      const T = episode.states.length;
      // GAE with γ = 1: only the last step is rewarded; the value after the last step is 0.
      let gae = 0;
      const advantages = new Array<number>(T);
      for (let t = T - 1; t >= 0; t--) {
        const reward = t === T - 1 ? episode.reward.total : 0;
        const next = t === T - 1 ? 0 : values[t + 1]!;
        const delta = reward + next - values[t]!;
        gae = delta + this.o.gaeLambda * gae;
        advantages[t] = gae;
      }
      episode.states.forEach((state, t) => {
        const p = policyProbs(this.policy, state);
        transitions.push({ state, action: episode.actions[t]!, logProb: Math.log(Math.max(p[episode.actions[t]!]!, 1e-12)), advantage: advantages[t]!, ret: advantages[t]! + values[t]! });
      });
      rewards.push(episode.reward);
      this.averages.push(episode.reward.total);
    }
    return { transitions, rewards };
  }

  private update(transitions: Transition[]): void {
    const mean = transitions.reduce((s, t) => s + t.advantage, 0) / transitions.length;
    const std = Math.sqrt(transitions.reduce((s, t) => s + (t.advantage - mean) ** 2, 0) / transitions.length) || 1;
    const order = transitions.map((_, i) => i);
    let clipped = 0;
    let counted = 0;
    for (let epoch = 0; epoch < this.o.epochs; epoch++) {
      for (let i = order.length - 1; i > 0; i--) {
        const j = this.random.int(i + 1);
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      for (let start = 0; start < order.length; start += this.o.minibatch) {
        const batch = order.slice(start, start + this.o.minibatch);
        const pg = this.policy.gradients();
        const vg = this.value.gradients();
        for (const index of batch) {
          const t = transitions[index]!;
          const advantage = (t.advantage - mean) / std;
          const activations = this.policy.forward(t.state);
          const p = actionProbs(activations.at(-1)!, t.state);
          const ratio = Math.exp(Math.log(Math.max(p[t.action]!, 1e-12)) - t.logProb);
          const outOfRange = ratio > 1 + this.o.clip || ratio < 1 - this.o.clip;
          if (outOfRange) clipped++;
          counted++;
          // The clipped objective has no gradient where the clip binds in the advantage's direction.
          const binds = (advantage > 0 && ratio > 1 + this.o.clip) || (advantage < 0 && ratio < 1 - this.o.clip);
          const grad = new Float32Array(p.length);
          let entropy = 0;
          for (let k = 0; k < p.length; k++) entropy -= p[k]! * Math.log(Math.max(p[k]!, 1e-12));
          for (let k = 0; k < p.length; k++) {
            // d(−ratio·A)/dz_k = −A·ratio·(1[k=a] − π_k); entropy bonus: d(−c·H)/dz_k = c·π_k·(log π_k + H)
            const policyTerm = binds ? 0 : -advantage * ratio * ((k === t.action ? 1 : 0) - p[k]!);
            grad[k] = policyTerm + this.o.entropy * p[k]! * (Math.log(Math.max(p[k]!, 1e-12)) + entropy);
          }
          this.policy.backward(activations, grad, pg);
          const va = this.value.forward(t.state);
          this.value.backward(va, Float32Array.of(va.at(-1)![0]! - t.ret), vg);
        }
        this.policy.adam(pg, this.o.learningRate, batch.length, this.headLearningRate);
        this.value.adam(vg, this.o.learningRate, batch.length);
      }
    }
    this.lastClipFraction = counted === 0 ? 0 : clipped / counted;
    this.metrics?.rlClipFrac.set({ algorithm: this.algorithm, job_id: LOCAL_JOB }, this.lastClipFraction);
  }

  train(episodes: number, onProgress?: (progress: TrainProgress) => void): TrainProgress {
    let last: RewardBreakdown | null = null;
    const target = this.averages.count + episodes;
    while (this.averages.count < target) {
      const { transitions, rewards } = this.collect();
      last = rewards.at(-1)!;
      this.update(transitions);
      onProgress?.({ episodes: this.averages.count, ma100: this.averages.ma100, ma1000: this.averages.ma1000, last });
    }
    return { episodes: this.averages.count, ma100: this.averages.ma100, ma1000: this.averages.ma1000, last: last! };
  }

  /** Greedy return over the first EVALUATION_BRIEFS training briefs (a greedy episode is deterministic: one each). */
  evaluate(): number {
    return greedyReturn(this.policy, this.env, this.briefs.slice(EVALUATION_BRIEFS), 1);
  }
}
