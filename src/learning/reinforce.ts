import { LOCAL_JOB, type LearningMetrics } from './metric-relay.ts';
import type { FormulationEnv, RewardBreakdown } from './environment.ts';
import { asPrepared, type BriefPool, type PreparedBriefs } from './prepared-briefs.ts';
import type { Mlp } from './mlp.ts';
import { greedy as greedyAction, greedyReturn } from './evaluate.ts';
import { Random } from './random.ts';
import { actionProbs, policyNetwork, policyProbs } from './policy.ts';

/**
 * How many served formulas the served moving average needs before it is published: an average of a
 * handful of formulas after a pin change is noise, and LowRewardMA must not fire on it.
 */
export const SERVED_MA_MIN_FORMULAS = 20;

/** Moving averages of episode returns over the last 100 and 1000 episodes (rl_reward_ma's two windows). */
export class ReturnAverages {
  private readonly returns: number[] = [];
  private sum100 = 0;
  private sum1000 = 0;
  private total = 0;

  /** With `metrics`, every push publishes both windows in rl_reward_ma{algorithm, source, job_id}. */
  constructor(
    private readonly metrics?: Pick<LearningMetrics, 'rlRewardMa'>,
    private readonly algorithm = 'reinforce',
    private readonly source: 'training' | 'served' = 'training',
    private readonly jobId = source === 'served' ? 'served' : LOCAL_JOB,
    /** Returns needed before the averages are published (SERVED_MA_MIN_FORMULAS for served ones). */
    private readonly publishFrom = source === 'served' ? SERVED_MA_MIN_FORMULAS : 1,
  ) {}

  push(value: number): void {
    this.total++;
    this.returns.push(value);
    this.sum100 += value;
    this.sum1000 += value;
    const n = this.returns.length;
    if (n > 100) this.sum100 -= this.returns[n - 101]!;
    if (n > 1000) this.sum1000 -= this.returns[n - 1001]!;
    if (n > 2000) this.returns.splice(0, n - 1001);
    if (this.total < this.publishFrom) return;
    this.metrics?.rlRewardMa.set({ algorithm: this.algorithm, window: '100', source: this.source, job_id: this.jobId }, this.ma100);
    this.metrics?.rlRewardMa.set({ algorithm: this.algorithm, window: '1000', source: this.source, job_id: this.jobId }, this.ma1000);
  }

  get ma100(): number {
    return this.sum100 / Math.min(100, this.returns.length);
  }

  get ma1000(): number {
    return this.sum1000 / Math.min(1000, this.returns.length);
  }

  /** Episodes seen in all. */
  get count(): number {
    return this.total;
  }
}

export interface TrainProgress {
  readonly episodes: number;
  readonly ma100: number;
  readonly ma1000: number;
  readonly last: RewardBreakdown;
}

/**
 * REINFORCE with a baseline: a softmax policy over the environment's actions, updated after each
 * batch of episodes along ∇ log π(a|s) · (G − b), where b is an exponential moving average of
 * returns. The episode return is the final formula's reward (all steps share it). Every episode
 * feeds rl_reward_ma{algorithm="reinforce", window="100"|"1000"}.
 */
export class ReinforceTrainer {
  readonly policy: Mlp;
  readonly averages: ReturnAverages;
  private readonly env: FormulationEnv;
  private readonly briefs: PreparedBriefs;
  private readonly random: Random;
  private readonly learningRate: number;
  private readonly batch: number;
  private baseline: number | null = null;

  constructor(options: { env: FormulationEnv; briefs: BriefPool; seed: number; hidden?: number; learningRate?: number; batch?: number; metrics?: LearningMetrics }) {
    if (options.briefs.length === 0) throw new RangeError('training needs at least one brief');
    this.env = options.env;
    this.briefs = asPrepared(options.env, options.briefs);
    this.random = new Random(options.seed);
    this.policy = policyNetwork(options.env, options.hidden ?? 64, this.random);
    this.averages = new ReturnAverages(options.metrics, 'reinforce');
    this.learningRate = options.learningRate ?? 0.01;
    this.batch = options.batch ?? 16;
  }

  /** Samples an action from the policy (greedy picks the most likely one). */
  act(state: Float32Array, random: Random, greedy = false): number {
    if (greedy) return greedyAction(this.policy, state);
    return random.categorical(policyProbs(this.policy, state));
  }

  /** Trains for `episodes` episodes; calls `onProgress` after each batch. */
  train(episodes: number, onProgress?: (progress: TrainProgress) => void): TrainProgress {
    let last: RewardBreakdown | null = null;
    for (let done = 0; done < episodes; ) {
      const grads = this.policy.gradients();
      const size = Math.min(this.batch, episodes - done);
      const batch = Array.from({ length: size }, () => {
        const context = this.briefs.get(this.random.int(this.briefs.length));
        return this.env.episode(context, (state, random) => this.act(state, random), this.random);
      });
      const mean = batch.reduce((s, e) => s + e.reward.total, 0) / size;
      this.baseline = this.baseline === null ? mean : 0.9 * this.baseline + 0.1 * mean;
      for (const episode of batch) {
        const advantage = episode.reward.total - this.baseline;
        episode.states.forEach((state, t) => {
          const activations = this.policy.forward(state);
          const probabilities = actionProbs(activations.at(-1)!, state);
          // d(−A·log π(a|s))/d logits = A·(π − onehot(a))
          const outputGrad = new Float32Array(probabilities.length);
          for (let i = 0; i < probabilities.length; i++) outputGrad[i] = advantage * probabilities[i]!;
          outputGrad[episode.actions[t]!]! -= advantage;
          this.policy.backward(activations, outputGrad, grads);
        });
        this.averages.push(episode.reward.total);
        last = episode.reward;
      }
      this.policy.adam(grads, this.learningRate, size * batch[0]!.states.length);
      done += size;
      onProgress?.({ episodes: this.averages.count, ma100: this.averages.ma100, ma1000: this.averages.ma1000, last: last! });
    }
    return { episodes: this.averages.count, ma100: this.averages.ma100, ma1000: this.averages.ma1000, last: last! };
  }

  /** Greedy return over the first 200 training briefs (one deterministic episode each). */
  evaluate(): number {
    return greedyReturn(this.policy, this.env, this.briefs.slice(200), 1);
  }
}
