import { LOCAL_JOB, type LearningMetrics } from './metric-relay.ts';
import { MAX_UNITS, STEPS, type FormulationEnv } from './environment.ts';
import { asPrepared, type BriefPool, type PreparedBriefs } from './prepared-briefs.ts';
import type { BriefContext } from './composer.ts';
import type { PpoTrainer } from './ppo.ts';
import { Random } from './random.ts';
import type { TrainProgress } from './reinforce.ts';
import { actionProbs } from './policy.ts';


/**
 * How many training briefs the evolutionary search keeps an elite for: the last ones of the training
 * set, so they never fall in the slice the training figures are measured on (its first briefs).
 */
export const SEARCH_BRIEFS = 32;
export type HybridMode = 'exploration' | 'exploitation';

/**
 * The hybrid loop: exploitation trains the RL policy (PPO); exploration runs an evolutionary search
 * over formulas with the same reward, then teaches the policy the best formula found for each brief
 * (imitation: the actions that build it, with a cross-entropy step). The switching rule:
 *
 * - exploitation → exploration when the reward plateaus: the PPO MA100 gained less than
 *   `plateauGain` over the last `plateauEpisodes` episodes;
 * - exploration → exploitation after `explorationGenerations` generations.
 *
 * Every switch increments hybrid_switch_total{from_mode,to_mode}; hybrid_switch_ratio{mode} is each
 * mode's share of the episodes evaluated (a PPO episode, or one formula scored by the search) over
 * the last `ratioWindow` episodes.
 */
export interface HybridOptions {
  ppo: PpoTrainer;
  env: FormulationEnv;
  briefs: BriefPool;
  seed: number;
  plateauEpisodes?: number;
  plateauGain?: number;
  explorationGenerations?: number;
  population?: number;
  ratioWindow?: number;
  metrics?: LearningMetrics;
}

export class HybridLoop {
  mode: HybridMode = 'exploitation';
  readonly switches: Array<{ from: HybridMode; to: HybridMode; atEpisode: number }> = [];
  /** Best formula found per brief index by the search: its units and reward, and what the policy's own greedy picks earned when it was last searched. */
  readonly elites = new Map<number, { units: Map<number, number>; reward: number; policyReward: number }>();
  private readonly o: Required<Omit<HybridOptions, 'ppo' | 'env' | 'briefs' | 'seed' | 'metrics'>>;
  private readonly random: Random;
  private readonly history: HybridMode[] = [];
  private maAtLastCheck: number | null = null;
  private episodesSinceCheck = 0;

  private readonly briefs: PreparedBriefs;

  constructor(private readonly options: HybridOptions) {
    this.random = new Random(options.seed);
    this.briefs = asPrepared(options.env, options.briefs);
    this.o = {
      plateauEpisodes: options.plateauEpisodes ?? 640,
      plateauGain: options.plateauGain ?? 0.3,
      explorationGenerations: options.explorationGenerations ?? 4,
      population: options.population ?? 16,
      ratioWindow: options.ratioWindow ?? 10_000,
    };
  }

  private count(mode: HybridMode, episodes: number): void {
    for (let i = 0; i < episodes; i++) this.history.push(mode);
    if (this.history.length > this.o.ratioWindow) this.history.splice(0, this.history.length - this.o.ratioWindow);
    const exploration = this.history.filter((m) => m === 'exploration').length / this.history.length;
    this.options.metrics?.hybridSwitchRatio.set({ mode: 'exploration', job_id: LOCAL_JOB }, exploration);
    this.options.metrics?.hybridSwitchRatio.set({ mode: 'exploitation', job_id: LOCAL_JOB }, 1 - exploration);
  }

  private switchTo(to: HybridMode): void {
    this.switches.push({ from: this.mode, to, atEpisode: this.options.ppo.averages.count });
    this.options.metrics?.hybridSwitchTotal.inc({ from_mode: this.mode, to_mode: to });
    this.mode = to;
  }

  /**
   * Mutates picks with 1–3 moves, each one unit added to an allowed material or taken from a picked
   * one: the child stays within what the policy can build — allowed materials only, at most
   * MAX_UNITS each and STEPS units in all.
   */
  private mutate(context: BriefContext, units: ReadonlyMap<number, number>): Map<number, number> {
    const child = new Map(units);
    const allowed = this.allowedOf(context);
    const moves = 1 + this.random.int(3);
    for (let i = 0; i < moves; i++) {
      let total = 0;
      for (const u of child.values()) total += u;
      const remove = child.size > 0 && (total >= STEPS || this.random.next() < 0.4);
      if (remove) {
        const picked = [...child.keys()];
        const material = picked[this.random.int(picked.length)]!;
        const left = child.get(material)! - 1;
        if (left === 0) child.delete(material);
        else child.set(material, left);
      } else if (allowed.length > 0) {
        const material = allowed[this.random.int(allowed.length)]!;
        if ((child.get(material) ?? 0) < MAX_UNITS) child.set(material, (child.get(material) ?? 0) + 1);
      }
    }
    return child;
  }

