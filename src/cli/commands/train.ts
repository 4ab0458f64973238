import { writeFileAtomic } from '../../system/index.ts';
import { ErrorCodes, FaiError } from '../../errors/index.ts';
import { readFile } from 'node:fs/promises';
import { loadConfig } from '../../config/index.ts';
import { openHub } from '../../hub/index.ts';
import {
  briefReturns,
  composerAlone,
  decodeCheckpoint,
  evaluatePolicy,
  FormulationEnv,
  greedy,
  judge,
  PreparedBriefs,
  prepareSets,
  preferencesFor,
  runTraining,
  scorePolicy,
  trainingBriefSets,
  TrainingSpecSchema,
  type TrainingJobView,
  type TrainingSpec,
  type TrainingSummary,
} from '../../learning/index.ts';
import { progressBar } from '../progress.ts';
import { callService, parseTimeout, readJson, serviceUrl } from '../service-client.ts';
import { ExitCodes } from '../exit-codes.ts';

export interface TrainOptions {
  algo: string;
  episodes: number;
  seed: number;
  /** Hidden units of the policy (the teacher, with distill). */
  hidden?: number;
  json?: boolean;
  /** Write the trained policy here as a checkpoint (`fai hub put checkpoint FILE` stores it in the hub). */
  out?: string;
  /** Replay the customer feedback stored in the hub as a reward term. */
  fromFeedback?: boolean;
  /** Queue the job on the service (its worker thread, or a `fai worker` with REDIS_URL) instead of training here. */
  submit?: boolean;
  /** With --submit: return once the job is queued. */
  detach?: boolean;
  url?: string;
  timeout?: string;
}

/** The training progress bar: episodes, with the reward MA. */
function progressPrinter(total: number, started: number): (p: { episodes: number; ma100: number }) => void {
  const bar = progressBar(total, 'episodes', started);
  return (p) => bar(p.episodes, `reward MA100 ${p.ma100.toFixed(2)}`);
}

/** The job the flags describe, validated by the schema the service uses (errors name the flag). */
function specOf(options: TrainOptions): TrainingSpec {
  const parsed = TrainingSpecSchema.safeParse({ algo: options.algo, episodes: options.episodes, seed: options.seed, fromFeedback: options.fromFeedback ?? false, ...(options.hidden === undefined ? {} : { hidden: options.hidden }) });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const flag = { algo: '--algo', episodes: '--episodes', seed: '--seed', fromFeedback: '--from-feedback', hidden: '--hidden' }[String(issue.path[0])] ?? 'options';
    throw new FaiError(ErrorCodes.VALIDATION, `${flag}: ${issue.message}`, { field: flag });
  }
  return parsed.data;
}

function describe(summary: TrainingSummary, extra: string): string {
  const e = summary.evaluation;
  const held = `held-out ${e.heldOut.mean} ± ${e.heldOut.ci95} (n ${e.heldOut.n}), training ${e.training.mean} ± ${e.training.ci95}, composer alone ${e.composerAlone.mean} ± ${e.composerAlone.ci95}`;
  const d = summary.distillation;
  if (d !== undefined) {
    return `teacher ${d.teacherHidden} hidden units → student ${d.studentHidden}: KL ${d.klBefore} → ${d.klAfter} (held-out ${d.klHeldOut}); retention ${d.retention} (held-out ${d.studentReturn} / ${d.teacherReturn}); speed-up ×${d.speedup} (${d.teacherInferenceUs} → ${d.studentInferenceUs} µs); teacher ${held}; ${summary.seconds} s${extra}\n`;
  }
  return `${summary.algorithm}, seed ${summary.seed}: ${summary.episodes} episodes in ${summary.seconds} s; reward MA100 ${summary.rewardMa100}, MA1000 ${summary.rewardMa1000}; greedy return ${summary.greedyReturnBefore} → ${summary.greedyReturnAfter}; ${held}${summary.feedbackMaterials === undefined ? '' : `; feedback on ${summary.feedbackMaterials} materials replayed`}${extra}\n`;
}

