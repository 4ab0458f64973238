import { ErrorCodes, FaiError } from '../errors/index.ts';
import { analyzeCanary, readWindow, type Analysis, type Criteria } from '../canary/index.ts';
import { requirePart, type Deployment } from './deployment.ts';
import { runRunbook } from './engine.ts';
import { runbooks, stateFiles } from './registry.ts';

export interface CanaryRunOptions {
  deployment: Deployment;
  /** Canary weights to step through before 100 %, e.g. [10, 25, 50]. */
  steps: readonly number[];
  /** `looks` is the run's budget of analyses (Bonferroni); each step takes at least one. */
  criteria: Criteria;
  /** A step that has not shown promote or rollback by then is rolled back. */
  stepTimeoutMs: number;
  /** How often to ask Prometheus whether the canary has its samples. */
  pollMs?: number;
  /** Requests sent through nginx to verify each weight. */
  verifySamples?: number;
  release?: string;
  log?: (line: string) => void;
  /** Called while a step waits for samples: canary requests seen so far, and needed. */
  onWait?: (weight: number, seen: number, needed: number) => void;
}

export interface CanaryRunResult {
  readonly outcome: 'promoted' | 'rolled_back';
  readonly reason: string;
  readonly steps: ReadonlyArray<{ readonly weight: number; readonly analyses: readonly Analysis[] }>;
}

/**
 * Progressive delivery like Flagger or Argo Rollouts: nginx weights step through `steps` (each move a
 * downshift run of the runbook engine: nginx -t, reload, verified split, audited); at each step the
 * run waits until the canary has answered `minSamples` more requests, then analyses everything since
 * the run began. Rollback → weights back to stable 100 % and stop. Promote → next step; after the
 * last, canary-promote (100 %, release recorded) with that analysis as its check. Continue → wait for
 * another batch, until the step's time or the run's looks are used up, then roll back: a canary that
 * could not be shown safe is not promoted.
 */
export async function runCanary(options: CanaryRunOptions): Promise<CanaryRunResult> {
  const { deployment, criteria } = options;
  const log = options.log ?? (() => undefined);
  const pollMs = options.pollMs ?? 2_000;
  const verifySamples = options.verifySamples ?? 200;
  const prometheus = requirePart(deployment.prometheus, 'prometheus');
  const instances = requirePart(deployment.instances, 'instances');
  for (const weight of options.steps) {
    if (!Number.isInteger(weight) || weight < 1 || weight > 99) throw new FaiError(ErrorCodes.VALIDATION, `--steps: ${weight} is not a canary weight between 1 and 99 (100 % is the promotion)`, { field: '--steps' });
  }
  const all = runbooks(deployment);
  const state = stateFiles(deployment);
  const actor = 'fai canary run';
  const setWeight = (canary: number) => runRunbook(all.downshift, { canary, samples: verifySamples }, state, { actor, log });
  const rollback = async (reason: string): Promise<CanaryRunResult> => {
    log(`rollback: ${reason}`);
    await setWeight(0);
    return { outcome: 'rolled_back', reason, steps };
  };

  const started = new Date();
  const steps: Array<{ weight: number; analyses: Analysis[] }> = [];
  let looks = 0;
  for (const weight of options.steps) {
    await setWeight(weight);
    const step = { weight, analyses: [] as Analysis[] };
    steps.push(step);
    const stepDeadline = Date.now() + options.stepTimeoutMs;
    let batchFrom = new Date();
    for (;;) {
      // Wait for a batch of canary traffic at this weight.
      for (;;) {
        const { canary } = await readWindow(prometheus, instances, batchFrom, new Date());
        options.onWait?.(weight, canary.requests, criteria.minSamples);
        if (canary.requests >= criteria.minSamples || Date.now() >= stepDeadline) break;
        await new Promise((resolve) => setTimeout(resolve, pollMs));
      }
      looks++;
      const analysis = await analyzeCanary({ deployment, criteria, from: started });
      step.analyses.push(analysis);
      log(`step ${weight} %, look ${looks}/${criteria.looks}: ${analysis.verdict} — ${analysis.reasons.join('; ')}`);
      if (analysis.verdict === 'rollback') return rollback(`at ${weight} %: ${analysis.reasons[0]}`);
      if (analysis.verdict === 'promote') break;
      if (looks >= criteria.looks) return rollback(`at ${weight} %: not shown safe within ${criteria.looks} analyses (${analysis.reasons[0]})`);
      if (Date.now() >= stepDeadline) return rollback(`at ${weight} %: not shown safe within the step's ${Math.round(options.stepTimeoutMs / 1000)} s (${analysis.reasons[0]})`);
      batchFrom = new Date();
    }
  }
  const last = steps.at(-1)?.analyses.at(-1);
  const promoted = await runRunbook(
    all['canary-promote'],
    { samples: verifySamples, ...(options.release === undefined ? {} : { release: options.release }), ...(last === undefined ? {} : { judged: { verdict: last.verdict, reasons: last.reasons } }) },
    state,
    { actor, log },
  );
  return { outcome: 'promoted', reason: promoted.detail, steps };
}
