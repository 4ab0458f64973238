import { randomUUID } from 'node:crypto';
import { ErrorCodes, FaiError } from '../errors/index.ts';
import type { CloudHub } from '../hub/index.ts';
import { replayFeedback } from './feedback.ts';
import { applyMetricUpdates, type LearningMetrics, type MetricUpdate } from './metric-relay.ts';
import type { TrainProgress } from './reinforce.ts';
import { runTrainingInThread, type TrainingRun } from './training-runner.ts';
import type { TrainingOutcome, TrainingSpec, TrainingSummary } from './training.ts';

export type JobState = 'waiting' | 'active' | 'completed' | 'failed';

/** A training job as GET /v1/training/jobs/:id shows it. */
export interface TrainingJobView {
  readonly id: string;
  readonly state: JobState;
  /** Where it runs: the service's own worker thread, or the BullMQ queue `fai worker` processes take jobs from. */
  readonly runner: 'thread' | 'queue';
  readonly spec: TrainingSpec;
  readonly progress: { episodes: number; total: number; ma100: number; ma1000: number } | null;
  readonly summary?: TrainingSummary;
  /** The trained policy's checkpoint in the service's Cloud Hub (with `distill`: the student's): pin it with pin-update --cid. */
  readonly checkpointCid?: string;
  /** With `distill`: the teacher's checkpoint in the hub. */
  readonly teacherCheckpointCid?: string;
  readonly error?: string;
  readonly createdAt: string;
  readonly finishedAt?: string;
}

/** Training jobs off the request path. */
export interface TrainingJobs {
  readonly runner: TrainingJobView['runner'];
  submit(spec: TrainingSpec): Promise<TrainingJobView>;
  get(id: string): Promise<TrainingJobView | undefined>;
  list(limit: number): Promise<TrainingJobView[]>;
  close(): Promise<void>;
}

export interface TrainingJobsOptions {
  hub: CloudHub;
  metrics: LearningMetrics;
  log?: { info(object: object, message: string): void; error(object: object, message: string): void };
  /** Jobs waiting or running at once; one more is refused with 429 (training runs beside the serving path). Default 4. */
  maxPending?: number;
}

/** Refuses a job past the cap of pending ones: a queue of long jobs is work the service cannot take. */
export function checkPendingCap(pending: number, maxPending: number | undefined): void {
  const cap = maxPending ?? 4;
  if (pending >= cap) {
    throw new FaiError(ErrorCodes.TOO_MANY_REQUESTS, `training queue full: ${pending} jobs waiting or running (TRAINING_MAX_PENDING=${cap}); wait for one to finish`);
  }
}

/** The feedback a job replays, read from the hub when it is submitted; no usable feedback is an error, not a silent plain run. */
export async function preferencesFor(spec: TrainingSpec, hub: CloudHub): Promise<Readonly<Record<string, number>> | undefined> {
  if (!spec.fromFeedback) return undefined;
  const replay = await replayFeedback(hub);
  if (replay.used === 0) {
    throw new FaiError(ErrorCodes.VALIDATION, `fromFeedback: the hub holds no usable feedback (${replay.skipped.length} skipped${replay.skipped[0] === undefined ? '' : `, e.g. ${replay.skipped[0].reason}`}); store some with POST /v1/hub/feedback`, { field: 'fromFeedback' });
  }
  return replay.preferences;
}

/** Stores a finished job's checkpoints in the hub (idempotent: same bytes, same CID), tagged by algorithm and role. */
export async function storeCheckpoints(hub: CloudHub, outcome: TrainingOutcome): Promise<{ checkpointCid: string; teacherCheckpointCid?: string }> {
  const algorithm = outcome.summary.algorithm;
  const checkpoint = await hub.storeBytes(outcome.checkpoint, ['trained', algorithm, ...(algorithm === 'distill' ? ['student'] : [])]);
  if (outcome.teacherCheckpoint === undefined) return { checkpointCid: checkpoint.cid };
  const teacher = await hub.storeBytes(outcome.teacherCheckpoint, ['trained', algorithm, 'teacher']);
  return { checkpointCid: checkpoint.cid, teacherCheckpointCid: teacher.cid };
}

type Removable = { remove?(labels: Record<string, string>): void };

/**
 * When a job ends, what it reported leaves /metrics — its own series only (`job_id`), never another running job's: rl_reward_ma{source="training"}, rl_clip_frac
 * and hybrid_switch_ratio describe a run, not the policy that serves, and a finished run's last values
 * must not keep an alert firing (LowRewardMA reads source="served" only; HighClipFraction resolves).
 */
