import { ErrorCodes, FaiError } from '../../errors/index.ts';
import { readFile, rename, writeFile } from 'node:fs/promises';
import {
  configHash,
  decodeCheckpoint,
  distill,
  encodeCheckpoint,
  evaluatePolicy,
  FormulationEnv,
  greedyReturn,
  HybridLoop,
  inferenceMicros,
  PpoTrainer,
  ReinforceTrainer,
  TRAINING_BRIEFS,
  type TrainProgress,
} from '../../learning/index.ts';
import { localBrief } from '../../llm/index.ts';
import { ExitCodes } from '../exit-codes.ts';

export interface TrainOptions {
  algo: string;
  episodes: number;
  seed: number;
  json?: boolean;
  /** Write the trained policy here as a checkpoint (`fai hub put checkpoint FILE` stores it in the hub). */
  out?: string;
}

/** Writes beside the target and renames: a crash leaves the old file or the new one, never half of one. */
async function writeAtomically(path: string, bytes: Uint8Array): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, bytes);
  await rename(temporary, path);
}

/** A one-line progress bar on a terminal (episodes/s, reward MA, ETA); a line per 10 % otherwise. */
function progressPrinter(total: number, started: number): (p: TrainProgress) => void {
  const tty = process.stderr.isTTY === true;
  let nextTenth = 0.1;
  return (p) => {
    const elapsed = (performance.now() - started) / 1000;
    const rate = p.episodes / Math.max(elapsed, 1e-3);
    const eta = (total - p.episodes) / Math.max(rate, 1e-3);
    const width = 30;
    const filled = Math.round((width * p.episodes) / total);
    const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.episodes}/${total} episodes  ${rate.toFixed(0)}/s  reward MA100 ${p.ma100.toFixed(2)}  ETA ${eta.toFixed(0)} s`;
    if (tty) process.stderr.write(`\r${line}${p.episodes >= total ? '\n' : ''}`);
    else if (p.episodes / total >= nextTenth || p.episodes >= total) {
      process.stderr.write(`${line}\n`);
      while (nextTenth <= p.episodes / total) nextTenth += 0.1;
    }
  };
}

/** `fai train`: trains a policy on the shipped training briefs and prints a summary. */
export async function trainCommand(options: TrainOptions, write: (text: string) => void = (t) => process.stdout.write(t)): Promise<number> {
  if (!['reinforce', 'ppo', 'hybrid'].includes(options.algo)) {
    throw new FaiError(ErrorCodes.VALIDATION, `--algo: "${options.algo}" is not reinforce, ppo or hybrid`, { field: '--algo' });
  }
  const started = performance.now();
  const env = new FormulationEnv();
  const briefs = TRAINING_BRIEFS.map(localBrief);
  const trainer = options.algo === 'reinforce' ? new ReinforceTrainer({ env, briefs, seed: options.seed }) : new PpoTrainer({ env, briefs, seed: options.seed });
  const random = trainer.evaluate();
  const hybrid = options.algo === 'hybrid' && trainer instanceof PpoTrainer ? new HybridLoop({ ppo: trainer, env, briefs, seed: options.seed }) : null;
  const progress = progressPrinter(options.episodes, started);
  const result = hybrid !== null ? hybrid.train(options.episodes, progress) : trainer.train(options.episodes, progress);
  const summary = {
    algorithm: options.algo,
    seed: options.seed,
    episodes: result.episodes,
    rewardMa100: Math.round(result.ma100 * 1000) / 1000,
    rewardMa1000: Math.round(result.ma1000 * 1000) / 1000,
    greedyReturnBefore: Math.round(random * 1000) / 1000,
    greedyReturnAfter: Math.round(trainer.evaluate() * 1000) / 1000,
    ...(trainer instanceof PpoTrainer ? { lastClipFraction: Math.round(trainer.lastClipFraction * 1000) / 1000 } : {}),
    ...(hybrid !== null ? { switches: hybrid.switches, bestSearchRewards: [...hybrid.elites.values()].map((e) => Math.round(e.reward * 1000) / 1000) } : {}),
    seconds: Math.round((performance.now() - started) / 100) / 10,
  };
  if (options.out !== undefined) {
    const config = { algorithm: options.algo, episodes: options.episodes, seed: options.seed, shape: [...trainer.policy.sizes] };
    const bytes = encodeCheckpoint(trainer.policy, { algorithm: options.algo as 'ppo' | 'reinforce' | 'hybrid', configHash: configHash(config), evaluationReturn: summary.greedyReturnAfter });
    await writeAtomically(options.out, bytes);
    Object.assign(summary, { checkpoint: options.out, checkpointBytes: bytes.length });
  }
  write(
    options.json
      ? `${JSON.stringify(summary, null, 2)}\n`
      : `${summary.algorithm}, seed ${summary.seed}: ${summary.episodes} episodes in ${summary.seconds} s; reward MA100 ${summary.rewardMa100}, MA1000 ${summary.rewardMa1000}; greedy return ${summary.greedyReturnBefore} → ${summary.greedyReturnAfter}${options.out !== undefined ? `; checkpoint written to ${options.out}` : ''}\n`,
  );
  return ExitCodes.OK;
}

/**
 * `fai distill`: trains a PPO teacher on the shipped briefs, distils an 8-unit student, and prints
 * KL(teacher ‖ student), reward retention and the inference speed-up.
 */
export async function distillCommand(options: { episodes: number; seed: number; json?: boolean }, write: (text: string) => void = (t) => process.stdout.write(t)): Promise<number> {
  const started = performance.now();
  const env = new FormulationEnv();
  const briefs = TRAINING_BRIEFS.map(localBrief);
  const teacher = new PpoTrainer({ env, briefs, seed: options.seed });
  teacher.train(options.episodes, progressPrinter(options.episodes, started));
  const result = distill({ teacher: teacher.policy, env, briefs, seed: options.seed });
  const teacherReturn = greedyReturn(teacher.policy, env, briefs);
  const studentReturn = greedyReturn(result.student, env, briefs);
  const state = env.encode(briefs[0]!, new Map(), 0);
  const teacherUs = inferenceMicros(teacher.policy, state);
  const studentUs = inferenceMicros(result.student, state);
  const summary = {
    teacher: { hidden: teacher.policy.sizes[1], greedyReturn: round(teacherReturn), inferenceUs: round(teacherUs) },
    student: { hidden: result.student.sizes[1], greedyReturn: round(studentReturn), inferenceUs: round(studentUs) },
    klBefore: round(result.klBefore),
    klAfter: round(result.klAfter),
    retention: round(studentReturn / teacherReturn),
    speedup: round(teacherUs / studentUs),
    seconds: round((performance.now() - started) / 1000),
  };
  write(
    options.json
      ? `${JSON.stringify(summary, null, 2)}\n`
      : `teacher ${summary.teacher.hidden} hidden units → student ${summary.student.hidden}: KL ${summary.klBefore} → ${summary.klAfter}; retention ${summary.retention} (${summary.student.greedyReturn} / ${summary.teacher.greedyReturn}); speed-up ×${summary.speedup} (${summary.teacher.inferenceUs} → ${summary.student.inferenceUs} µs); ${summary.seconds} s\n`,
  );
  return ExitCodes.OK;
}

const round = (value: number) => Math.round(value * 1000) / 1000;

/** `fai eval --checkpoint FILE`: mean return of a checkpointed policy with a 95 % confidence interval over fixed seeds. */
export async function evalCommand(options: { checkpoint: string; seeds: number; json?: boolean }, write: (text: string) => void = (t) => process.stdout.write(t)): Promise<number> {
  if (options.seeds < 2) throw new FaiError(ErrorCodes.VALIDATION, '--seeds: a confidence interval needs at least 2 seeds', { field: '--seeds' });
  let bytes: Buffer;
  try {
    bytes = await readFile(options.checkpoint);
  } catch (error) {
    throw new FaiError(ErrorCodes.VALIDATION, `--checkpoint: cannot read ${options.checkpoint} (${(error as NodeJS.ErrnoException).code ?? String(error)})`, { field: '--checkpoint' });
  }
  const { meta, net } = decodeCheckpoint(bytes);
  const env = new FormulationEnv();
  if (meta.shape[0] !== env.stateSize || meta.shape.at(-1) !== env.actions) {
    throw new FaiError(ErrorCodes.VALIDATION, `--checkpoint: shape ${meta.shape.join('-')} does not fit this environment (${env.stateSize} inputs, ${env.actions} actions)`, { field: '--checkpoint' });
  }
  const result = evaluatePolicy(net, env, TRAINING_BRIEFS.map(localBrief), options.seeds);
  const summary = { algorithm: meta.algorithm, shape: meta.shape, configHash: meta.configHash, mean: round(result.mean), ci95: round(result.ci95), seeds: result.seeds, episodes: result.episodes };
  write(options.json ? `${JSON.stringify(summary, null, 2)}\n` : `${meta.algorithm} ${meta.shape.join('-')}: mean return ${summary.mean} ± ${summary.ci95} (95 % CI, ${summary.seeds} seeds, ${summary.episodes} episodes)\n`);
  return ExitCodes.OK;
}
