import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ErrorCodes, FaiError, parseOrThrow } from '../errors/index.ts';
import type { CloudHub } from '../hub/index.ts';
import { briefKey, drawBriefs, FormulationEnv, PolicyStore, runTraining, storeCheckpoints, trainingBriefSets, TrainingSpecSchema, type LoadedPolicy, type TrainProgress } from '../learning/index.ts';
import { localBrief, policyPinOf, type CreativeBrief, type Pins, type PolicyPinName } from '../llm/index.ts';
import type { Metrics } from '../metrics/index.ts';
import { runModel, warmUpBriefs } from './compare.ts';
import type { ComparisonLog, Stage } from './log.ts';
import { ShadowRunner } from './runner.ts';

const BriefSet = z.object({ texts: z.array(z.string().trim().min(1).max(4000)).min(1) }).passthrough();

/** Reads a brief set: `{"texts": ["customer words", …]}` (examples/heldout-briefs.json); each text goes through the local brief model. */
export async function readBriefSet(file: string): Promise<CreativeBrief[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new FaiError(ErrorCodes.VALIDATION, `--briefs: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)})`, { field: '--briefs' });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new FaiError(ErrorCodes.MALFORMED_BODY, `--briefs: ${file} is not valid JSON (${(error as Error).message})`, { field: '--briefs' });
  }
  const parsed = BriefSet.safeParse(value);
  if (!parsed.success) throw new FaiError(ErrorCodes.VALIDATION, `--briefs: ${file} is not a brief set {"texts": [...]}: ${parsed.error.issues[0]?.message ?? 'invalid'}`, { field: '--briefs' });
  return parsed.data.texts.map(localBrief);
}

/** The seed fresh held-out briefs are drawn from when a run asks for more briefs than its set holds (not the training seed, nor the held-out set's). */
export const FRESH_BRIEFS_SEED = 9_100_213;

/**
 * The briefs of an offline run: the set's distinct briefs (as the environment reads them: one pair
 * per brief, never a repeat), then — when `samples` asks for more — fresh briefs drawn from the
 * brief distribution with FRESH_BRIEFS_SEED, none of them a training brief or one of the set's.
 * Greedy models are deterministic: a repeated brief is an exact duplicate pair, which would shrink
 * the intervals without adding evidence.
 */
export function offlineBriefs(set: readonly CreativeBrief[], samples: number): { briefs: CreativeBrief[]; fromSet: number; drawn: number; duplicatesDropped: number } {
  const seen = new Set<string>();
  const distinct: CreativeBrief[] = [];
  for (const brief of set) {
    const key = briefKey(brief);
    if (seen.has(key)) continue;
    seen.add(key);
    distinct.push(brief);
  }
  const fromSet = Math.min(samples, distinct.length);
  const briefs = distinct.slice(0, fromSet);
  let drawn = 0;
  if (samples > fromSet) {
    for (const brief of trainingBriefSets().training) seen.add(briefKey(brief));
    const fresh = drawBriefs(FRESH_BRIEFS_SEED, samples - fromSet, seen);
    briefs.push(...fresh);
    drawn = fresh.length;
  }
  return { briefs, fromSet, drawn, duplicatesDropped: set.length - distinct.length };
}

export interface OfflineModels {
  readonly production: LoadedPolicy;
  readonly teacher: LoadedPolicy;
  readonly student: LoadedPolicy;
  /** Trained for this run (nothing was pinned): their CIDs in the hub, to pin if wanted. */
  readonly trained?: { teacherCid: string; studentCid: string; episodes: number };
}

/**
 * The three models of an offline run: the pinned production policy, teacher and student. When the
 * teacher or the student is not pinned and `trainEpisodes` is given, a PPO teacher (of `teacherHidden`
 * hidden units, the shipped teacher's by default) is trained for that many episodes and a student
 * distilled from it (`fai distill`'s path), both stored in the hub; a production policy that is not
 * pinned is then the teacher. A training spec out of bounds (a training job's) is FAI_ERR_VALIDATION.
 */