  private readonly allowedCache = new WeakMap<BriefContext, number[]>();
  private allowedOf(context: BriefContext): number[] {
    let list = this.allowedCache.get(context);
    if (list === undefined) {
      list = [];
      for (let i = 0; i < context.allowed.length; i++) if (context.allowed[i] === 1) list.push(i);
      this.allowedCache.set(context, list);
    }
    return list;
  }

  /** The briefs the search works on: the last SEARCH_BRIEFS of the training set (indices into it). */
  searchBriefs(): number[] {
    const n = this.briefs.length;
    const count = Math.min(SEARCH_BRIEFS, n);
    return Array.from({ length: count }, (_, k) => n - count + k);
  }

  /** One generation of the search for every brief; returns the formulas scored. */
  private generation(): number {
    const { env } = this.options;
    let scored = 0;
    // A population per brief over thousands would dwarf the PPO it serves: the search works on SEARCH_BRIEFS of them.
    for (const index of this.searchBriefs()) {
      const context = this.briefs.get(index);
      const seeds = [this.elites.get(index)?.units ?? new Map<number, number>()];
      // Also seed from what the policy does now, so the search starts from exploitation's best.
      const greedy = env.episode(context, (state) => this.options.ppo.act(state, this.random, true), this.random);
      seeds.push(greedy.units);
      const policyReward = greedy.reward.total;
      let best = this.elites.get(index) ?? { units: greedy.units, reward: policyReward, policyReward };
      if (policyReward > best.reward) best = { units: greedy.units, reward: policyReward, policyReward };
      for (let i = 0; i < this.o.population; i++) {
        const candidate = this.mutate(context, seeds[i % seeds.length]!);
        const reward = env.reward(context, env.compose(context, candidate)).total;
        scored++;
        if (reward > best.reward) best = { units: candidate, reward, policyReward };
      }
      this.elites.set(index, { ...best, policyReward });
    }
    return scored;
  }

  /**
   * Teaches the policy the elites: the whole episode that builds each one, one cross-entropy step
   * per action. An elite holds at most STEPS units (mutate keeps it so); its units are played in
   * order (top notes first), and the steps left over pick a material already at MAX_UNITS — the
   * no-op a policy can make — or, when none is full, are not taught.
   */
  private imitate(): void {
    const { env, ppo } = this.options;
    const briefs = this.briefs;
    const grads = ppo.policy.gradients();
    let samples = 0;
    for (const [index, elite] of this.elites) {
      const context = briefs.get(index);
      const rank = (i: number) => ['top', 'heart', 'base'].indexOf(env.composer.info[i]!.position);
      const order = [...elite.units].filter(([material]) => context.allowed[material] === 1).sort(([a], [b]) => rank(a) - rank(b) || a - b);
      const actions = order.flatMap(([material, units]) => Array.from({ length: units }, () => material));
      const full = order.find(([, units]) => units >= MAX_UNITS)?.[0];
      while (actions.length < STEPS && full !== undefined) actions.push(full);
      const units = new Map<number, number>();
      actions.slice(0, STEPS).forEach((action, step) => {
        const state = env.encode(context, units, step);
        const activations = ppo.policy.forward(state);
        const p = actionProbs(activations.at(-1)!, state);
        ppo.policy.backward(activations, Float32Array.from(p, (v, i) => v - (i === action ? 1 : 0)), grads);
        env.apply(units, action);
        samples++;
      });
    }
    if (samples > 0) ppo.policy.adam(grads, 0.005, samples);
  }

  train(episodes: number, onProgress?: (progress: TrainProgress & { mode: HybridMode }) => void): TrainProgress {
    const { ppo } = this.options;
    const target = ppo.averages.count + episodes;
    let last: TrainProgress | null = null;
    while (ppo.averages.count < target) {
      if (this.mode === 'exploitation') {
        const before = ppo.averages.count;
        last = ppo.train(32);
        const done = ppo.averages.count - before;
        this.count('exploitation', done);
        this.episodesSinceCheck += done;
        if (this.episodesSinceCheck >= this.o.plateauEpisodes) {
          const ma = ppo.averages.ma100;
          if (this.maAtLastCheck !== null && ma - this.maAtLastCheck < this.o.plateauGain) this.switchTo('exploration');
          this.maAtLastCheck = ma;
          this.episodesSinceCheck = 0;
        }
      } else {
        for (let g = 0; g < this.o.explorationGenerations; g++) this.count('exploration', this.generation());
        this.imitate();
        this.switchTo('exploitation');
        this.maAtLastCheck = null;
      }
      if (last !== null) onProgress?.({ ...last, mode: this.mode });
    }
    return last!;
  }
}
