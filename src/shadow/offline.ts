import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ErrorCodes, FaiError } from '../errors/index.ts';
import type { CloudHub } from '../hub/index.ts';
import { FormulationEnv, greedy, PolicyStore, Random, refine, runTraining, storeCheckpoints, type LoadedPolicy, type TrainProgress } from '../learning/index.ts';
import { localBrief, policyPinOf, type CreativeBrief, type Pins, type PolicyPinName } from '../llm/index.ts';
import type { Metrics } from '../metrics/index.ts';
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

/** Briefs run through every model, unrecorded, before the first comparison. */
const WARM_UP_BRIEFS = 10;

export interface OfflineModels {
  readonly production: LoadedPolicy;
  readonly teacher: LoadedPolicy;
  readonly student: LoadedPolicy;
  /** Trained for this run (nothing was pinned): their CIDs in the hub, to pin if wanted. */
  readonly trained?: { teacherCid: string; studentCid: string; episodes: number };
}

/**
 * The three models of an offline run: the pinned production policy, teacher and student. When the
 * teacher or the student is not pinned and `trainEpisodes` is given, a PPO teacher is trained for that
 * many episodes and a student distilled from it (`fai distill`'s path), both stored in the hub; a
 * production policy that is not pinned is then the teacher.
 */
export async function offlineModels(options: { hub: CloudHub; pins: Pins; env: FormulationEnv; trainEpisodes?: number; onProgress?: (p: TrainProgress) => void }): Promise<OfflineModels> {
  const store = new PolicyStore(options.hub, () => options.env);
  const load = (name: PolicyPinName) => store.load(name, policyPinOf(options.pins, name));
  const pinned = policyPinOf(options.pins, 'formulation-teacher') !== undefined && policyPinOf(options.pins, 'formulation-student') !== undefined;
  if (pinned || options.trainEpisodes === undefined) {
    const [teacher, student] = await Promise.all([load('formulation-teacher'), load('formulation-student')]);
    const production = policyPinOf(options.pins, 'formulation-policy') === undefined ? teacher : await load('formulation-policy');
    return { production, teacher, student };
  }
  const outcome = runTraining({ algo: 'distill', episodes: options.trainEpisodes, seed: 7, fromFeedback: false }, { ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }) });
  // Stored as a distill job's are: the same tags, so the hub lists them alike.
  const { checkpointCid: studentCid, teacherCheckpointCid: teacherCid } = await storeCheckpoints(options.hub, outcome);
  const teacher = await store.load('formulation-teacher', { version: '0.0.0-offline', cid: teacherCid! });
  const student = await store.load('formulation-student', { version: '0.0.0-offline', cid: studentCid });
  const production = policyPinOf(options.pins, 'formulation-policy') === undefined ? teacher : await load('formulation-policy');
  return { production, teacher, student, trained: { teacherCid: teacherCid!, studentCid, episodes: options.trainEpisodes } };
}

/**
 * Replays `samples` briefs (cycling through the set) through production — here, on this thread,
 * timed as the service times it — and through the teacher and the student on the shadow runner,
 * recording every comparison. Nothing is shed: the queue holds the whole run.
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
}): Promise<{ compared: number; dropped: number }> {
  const { models, env } = options;
  const runner = new ShadowRunner({
    models: async () => ({ teacher: models.teacher, student: models.student }),
    log: options.log,
    stage: () => options.stage,
    source: 'offline',
    queueSize: options.samples,
    timeoutMs: options.timeoutMs ?? 60_000,
    ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
  });
  try {
    // Warm-up, not recorded: production's code compiled here, the models loaded and compiled in the shadow thread.
    // Ten distinct briefs, so the composer's paths are compiled too, not only the forward passes.
    for (const brief of options.briefs.slice(0, WARM_UP_BRIEFS)) {
      const warm = env.episode(structuredClone(brief), (state) => greedy(models.production.net, state), new Random(1));
      refine(env, structuredClone(brief), warm.units);
      await runner.warmUp({ requestId: 'warm-up', brief, latencyMs: 0, reward: warm.reward.total, units: [...warm.units], version: models.production.pin.version, cid: models.production.pin.cid });
    }
    for (let i = 0; i < options.samples; i++) {
      const brief = options.briefs[i % options.briefs.length]!;
      const own = structuredClone(brief);
      const started = performance.now();
      // Production as it serves: the greedy picks, the serving-time search, the composer.
      const { units: picks } = env.episode(own, (state) => greedy(models.production.net, state), new Random(1));
      const { units, reward } = refine(env, own, picks);
      const latencyMs = performance.now() - started;
      runner.offer({ requestId: `offline-${i}`, brief, latencyMs, reward: reward.total, units: [...units], version: models.production.pin.version, cid: models.production.pin.cid });
      // One at a time, so the progress bar means something and production is never timed beside a shadow model.
      await runner.idle();
      options.onProgress?.(i + 1, options.samples);
    }
  } finally {
    await runner.close();
  }
  const { comparisons } = await options.log.readAll();
  return { compared: comparisons.length, dropped: options.samples - comparisons.length };
}