/** `fai train`: trains a policy on the shipped training briefs and prints a summary; `--submit` has the service train it. */
export async function trainCommand(options: TrainOptions, write: (text: string) => void = (t) => process.stdout.write(t)): Promise<number> {
  const spec = specOf(options);
  if (options.submit) {
    if (options.out !== undefined) throw new FaiError(ErrorCodes.VALIDATION, '--out: with --submit the checkpoint goes to the service\'s hub (its CID is printed); fetch it with fai hub get CID --out FILE', { field: '--out' });
    return submitTraining(spec, options, write);
  }
  let preferences: Readonly<Record<string, number>> | undefined;
  if (spec.fromFeedback) {
    // The hub this machine's configuration names (HUB_DIR, REDIS_URL), read directly.
    const opened = openHub(loadConfig());
    try {
      preferences = await preferencesFor(spec, opened.hub);
    } finally {
      await opened.close();
    }
  }
  const started = performance.now();
  const { summary, checkpoint } = runTraining(spec, { onProgress: progressPrinter(spec.episodes, started), ...(preferences === undefined ? {} : { preferences }) });
  const output: Record<string, unknown> = { ...summary };
  if (options.out !== undefined) {
    await writeFileAtomic(options.out, checkpoint);
    Object.assign(output, { checkpoint: options.out, checkpointBytes: checkpoint.length });
  }
  write(options.json ? `${JSON.stringify(output, null, 2)}\n` : describe(summary, options.out !== undefined ? `; checkpoint written to ${options.out}` : ''));
  return ExitCodes.OK;
}

/** Queues the job on the service and follows it (progress bar from its reports) until it finishes. */
async function submitTraining(spec: TrainingSpec, options: Pick<TrainOptions, 'json' | 'detach' | 'url' | 'timeout'>, write: (text: string) => void): Promise<number> {
  const base = serviceUrl(options.url ?? 'http://127.0.0.1:8000');
  const timeoutMs = parseTimeout(options.timeout ?? '10000');
  const url = new URL('/v1/training/jobs', base);
  let job = await readJson<TrainingJobView>(await callService(url, { method: 'POST', body: JSON.stringify(spec), operator: true, timeoutMs }), url);
  if (!options.json) process.stderr.write(`job ${job.id} queued (${job.runner === 'queue' ? 'BullMQ: a fai worker takes it' : 'on the service\'s worker thread'})\n`);
  if (options.detach) {
    write(options.json ? `${JSON.stringify(job, null, 2)}\n` : `${job.id}\n`);
    return ExitCodes.OK;
  }
  const jobUrl = new URL(`/v1/training/jobs/${encodeURIComponent(job.id)}`, base);
  let printer: ReturnType<typeof progressPrinter> | undefined;
  while (job.state === 'waiting' || job.state === 'active') {
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    job = await readJson<TrainingJobView>(await callService(jobUrl, { timeoutMs }), jobUrl);
    if (job.state === 'active' && job.progress !== null) {
      printer ??= progressPrinter(spec.episodes, performance.now() - 1_000);
      printer(job.progress);
    }
  }
  if (job.state === 'failed') {
    write(options.json ? `${JSON.stringify(job, null, 2)}\n` : `job ${job.id} failed: ${job.error ?? 'no reason given'}\n`);
    return ExitCodes.INTERNAL;
  }
  write(options.json ? `${JSON.stringify(job, null, 2)}\n` : describe(job.summary!, `; checkpoint ${job.checkpointCid ?? '(not stored)'}${job.teacherCheckpointCid === undefined ? '' : `, teacher ${job.teacherCheckpointCid}`}`));
  return ExitCodes.OK;
}

/**
 * `fai distill`: trains a PPO teacher on the shipped briefs, distils a 32-unit student, and prints
 * KL(teacher ‖ student), reward retention and the inference speed-up; `--submit` has the service do it
 * (both checkpoints land in its hub).
 */
