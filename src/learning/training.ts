import { z } from 'zod';
import { localBrief } from '../llm/index.ts';
import { TRAINING_BRIEFS } from './briefs.ts';
import { configHash, encodeCheckpoint } from './checkpoint.ts';
import { distill, inferenceMicros } from './distill.ts';
import { greedyReturn } from './evaluate.ts';
import { FormulationEnv } from './environment.ts';
import { HybridLoop } from './hybrid.ts';
import type { LearningMetrics } from './metric-relay.ts';
import { PpoTrainer } from './ppo.ts';
import { ReinforceTrainer, type TrainProgress } from './reinforce.ts';

/** `distill`: a PPO teacher trained for `episodes`, then an 8-unit student distilled from it. */
export const ALGORITHMS = ['ppo', 'reinforce', 'hybrid', 'distill'] as const;

/** A training job: what `fai train` runs locally and what POST /v1/training/jobs queues. */
export const TrainingSpecSchema = z
  .object({
    algo: z.enum(ALGORITHMS, { error: `must be one of ${ALGORITHMS.join(', ')}` }),
    episodes: z.number({ error: 'must be a number' }).int('must be a whole number').min(1, 'must be at least 1').max(1_000_000, 'must be at most 1000000'),
    seed: z.number({ error: 'must be a number' }).int('must be a whole number').min(0, 'must be 0 or more').max(2_147_483_647).default(7),
    /** Replay customer feedback from the hub as a reward term (src/learning/feedback.ts). */
    fromFeedback: z.boolean({ error: 'must be true or false' }).default(false),
  })
  .strict();
export type TrainingSpec = z.infer<typeof TrainingSpecSchema>;

export interface TrainingSummary {
  readonly algorithm: TrainingSpec['algo'];
  readonly seed: number;
  readonly episodes: number;
  readonly rewardMa100: number;
  readonly rewardMa1000: number;
  readonly greedyReturnBefore: number;
  readonly greedyReturnAfter: number;
  readonly lastClipFraction?: number;
  readonly switches?: ReadonlyArray<{ from: string; to: string; atEpisode: number }>;
  readonly bestSearchRewards?: number[];
  /** Materials with a replayed feedback preference (with --from-feedback). */
  readonly feedbackMaterials?: number;
  /** With `distill`: the student against its teacher (greedy returns, held-out KL, inference time). */
  readonly distillation?: {
    readonly teacherHidden: number;
    readonly studentHidden: number;
    readonly klBefore: number;
    readonly klAfter: number;
    readonly teacherReturn: number;
    readonly studentReturn: number;
    readonly retention: number;
    readonly teacherInferenceUs: number;
    readonly studentInferenceUs: number;
    readonly speedup: number;
  };
  readonly seconds: number;
}

export interface TrainingOutcome {
  readonly summary: TrainingSummary;
  /** The trained policy as a FAICKPT1 checkpoint (with `distill`: the student). */
  readonly checkpoint: Uint8Array;
  /** With `distill`: the teacher's checkpoint. */
  readonly teacherCheckpoint?: Uint8Array;
}

const round = (value: number) => Math.round(value * 1000) / 1000;

/**
 * Trains a policy on the shipped training briefs: the one training path, whether `fai train` runs
 * it in the foreground or a worker thread / `fai worker` runs it for the service. Synchronous and
 * CPU-bound: callers keep it off any event loop that serves requests.
 */
export function runTraining(
  spec: TrainingSpec,
  options: { metrics?: LearningMetrics; onProgress?: (progress: TrainProgress) => void; preferences?: Readonly<Record<string, number>> } = {},
): TrainingOutcome {
  const started = performance.now();
  const preferences = new Map(Object.entries(options.preferences ?? {}));
  const env = new FormulationEnv({ preferences });
  const briefs = TRAINING_BRIEFS.map(localBrief);
  const common = { env, briefs, seed: spec.seed, ...(options.metrics === undefined ? {} : { metrics: options.metrics }) };
  // PPO trains the policy for ppo, hybrid (with the search) and distill (as the teacher).
  const trainer = spec.algo === 'reinforce' ? new ReinforceTrainer(common) : new PpoTrainer(common);
  const before = trainer.evaluate();
  const hybrid = spec.algo === 'hybrid' && trainer instanceof PpoTrainer ? new HybridLoop({ ...common, ppo: trainer }) : null;
  const result = hybrid !== null ? hybrid.train(spec.episodes, options.onProgress) : trainer.train(spec.episodes, options.onProgress);
  const after = round(trainer.evaluate());
  const summary: TrainingSummary = {
    algorithm: spec.algo,
    seed: spec.seed,
    episodes: result.episodes,
    rewardMa100: round(result.ma100),
    rewardMa1000: round(result.ma1000),
    greedyReturnBefore: round(before),
    greedyReturnAfter: after,
    ...(trainer instanceof PpoTrainer ? { lastClipFraction: round(trainer.lastClipFraction) } : {}),
    ...(hybrid !== null ? { switches: hybrid.switches, bestSearchRewards: [...hybrid.elites.values()].map((e) => round(e.reward)) } : {}),
    ...(spec.fromFeedback ? { feedbackMaterials: preferences.size } : {}),
    seconds: Math.round((performance.now() - started) / 100) / 10,
  };
  const config = { algorithm: spec.algo, episodes: spec.episodes, seed: spec.seed, shape: [...trainer.policy.sizes], ...(spec.fromFeedback ? { preferences: options.preferences } : {}) };
  if (spec.algo !== 'distill') {
    const checkpoint = encodeCheckpoint(trainer.policy, { algorithm: spec.algo, configHash: configHash(config), evaluationReturn: after });
    return { summary, checkpoint };
  }
  // The student learns the teacher's action distributions; rl_distill_kl follows its held-out KL.
  const teacher = trainer.policy;
  const distilled = distill({ teacher, env, briefs, seed: spec.seed, ...(options.metrics === undefined ? {} : { metrics: options.metrics }) });
  const studentReturn = greedyReturn(distilled.student, env, briefs);
  const state = env.encode(briefs[0]!, new Map(), 0);
  const teacherUs = inferenceMicros(teacher, state);
  const studentUs = inferenceMicros(distilled.student, state);
  const distillation = {
    teacherHidden: teacher.sizes[1]!,
    studentHidden: distilled.student.sizes[1]!,
    klBefore: round(distilled.klBefore),
    klAfter: round(distilled.klAfter),
    teacherReturn: after,
    studentReturn: round(studentReturn),
    retention: round(studentReturn / after),
    teacherInferenceUs: round(teacherUs),
    studentInferenceUs: round(studentUs),
    speedup: round(teacherUs / studentUs),
  };
  const teacherConfig = { ...config, algorithm: 'ppo' };
  return {
    summary: { ...summary, distillation, seconds: Math.round((performance.now() - started) / 100) / 10 },
    checkpoint: encodeCheckpoint(distilled.student, { algorithm: 'distilled', configHash: configHash({ ...config, student: [...distilled.student.sizes] }), evaluationReturn: round(studentReturn) }),
    teacherCheckpoint: encodeCheckpoint(teacher, { algorithm: 'ppo', configHash: configHash(teacherConfig), evaluationReturn: after }),
  };
}
