import type { CreativeBrief } from '../llm/index.ts';
import type { Composition } from './composer.ts';
import { MAX_UNITS, type FormulationEnv, type RewardBreakdown } from './environment.ts';

/**
 * Serving-time refinement — the guide's exploration ↔ exploitation hybrid at inference: the
 * policy's picks are the starting point of a bounded hill climb on the documented reward. Each pass
 * scores every move (one more unit of a material that carries a named note or sits in a wanted
 * family, one unit less of a picked material, or a picked material removed) and keeps the best
 * move that improves the reward; it stops when no move improves, after `maxEvaluations` rewards, or
 * past `budgetMs`. The evaluation count, not the clock, bounds it in normal operation, so the same
 * brief gets the same formula; the clock is a safety net on a slow machine.
 */
export const REFINE_EVALUATIONS = 64;
export const REFINE_BUDGET_MS = 40;

export interface Refinement {
  readonly units: Map<number, number>;
  /** The formula the refined units make (composed once, while scoring them). */
  readonly composition: Composition;
  readonly reward: RewardBreakdown;
  /** The policy's reward before the search. */
  readonly policyReward: number;
  readonly evaluations: number;
  readonly moves: number;
  readonly elapsedMs: number;
  /** Stopped by the clock rather than by its evaluation budget or a local optimum. */
  readonly timedOut: boolean;
}

export function refine(env: FormulationEnv, brief: CreativeBrief, start: ReadonlyMap<number, number>, options: { maxEvaluations?: number; budgetMs?: number } = {}): Refinement {
  const maxEvaluations = options.maxEvaluations ?? REFINE_EVALUATIONS;
  const budgetMs = options.budgetMs ?? REFINE_BUDGET_MS;
  const started = performance.now();
  const context = env.composer.context(brief);
  const wanted = new Set(brief.notesPreference.families);
  const candidates: number[] = [];
  for (let i = 0; i < env.actions; i++) {
    if (context.allowed[i] === 1 && (context.carriesNote[i] === 1 || wanted.has(env.composer.info[i]!.family))) candidates.push(i);
  }
  // Each candidate is composed once and scored on that composition; the best one's is kept for the answer.
  const score = (next: ReadonlyMap<number, number>) => {
    const composition = env.compose(brief, next);
    return { composition, reward: env.reward(brief, next, composition) };
  };
  let units = new Map(start);
  let best = score(units);
  const policyReward = best.reward.total;
  let evaluations = 1;
  let moves = 0;
  let timedOut = false;
  const out = () => evaluations >= maxEvaluations || (timedOut = performance.now() - started > budgetMs);
  for (;;) {
    let bestMove: Map<number, number> | null = null;
    let bestScore = best;
    const tryMove = (next: Map<number, number>) => {
      const scored = score(next);
      evaluations++;
      if (scored.reward.total > bestScore.reward.total + 1e-9) {
        bestScore = scored;
        bestMove = next;
      }
    };
    for (const i of candidates) {
      if (out()) break;
      if ((units.get(i) ?? 0) >= MAX_UNITS) continue;
      const next = new Map(units);
      next.set(i, (units.get(i) ?? 0) + 1);
      tryMove(next);
    }
    for (const [i, u] of units) {
      if (out()) break;
      const next = new Map(units);
      if (u > 1) next.set(i, u - 1);
      else next.delete(i);
      tryMove(next);
    }
    if (bestMove === null) break;
    units = bestMove;
    best = bestScore;
    moves++;
    if (out()) break;
  }
  return { units, composition: best.composition, reward: best.reward, policyReward, evaluations, moves, elapsedMs: performance.now() - started, timedOut };
}