export function clearTrainingSeries(metrics: LearningMetrics, jobId: string): void {
  for (const algorithm of ['ppo', 'reinforce', 'hybrid', 'distilled']) {
    for (const window of ['100', '1000']) (metrics.rlRewardMa as Removable).remove?.({ algorithm, window, source: 'training', job_id: jobId });
    (metrics.rlClipFrac as Removable).remove?.({ algorithm, job_id: jobId });
  }
  for (const mode of ['exploration', 'exploitation']) (metrics.hybridSwitchRatio as Removable).remove?.({ mode, job_id: jobId });
}

export const progressView = (progress: TrainProgress, total: number) => ({ episodes: progress.episodes, total, ma100: round(progress.ma100), ma1000: round(progress.ma1000) });
const round = (value: number) => Math.round(value * 1000) / 1000;

/**
 * Without REDIS_URL: jobs run one at a time, first come first served, on a worker thread of the
 * service, their metrics relayed into the service's registry as they train. Jobs live in memory:
 * a restart forgets them (their checkpoints stay in the hub). Durable jobs need REDIS_URL.
 */
export class ThreadTrainingJobs implements TrainingJobs {
  readonly runner = 'thread' as const;
  private readonly jobs = new Map<string, { view: TrainingJobView; preferences: Readonly<Record<string, number>> | undefined }>();
  private readonly waiting: string[] = [];
  private current: { id: string; run: TrainingRun } | undefined;
  private closed = false;

  constructor(
    private readonly options: TrainingJobsOptions,
    private readonly keep = 100,
  ) {}

  async submit(spec: TrainingSpec): Promise<TrainingJobView> {
    if (this.closed) throw new FaiError(ErrorCodes.UNAVAILABLE, 'the service is shutting down: no new training jobs');
    checkPendingCap(this.waiting.length + (this.current === undefined ? 0 : 1), this.options.maxPending);
    const preferences = await preferencesFor(spec, this.options.hub);
    const view: TrainingJobView = { id: randomUUID(), state: 'waiting', runner: this.runner, spec, progress: null, createdAt: new Date().toISOString() };
    this.jobs.set(view.id, { view, preferences });
    this.waiting.push(view.id);
    this.forgetOld();
    this.next();
    return this.jobs.get(view.id)!.view;
  }

  async get(id: string): Promise<TrainingJobView | undefined> {
    return this.jobs.get(id)?.view;
  }

  async list(limit: number): Promise<TrainingJobView[]> {
    return [...this.jobs.values()].map((j) => j.view).reverse().slice(0, limit);
  }

  private update(id: string, change: Partial<TrainingJobView>): void {
    const job = this.jobs.get(id);
    if (job !== undefined) job.view = { ...job.view, ...change };
  }

  private next(): void {
    if (this.current !== undefined || this.closed) return;
    const id = this.waiting.shift();
    if (id === undefined) return;
    const { view, preferences } = this.jobs.get(id)!;
    const total = view.spec.episodes;
    let lastProgress: TrainingJobView['progress'] = null;
    const run = runTrainingInThread(view.spec, {
      ...(preferences === undefined ? {} : { preferences }),
      onProgress: (progress: TrainProgress | null, updates: MetricUpdate[]) => {
        applyMetricUpdates(this.options.metrics, updates, id);
        if (progress !== null) lastProgress = progressView(progress, total);
        this.update(id, { progress: lastProgress });
      },
    });
    this.current = { id, run };
    this.update(id, { state: 'active' });
    this.options.log?.info({ job: id, spec: view.spec }, 'training job started on a worker thread');
    run.outcome
      .then(async (outcome) => {
        const { summary } = outcome;
        const { checkpointCid, teacherCheckpointCid } = await storeCheckpoints(this.options.hub, outcome);
        // The last progress report may have been throttled away: a completed job's progress is its summary's.
        const progress = { episodes: summary.episodes, total, ma100: summary.rewardMa100, ma1000: summary.rewardMa1000 };
        this.update(id, { state: 'completed', summary, progress, checkpointCid, ...(teacherCheckpointCid === undefined ? {} : { teacherCheckpointCid }), finishedAt: new Date().toISOString() });
        this.options.log?.info({ job: id, checkpoint: checkpointCid, rewardMa100: summary.rewardMa100 }, 'training job completed');
      })
      .catch((error: unknown) => {
        this.update(id, { state: 'failed', error: (error as Error).message, finishedAt: new Date().toISOString() });
        this.options.log?.error({ job: id, err: error }, 'training job failed');
      })
      .finally(() => {
        clearTrainingSeries(this.options.metrics, id);
        this.current = undefined;
        this.next();
      });
  }

  private forgetOld(): void {
    for (const [id, job] of this.jobs) {
      if (this.jobs.size <= this.keep) break;
      if (job.view.state === 'completed' || job.view.state === 'failed') this.jobs.delete(id);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const id of this.waiting.splice(0)) this.update(id, { state: 'failed', error: 'the service stopped before the job started' });
    const current = this.current;
    if (current !== undefined) {
      await current.run.cancel();
      await current.run.outcome.catch(() => undefined);
    }
  }
}
