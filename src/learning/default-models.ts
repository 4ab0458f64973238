import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlockStore, CloudHub, EmbeddedMetadataStore } from '../hub/index.ts';
import { POLICY_PIN, readPins, writePins, type Pins } from '../llm/index.ts';
import { writeFileAtomic } from '../system/index.ts';
import { storeCheckpointBytes } from './checkpoint.ts';
import { DEFAULT_EPISODES, DEFAULT_SEED } from './default-training.ts';
import type { LearningMetrics } from './metric-relay.ts';
import type { TrainProgress } from './reinforce.ts';
import { SHIPPED_FILES } from './shipped-models.ts';
import { runTraining, type TrainingSummary } from './training.ts';

/** The shipped models' recipe: a PPO teacher trained this many episodes from this seed, then its student. */
export { DEFAULT_EPISODES, DEFAULT_SEED } from './default-training.ts';
export const DEFAULT_VERSION = '1.0.0';

/** The Cloud Hub CID the bytes get when stored (the same importer as every hub), from a throwaway hub. */
export async function checkpointCids(checkpoints: readonly Uint8Array[]): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'fai-cid-'));
  const hub = new CloudHub({ blocks: new BlockStore(join(dir, 'blocks')), metadata: new EmbeddedMetadataStore(join(dir, 'meta')) });
  try {
    const cids: string[] = [];
    for (const bytes of checkpoints) cids.push((await storeCheckpointBytes(hub, bytes)).cid);
    return cids;
  } finally {
    await hub.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export interface DefaultModels {
  readonly summary: TrainingSummary;
  readonly teacher: { readonly file: string; readonly cid: string; readonly bytes: number };
  readonly student: { readonly file: string; readonly cid: string; readonly bytes: number };
  /** The pins written, when a pins file was given. */
  readonly pins?: Pins;
}

/**
 * Trains the shipped teacher and student from their seed (`make train-default`): the same episodes
 * and seed give the same bytes, so the same CIDs. Writes both checkpoints into `dir` under their
 * shipped names, the training summary beside them, and — with `pinsFile` — pins them
 * (formulation-policy and formulation-teacher → the teacher, formulation-student → the student).
 */
export async function trainDefaultModels(options: {
  dir: string;
  episodes?: number;
  seed?: number;
  pinsFile?: string;
  version?: string;
  distillBriefs?: number;
  /** The teacher's hidden units (default TEACHER_HIDDEN, as shipped); tests of the plumbing use a small one. */
  hidden?: number;
  metrics?: LearningMetrics;
  onProgress?: (progress: TrainProgress) => void;
}): Promise<DefaultModels> {
  const episodes = options.episodes ?? DEFAULT_EPISODES;
  const seed = options.seed ?? DEFAULT_SEED;
  const outcome = runTraining(
    { algo: 'distill', episodes, seed, fromFeedback: false, ...(options.hidden === undefined ? {} : { hidden: options.hidden }) },
    { ...(options.metrics === undefined ? {} : { metrics: options.metrics }), ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }), ...(options.distillBriefs === undefined ? {} : { distillBriefs: options.distillBriefs }) },
  );
  const teacherBytes = outcome.teacherCheckpoint!;
  const studentBytes = outcome.checkpoint;
  const [teacherCid, studentCid] = await checkpointCids([teacherBytes, studentBytes]);
  await mkdir(options.dir, { recursive: true });
  const teacherFile = join(options.dir, SHIPPED_FILES['formulation-teacher']);
  const studentFile = join(options.dir, SHIPPED_FILES['formulation-student']);
  await writeFileAtomic(teacherFile, teacherBytes);
  await writeFileAtomic(studentFile, studentBytes);
  const { seconds: _seconds, ...reproducible } = outcome.summary;
  await writeFileAtomic(join(options.dir, 'training-summary.json'), `${JSON.stringify({ episodes, seed, teacherCid, studentCid, summary: reproducible }, null, 2)}\n`);
  let pins: Pins | undefined;
  if (options.pinsFile !== undefined) {
    const current = await readPins(options.pinsFile).catch(() => ({}) as Pins);
    const version = options.version ?? DEFAULT_VERSION;
    pins = { ...current, [POLICY_PIN]: { version, cid: teacherCid! }, 'formulation-teacher': { version, cid: teacherCid! }, 'formulation-student': { version, cid: studentCid! } };
    await writePins(options.pinsFile, pins);
  }
  return {
    summary: outcome.summary,
    teacher: { file: teacherFile, cid: teacherCid!, bytes: teacherBytes.length },
    student: { file: studentFile, cid: studentCid!, bytes: studentBytes.length },
    ...(pins === undefined ? {} : { pins }),
  };
}
