import { ErrorCodes, FaiError } from '../../errors/index.ts';
import { distill, FormulationEnv, greedyReturn, HybridLoop, inferenceMicros, PpoTrainer, ReinforceTrainer, TRAINING_BRIEFS, type TrainProgress } from '../../learning/index.ts';
import { localBrief } from '../../llm/index.ts';
import { ExitCodes } from '../exit-codes.ts';

export interface TrainOptions {
  algo: string;
  episodes: number;
  seed: number;
  json?: boolean;
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
  write(
    options.json
      ? `${JSON.stringify(summary, null, 2)}\n`
      : `${summary.algorithm}, seed ${summary.seed}: ${summary.episodes} episodes in ${summary.seconds} s; reward MA100 ${summary.rewardMa100}, MA1000 ${summary.rewardMa1000}; greedy return ${summary.greedyReturnBefore} → ${summary.greedyReturnAfter}\n`,
  );
  return ExitCodes.OK;
}

/**
 * `fai distill`: trains a PPO teacher on the shipped briefs (checkpoints arrive with the hub
 * integration; until then the teacher is trained here), distils an 8-unit student, and prints
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