export async function offlineModels(options: { hub: CloudHub; pins: Pins; env: FormulationEnv; trainEpisodes?: number; teacherHidden?: number; onProgress?: (p: TrainProgress) => void }): Promise<OfflineModels> {
  const store = new PolicyStore(options.hub, () => options.env);
  const load = (name: PolicyPinName) => store.load(name, policyPinOf(options.pins, name));
  const pinned = policyPinOf(options.pins, 'formulation-teacher') !== undefined && policyPinOf(options.pins, 'formulation-student') !== undefined;
  if (pinned || options.trainEpisodes === undefined) {
    const [teacher, student] = await Promise.all([load('formulation-teacher'), load('formulation-student')]);
    const production = policyPinOf(options.pins, 'formulation-policy') === undefined ? teacher : await load('formulation-policy');
    return { production, teacher, student };
  }
  // Within a training job's bounds (its schema's), each refused under the option's own name.
  const episodes = parseOrThrow(TrainingSpecSchema.shape.episodes, options.trainEpisodes, 'trainEpisodes');
  const hidden = options.teacherHidden === undefined ? undefined : parseOrThrow(TrainingSpecSchema.shape.hidden, options.teacherHidden, 'teacherHidden');
  const outcome = runTraining({ algo: 'distill', episodes, seed: 7, fromFeedback: false, ...(hidden === undefined ? {} : { hidden }) }, { ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }) });
  // Stored as a distill job's are: the same tags, so the hub lists them alike.
  const { checkpointCid: studentCid, teacherCheckpointCid: teacherCid } = await storeCheckpoints(options.hub, outcome);
  const teacher = await store.load('formulation-teacher', { version: '0.0.0-offline', cid: teacherCid! });
  const student = await store.load('formulation-student', { version: '0.0.0-offline', cid: studentCid });
  const production = policyPinOf(options.pins, 'formulation-policy') === undefined ? teacher : await load('formulation-policy');
  return { production, teacher, student, trained: { teacherCid: teacherCid!, studentCid, episodes: options.trainEpisodes } };
}

/**
 * Replays `samples` distinct briefs (offlineBriefs: the set's, then fresh held-out draws) through
 * production — here, on this thread, through the same path as the shadow models: the brief's
 * context, the greedy picks, the composer — and through the teacher and the student on the shadow
 * runner, recording every comparison. Nothing is shed: the queue holds the whole run.
 */
export async function runOffline(options: {
  models: OfflineModels;
  env: FormulationEnv;
  briefs: readonly CreativeBrief[];
  samples: number;
  stage: Stage;
  log: ComparisonLog;
  metrics?: Metrics;
  timeoutMs?: number;
  onProgress?: (done: number, total: number) => void;
}): Promise<{ compared: number; dropped: number; fromSet: number; drawn: number; duplicatesDropped: number }> {
  const { models, env } = options;
  const plan = offlineBriefs(options.briefs, options.samples);
  const runner = new ShadowRunner({
    models: async () => ({ teacher: models.teacher, student: models.student }),
    log: options.log,
    stage: () => options.stage,
    source: 'offline',
    queueSize: plan.briefs.length,
    timeoutMs: options.timeoutMs ?? 60_000,
    ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
  });
  try {
    // Warm-up, not recorded, on the briefs the shadow thread warms its models up on: production's code compiled here.
    for (const brief of warmUpBriefs()) runModel(env, models.production.net, brief);
    runner.start();
    for (const [i, brief] of plan.briefs.entries()) {
      const production = runModel(env, models.production.net, brief);
      runner.offer({ requestId: `offline-${i}`, brief, latencyMs: production.latencyMs, reward: production.reward, units: production.units, composed: production.composed, version: models.production.pin.version, cid: models.production.pin.cid });
      // One at a time, so the progress bar means something and production is never timed beside a shadow model.
      await runner.idle();
      options.onProgress?.(i + 1, plan.briefs.length);
    }
  } finally {
    await runner.close();
  }
  const { comparisons } = await options.log.readAll();
  return { compared: comparisons.length, dropped: plan.briefs.length - comparisons.length, fromSet: plan.fromSet, drawn: plan.drawn, duplicatesDropped: plan.duplicatesDropped };
}