export async function distillCommand(
  options: { episodes: number; seed: number; hidden?: number; json?: boolean; out?: string; submit?: boolean; detach?: boolean; url?: string; timeout?: string },
  write: (text: string) => void = (t) => process.stdout.write(t),
): Promise<number> {
  const spec = specOf({ algo: 'distill', episodes: options.episodes, seed: options.seed, ...(options.hidden === undefined ? {} : { hidden: options.hidden }) });
  if (options.submit) {
    if (options.out !== undefined) throw new FaiError(ErrorCodes.VALIDATION, '--out: with --submit the checkpoints go to the service\'s hub (their CIDs are printed)', { field: '--out' });
    return submitTraining(spec, options, write);
  }
  const { summary, checkpoint } = runTraining(spec, { onProgress: progressPrinter(spec.episodes, performance.now()) });
  const output: Record<string, unknown> = { ...summary };
  if (options.out !== undefined) {
    await writeFileAtomic(options.out, checkpoint);
    Object.assign(output, { checkpoint: options.out, checkpointBytes: checkpoint.length });
  }
  write(options.json ? `${JSON.stringify(output, null, 2)}\n` : describe(summary, options.out !== undefined ? `; student checkpoint written to ${options.out}` : ''));
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
  const env = new FormulationEnv();
  let decoded: ReturnType<typeof decodeCheckpoint>;
  try {
    decoded = decodeCheckpoint(bytes, env.world);
  } catch (error) {
    throw new FaiError(ErrorCodes.VALIDATION, `--checkpoint: ${(error as Error).message}`, { field: '--checkpoint' });
  }
  const { meta, net } = decoded;
  if (meta.inputs !== env.stateSize || meta.shape.at(-1) !== env.actions) {
    throw new FaiError(ErrorCodes.VALIDATION, `--checkpoint: shape ${meta.shape.join('-')} over ${meta.inputs} inputs does not fit this environment (${env.stateSize} inputs, ${env.actions} actions)`, { field: '--checkpoint' });
  }
  // Greedy returns with 95 % t-intervals over briefs: held-out (never trained on) beside training and the smoke texts;
  // and the sampled policy over seeds on the held-out set (a policy's spread, not just its mode).
  const sets = prepareSets(env);
  const scores = scorePolicy(net, env, sets);
  const smoke = briefReturns(net, env, new PreparedBriefs(env, trainingBriefSets().smoke));
  const sampled = evaluatePolicy(net, env, sets.heldOut.slice(40), options.seeds, 1);
  const judged = judge(env, sets.heldOut, (state) => greedy(net, state));
  const summary = {
    algorithm: meta.algorithm,
    shape: meta.shape,
    configHash: meta.configHash,
    heldOut: scores.heldOut,
    training: scores.training,
    smoke: { mean: round(smoke.mean), ci95: round(smoke.ci95), n: smoke.n },
    composerAlone: composerAlone(env, sets.heldOut),
    sampledHeldOut: { mean: round(sampled.mean), ci95: round(sampled.ci95), seeds: sampled.seeds, episodes: sampled.episodes },
    characterRate: round(judged.characterRate),
    policySharePct: round(judged.policySharePct),
  };
  const line = (m: { mean: number; ci95: number; n: number }) => `${m.mean} ± ${m.ci95} (n ${m.n})`;
  write(
    options.json
      ? `${JSON.stringify(summary, null, 2)}\n`
      : [
          `${meta.algorithm} ${meta.shape.join('-')}: greedy mean return, 95 % t-interval over briefs`,
          `  held-out         ${line(summary.heldOut)}`,
          `  training         ${line(summary.training)}`,
          `  smoke (8 texts)  ${line(summary.smoke)}`,
          `  composer alone   ${line(summary.composerAlone)} (held-out, no picks: the baseline)`,
          `  sampled actions  ${summary.sampledHeldOut.mean} ± ${summary.sampledHeldOut.ci95} (${summary.sampledHeldOut.seeds} seeds, ${summary.sampledHeldOut.episodes} episodes on held-out briefs)`,
          `  character        ${Math.round(summary.characterRate * 1000) / 10} % of the held-out formulas have the brief's character; the policy's picks are ${summary.policySharePct} % of the concentrate`,
          '',
        ].join('\n'),
  );
  return ExitCodes.OK;
}
