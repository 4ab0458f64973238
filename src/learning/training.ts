import { z } from 'zod';
import { briefSets, type BriefSets } from './brief-distribution.ts';
import { configHash, encodeCheckpoint } from './checkpoint.ts';
import { distill, inferenceMicros, kl } from './distill.ts';
import { briefReturns, greedy, meanInterval, type MeanInterval } from './evaluate.ts';
import { FormulationEnv } from './environment.ts';
import { PreparedBriefs } from './prepared-briefs.ts';
import type { Mlp } from './mlp.ts';
import { Random } from './random.ts';
import { HybridLoop } from './hybrid.ts';
import type { LearningMetrics } from './metric-relay.ts';
import { PpoTrainer } from './ppo.ts';
import { ReinforceTrainer, type TrainProgress } from './reinforce.ts';
import { policyProbs } from './policy.ts';

/** `distill`: a PPO teacher trained for `episodes`, then a STUDENT_HIDDEN-unit student distilled from it. */
export const ALGORITHMS = ['ppo', 'reinforce', 'hybrid', 'distill'] as const;

/** A training job: what `fai train` runs locally and what POST /v1/training/jobs queues. */
export const TrainingSpecSchema = z
  .object({
    algo: z.enum(ALGORITHMS, { error: `must be one of ${ALGORITHMS.join(', ')}` }),
    episodes: z.number({ error: 'must be a number' }).int('must be a whole number').min(1, 'must be at least 1').max(1_000_000, 'must be at most 1000000'),
    seed: z.number({ error: 'must be a number' }).int('must be a whole number').min(0, 'must be 0 or more').max(2_147_483_647).default(7),
    /** Replay customer feedback from the hub as a reward term (src/learning/feedback.ts). */
    fromFeedback: z.boolean({ error: 'must be true or false' }).default(false),
    /** Hidden units of the policy (of the teacher, with distill); default TEACHER_HIDDEN (the student is always STUDENT_HIDDEN). */
    hidden: z.number({ error: 'must be a number' }).int('must be a whole number').min(4, 'must be at least 4').max(1024, 'must be at most 1024').optional(),
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
  /**
   * Greedy return with its 95 % t-interval over briefs: on EVALUATION_SAMPLE training briefs, on the
   * held-out set (generated with another seed, plus examples/heldout-briefs.json: never trained on),
   * and — the baseline — what the composer alone makes of an empty pick on the held-out set.
   */
  readonly evaluation: { readonly training: MeanInterval; readonly heldOut: MeanInterval; readonly composerAlone: MeanInterval; readonly student?: { readonly training: MeanInterval; readonly heldOut: MeanInterval } };
  /** With `distill`: the student against its teacher (greedy returns, held-out KL, inference time). */
  readonly distillation?: {
    readonly teacherHidden: number;
    readonly studentHidden: number;
    readonly klBefore: number;
    readonly klAfter: number;
    /** KL(teacher ‖ student) over the teacher's greedy episodes on the held-out briefs. */
    readonly klHeldOut: number;
    /** Held-out greedy returns (retention = student ÷ teacher). */
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
const roundInterval = (m: MeanInterval): MeanInterval => ({ mean: round(m.mean), ci95: round(m.ci95), n: m.n });

/** Distinct training briefs drawn for a run (brief-distribution.ts), and how many of them the summary scores. */
export const TRAINING_BRIEF_COUNT = 4000;
export const EVALUATION_SAMPLE = 240;
/** Training briefs whose teacher rollouts the student learns from (4 episodes each), for a teacher of 4000 episodes or more. */
export const DISTILL_BRIEFS = 800;
/** A short teacher needs a short distillation: episodes ÷ 5 briefs, between 16 and DISTILL_BRIEFS (4000 episodes → 800). */
export const distillBriefsFor = (episodes: number): number => Math.min(DISTILL_BRIEFS, Math.max(16, Math.round(episodes / 5)));
/** Hidden units of the teacher (PPO) and of the distilled student. */
export const TEACHER_HIDDEN = 512;
export const STUDENT_HIDDEN = 32;

let cachedSets: BriefSets | undefined;
/** The run's brief sets, drawn once per process (the draw is seeded: every run sees the same briefs). */
export function trainingBriefSets(): BriefSets {
  cachedSets ??= briefSets(TRAINING_BRIEF_COUNT);
  return cachedSets;
}

/** A run's brief sets with their contexts (prepared on first use, once per environment). */
export interface PreparedSets {
  readonly training: PreparedBriefs;
  readonly heldOut: PreparedBriefs;
}

export function prepareSets(env: FormulationEnv, sets: BriefSets = trainingBriefSets()): PreparedSets {
  return { training: new PreparedBriefs(env, sets.training), heldOut: new PreparedBriefs(env, sets.heldOut) };
}

/** Training and held-out greedy returns of a policy, each with its interval. */
export function scorePolicy(net: Mlp, env: FormulationEnv, sets: PreparedSets = prepareSets(env)): { training: MeanInterval; heldOut: MeanInterval } {
  return { training: roundInterval(briefReturns(net, env, sets.training.slice(EVALUATION_SAMPLE))), heldOut: roundInterval(briefReturns(net, env, sets.heldOut)) };
}

/** Mean KL(teacher ‖ student) over the states of the teacher's greedy episodes on `briefs`. */
export function heldOutKl(teacher: Mlp, student: Mlp, env: FormulationEnv, briefs: PreparedBriefs): number {
  let sum = 0;
  let count = 0;
  const random = new Random(1);
  for (const context of briefs) {
    for (const state of env.episode(context, (s) => greedy(teacher, s), random).states) {
      sum += kl(policyProbs(teacher, state), policyProbs(student, state));
      count++;
    }
  }
  return count === 0 ? 0 : sum / count;
}

/** What the composer alone makes of the held-out briefs (no picks): the baseline a policy must beat. */
export function composerAlone(env: FormulationEnv, briefs: PreparedBriefs): MeanInterval {
  return roundInterval(meanInterval([...briefs].map((context) => env.reward(context, env.compose(context, new Map())).total)));
}

/**
 * Trains a policy on the shipped training briefs: the one training path, whether `fai train` runs
 * it in the foreground or a worker thread / `fai worker` runs it for the service. Synchronous and
 * CPU-bound: callers keep it off any event loop that serves requests.
 */
export function runTraining(
  spec: TrainingSpec,
  options: { metrics?: LearningMetrics; onProgress?: (progress: TrainProgress) => void; preferences?: Readonly<Record<string, number>>; distillBriefs?: number; teacherHidden?: number } = {},
): TrainingOutcome {
  const started = performance.now();
  const preferences = new Map(Object.entries(options.preferences ?? {}));
  const env = new FormulationEnv({ preferences });
  const sets = prepareSets(env);
  const briefs = sets.training;
  const common = { env, briefs, seed: spec.seed, ...(options.metrics === undefined ? {} : { metrics: options.metrics }) };
  // PPO trains the policy for ppo, hybrid (with the search) and distill (as the teacher); each reports under its own algorithm.
  const hidden = spec.hidden ?? options.teacherHidden ?? TEACHER_HIDDEN;
  const trainer = spec.algo === 'reinforce' ? new ReinforceTrainer({ ...common, ...(spec.hidden === undefined ? {} : { hidden }) }) : new PpoTrainer({ ...common, hidden, algorithm: spec.algo === 'distill' ? 'distilled' : spec.algo });
  const before = trainer.evaluate();
  const hybrid = spec.algo === 'hybrid' && trainer instanceof PpoTrainer ? new HybridLoop({ ...common, ppo: trainer }) : null;
  const result = hybrid !== null ? hybrid.train(spec.episodes, options.onProgress) : trainer.train(spec.episodes, options.onProgress);
  const after = round(trainer.evaluate());
  const scores = scorePolicy(trainer.policy, env, sets);
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
    evaluation: { ...scores, composerAlone: composerAlone(env, sets.heldOut) },
    seconds: Math.round((performance.now() - started) / 100) / 10,
  };
  const config = { algorithm: spec.algo, episodes: spec.episodes, seed: spec.seed, shape: [...trainer.policy.sizes], ...(spec.fromFeedback ? { preferences: options.preferences } : {}) };
  // A checkpoint's evaluation return is its held-out figure (what /health/policy shows).
  if (spec.algo !== 'distill') {
    const checkpoint = encodeCheckpoint(trainer.policy, { algorithm: spec.algo, configHash: configHash(config), evaluationReturn: scores.heldOut.mean, world: env.world });
    return { summary, checkpoint };
  }
  const teacher = trainer.policy;
  // The student learns on the teacher's rollouts over a sample of the training briefs; its own
  // held-out KL is measured on the next training briefs, which it never learns from.
  const count = options.distillBriefs ?? distillBriefsFor(spec.episodes);
  const learnFrom = new PreparedBriefs(env, briefs.briefs.slice(0, count));
  const checkOn = new PreparedBriefs(env, briefs.briefs.slice(count, count + Math.max(16, Math.round(count / 8))));
  const distilled = distill({ teacher, env, briefs: learnFrom, heldOutBriefs: checkOn, episodesPerBrief: 4, hidden: STUDENT_HIDDEN, seed: spec.seed });
  const studentScores = scorePolicy(distilled.student, env, sets);
  const state = env.encode(briefs.get(0), new Map(), 0);
  const teacherUs = inferenceMicros(teacher, state);
  const studentUs = inferenceMicros(distilled.student, state);
  // Judged on the held-out briefs: returns, and KL(teacher ‖ student) over the states of the teacher's greedy episodes there.
  const teacherReturn = summary.evaluation.heldOut.mean;
  const studentReturn = studentScores.heldOut.mean;
  const distillation = {
    teacherHidden: teacher.sizes[1]!,
    studentHidden: distilled.student.sizes[1]!,
    klBefore: round(distilled.klBefore),
    klAfter: round(distilled.klAfter),
    klHeldOut: round(heldOutKl(teacher, distilled.student, env, sets.heldOut)),
    teacherReturn,
    studentReturn,
    retention: round(studentReturn / teacherReturn),
    teacherInferenceUs: round(teacherUs),
    studentInferenceUs: round(studentUs),
    speedup: round(teacherUs / studentUs),
  };
  const teacherConfig = { ...config, algorithm: 'ppo' };
  return {
    summary: { ...summary, evaluation: { ...summary.evaluation, student: studentScores }, distillation, seconds: Math.round((performance.now() - started) / 100) / 10 },
    checkpoint: encodeCheckpoint(distilled.student, { algorithm: 'distilled', configHash: configHash({ ...config, student: [...distilled.student.sizes] }), evaluationReturn: studentScores.heldOut.mean, world: env.world }),
    teacherCheckpoint: encodeCheckpoint(teacher, { algorithm: 'ppo', configHash: configHash(teacherConfig), evaluationReturn: scores.heldOut.mean, world: env.world }),
  };
}
