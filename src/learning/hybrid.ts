import type { CreativeBrief } from '../llm/index.ts';
import type { LearningMetrics } from './metric-relay.ts';
import { STEPS, type FormulationEnv } from './environment.ts';
import type { PpoTrainer } from './ppo.ts';
import { Random } from './random.ts';
import type { TrainProgress } from './reinforce.ts';
import { actionProbs } from './policy.ts';


/** How many training briefs the evolutionary search keeps an elite for. */
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
  briefs: readonly CreativeBrief[];
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
  /** Best formula found per brief index by the search: its units and reward. */
  readonly elites = new Map<number, { units: Map<number, number>; reward: number }>();
  private readonly o: Required<Omit<HybridOptions, 'ppo' | 'env' | 'briefs' | 'seed' | 'metrics'>>;
  private readonly random: Random;
  private readonly history: HybridMode[] = [];
  private maAtLastCheck: number | null = null;
  private episodesSinceCheck = 0;

  constructor(private readonly options: HybridOptions) {
    this.random = new Random(options.seed);
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
    this.options.metrics?.hybridSwitchRatio.set({ mode: 'exploration' }, exploration);
    this.options.metrics?.hybridSwitchRatio.set({ mode: 'exploitation' }, 1 - exploration);
  }

  private switchTo(to: HybridMode): void {
    this.switches.push({ from: this.mode, to, atEpisode: this.options.ppo.averages.count });
    this.options.metrics?.hybridSwitchTotal.inc({ from_mode: this.mode, to_mode: to });
    this.mode = to;
  }

  /** Mutates a formula with a few random actions. */
  private mutate(units: Map<number, number>): Map<number, number> {
    const child = new Map(units);
    const moves = 1 + this.random.int(3);
    for (let i = 0; i < moves; i++) this.options.env.apply(child, this.random.int(this.options.env.actions));
    return child;
  }

  /** One generation of the search for every brief; returns the formulas scored. */
  private generation(): number {
    const { env } = this.options;
    let scored = 0;
    // The search works on the first SEARCH_BRIEFS training briefs: a population per brief over thousands would dwarf the PPO it serves.
    this.options.briefs.slice(0, SEARCH_BRIEFS).forEach((brief, index) => {
      const seeds = [this.elites.get(index)?.units ?? new Map<number, number>()];
      // Also seed from what the policy does now, so the search starts from exploitation's best.
      seeds.push(env.episode(brief, (state) => this.options.ppo.act(state, this.random, true), this.random).units);
      let best = this.elites.get(index) ?? { units: seeds[1]!, reward: env.reward(brief, seeds[1]!).total };
      for (let i = 0; i < this.o.population; i++) {
        const candidate = this.mutate(seeds[i % seeds.length]!);
        const reward = env.reward(brief, candidate).total;
        scored++;
        if (reward > best.reward) best = { units: candidate, reward };
      }
      this.elites.set(index, best);
    });
    return scored;
  }

  /** Teaches the policy the elites: the actions that build each one (top notes first), one cross-entropy step each. */
  private imitate(): void {
    const { env, briefs, ppo } = this.options;
    const grads = ppo.policy.gradients();
    let samples = 0;
    for (const [index, elite] of this.elites) {
      const brief = briefs[index]!;
      const rank = (i: number) => ['top', 'heart', 'base'].indexOf(env.composer.info[i]!.position);
      const order = [...elite.units].sort(([a], [b]) => rank(a) - rank(b));
      const actions = order.flatMap(([material, units]) => Array.from({ length: units }, () => material)).slice(0, STEPS);
      const units = new Map<number, number>();
      actions.forEach((action, step) => {
        const state = env.encode(brief, units, step);
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
