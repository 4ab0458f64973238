import { Job, Queue, QueueEvents, Worker, type ConnectionOptions } from 'bullmq';
import { z } from 'zod';
import { ErrorCodes, FaiError } from '../errors/index.ts';
import type { CloudHub } from '../hub/index.ts';
import { applyMetricUpdates, type MetricUpdate } from './metric-relay.ts';
import { checkPendingCap, clearTrainingSeries, preferencesFor, progressView, storeCheckpoints, type JobState, type TrainingJobs, type TrainingJobsOptions, type TrainingJobView } from './jobs.ts';
import type { TrainProgress } from './reinforce.ts';
import { runTrainingInThread } from './training-runner.ts';
import { TrainingSpecSchema, type TrainingSummary } from './training.ts';

/** The BullMQ queue training jobs go through when REDIS_URL is set. */
export const TRAINING_QUEUE = 'fai-training';

interface JobData {
  spec: z.infer<typeof TrainingSpecSchema>;
  preferences?: Record<string, number>;
}
interface JobResult {
  summary: TrainingSummary;
  /**
   * The FAICKPT1 checkpoint, base64, from a worker whose hub is its own disk (HUB_BLOCKSTORE=fs): the
   * worker may be on another machine, so the bytes travel through Redis to the service's hub.
   */
  checkpoint?: string;
  /** With `distill`: the teacher's checkpoint, base64. */
  teacherCheckpoint?: string;
  /** From a worker sharing the service's block store (HUB_BLOCKSTORE=s3): it stored them itself; only their CIDs travel. */
  checkpointCid?: string;
  teacherCheckpointCid?: string;
}
/** What a worker reports with job.updateProgress: where it is, and the metric updates since its last report. */
const ProgressSchema = z.object({
  progress: z.object({ episodes: z.number(), total: z.number(), ma100: z.number(), ma1000: z.number() }).nullable(),
  updates: z.array(z.unknown()),
});

/**
 * BullMQ's connections: its blocking commands need ioredis without a per-request retry limit. They
 * reconnect (0.2 s, 0.4 s, … at most 2 s apart) until `stopped()` says the owner is closing: then they
 * give up, so a close against a Redis that is down does not keep reconnecting, or the process alive.
 */
export function queueConnection(redisUrl: string, stopped: () => boolean = () => false): ConnectionOptions {
  const url = new URL(redisUrl);
  return {
    retryStrategy: (times: number) => (stopped() ? null : Math.min(times * 200, 2_000)),
    host: url.hostname,
    port: url.port === '' ? 6379 : Number(url.port),
    ...(url.username === '' ? {} : { username: decodeURIComponent(url.username) }),
    ...(url.password === '' ? {} : { password: decodeURIComponent(url.password) }),
    ...(url.pathname.length > 1 ? { db: Number(url.pathname.slice(1)) } : {}),
    ...(url.protocol === 'rediss:' ? { tls: {} } : {}),
    maxRetriesPerRequest: null,
  };
}

const STATES: Record<string, JobState> = { waiting: 'waiting', prioritized: 'waiting', delayed: 'waiting', 'waiting-children': 'waiting', active: 'active', completed: 'completed', failed: 'failed' };

/**
 * With REDIS_URL: jobs wait in the BullMQ queue until a `fai worker` (here or on another machine)
 * takes them; they survive restarts of the service and of the workers (a worker that dies mid-job
 * leaves it stalled, and BullMQ hands it to another). The service follows the queue's events: each
 * progress report's metric updates go into its registry, and each finished job's checkpoint into
 * its Cloud Hub.
 */
export class QueuedTrainingJobs implements TrainingJobs {
  readonly runner = 'queue' as const;
  private readonly queue: Queue<JobData, JobResult>;
  private readonly events: QueueEvents;
  private readonly stored = new Map<string, { checkpointCid: string; teacherCheckpointCid?: string }>();
  private closing = false;

  constructor(
    private readonly options: TrainingJobsOptions & { redisUrl: string; prefix?: string; timeoutMs?: number },
  ) {
    const connection = queueConnection(options.redisUrl, () => this.closing);
    const prefix = options.prefix ?? 'fai:bull';
    this.queue = new Queue<JobData, JobResult>(TRAINING_QUEUE, { connection, prefix });
    this.events = new QueueEvents(TRAINING_QUEUE, { connection, prefix });
    this.events.on('progress', ({ jobId, data }) => {
      const parsed = ProgressSchema.safeParse(data);
      if (parsed.success) applyMetricUpdates(options.metrics, parsed.data.updates, jobId);
    });
    // A job that ended takes its own training series off /metrics (job_id): another worker's running job keeps its own.
    this.events.on('failed', ({ jobId }) => clearTrainingSeries(options.metrics, jobId));
    this.events.on('completed', ({ jobId }) => {
      clearTrainingSeries(options.metrics, jobId);
      void this.checkpointsOf(jobId).catch((error: unknown) => options.log?.error({ job: jobId, err: error }, 'checkpoint of a finished job not stored'));
    });
    // A Redis outage is logged; /health reports Redis itself.
    this.queue.on('error', (error) => options.log?.error({ err: error }, 'training queue error'));
    this.events.on('error', (error) => options.log?.error({ err: error }, 'training queue events error'));
  }

  /** Redis that does not answer is a 503 naming it, never a request hanging on BullMQ's reconnects. */
  private answer<T>(work: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new FaiError(ErrorCodes.UNAVAILABLE, `the training queue (Redis at ${new URL(this.options.redisUrl).host}) did not answer within ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    // The work may still fail after the timeout answered: that late failure is expected, not unhandled.
    work.catch(() => undefined);
    return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
  }

  private get timeoutMs(): number {
    return this.options.timeoutMs ?? 5_000;
  }

  async submit(spec: JobData['spec']): Promise<TrainingJobView> {
    // Counted, then added: two submissions at once may both pass the last free place (a cap of work, not a security boundary).
    const counts = await this.answer(this.queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized'));
    checkPendingCap(Object.values(counts).reduce((sum, n) => sum + n, 0), this.options.maxPending);
    const preferences = await preferencesFor(spec, this.options.hub);
    // The event stream listens before the job exists: none of its progress reports is missed.
    await this.answer(this.events.waitUntilReady());
    const job = await this.answer(this.queue.add('train', { spec, ...(preferences === undefined ? {} : { preferences: { ...preferences } }) }, { removeOnComplete: { count: 200 }, removeOnFail: { count: 200 } }));
    return this.answer(this.view(job));
  }

  async get(id: string): Promise<TrainingJobView | undefined> {
    const job = await this.answer(Job.fromId<JobData, JobResult>(this.queue, id));
    return job === undefined ? undefined : this.answer(this.view(job));
  }

  async list(limit: number): Promise<TrainingJobView[]> {
    const jobs = await this.answer(this.queue.getJobs(['active', 'waiting', 'completed', 'failed'], 0, limit - 1));
    return this.answer(Promise.all(jobs.sort((a, b) => b.timestamp - a.timestamp).map((job) => this.view(job))));
  }

  /** Stores a finished job's checkpoints in the hub once (idempotent anyway: same bytes, same CID). */
  private async checkpointsOf(id: string): Promise<{ checkpointCid: string; teacherCheckpointCid?: string } | undefined> {
    const known = this.stored.get(id);
    if (known !== undefined) return known;
    const job = await Job.fromId<JobData, JobResult>(this.queue, id);
    const result = job?.returnvalue;
    if (result?.checkpointCid !== undefined) return { checkpointCid: result.checkpointCid, ...(result.teacherCheckpointCid === undefined ? {} : { teacherCheckpointCid: result.teacherCheckpointCid }) };
    if (result?.checkpoint === undefined) return undefined;
    const bytes = (text: string) => new Uint8Array(Buffer.from(text, 'base64'));
    const cids = await storeCheckpoints(this.options.hub, {
      summary: result.summary,
      checkpoint: bytes(result.checkpoint),
      ...(result.teacherCheckpoint === undefined ? {} : { teacherCheckpoint: bytes(result.teacherCheckpoint) }),
    });
    this.stored.set(id, cids);
    return cids;
  }

  private async view(loaded: Job<JobData, JobResult>): Promise<TrainingJobView> {
    let job = loaded;
    const state = STATES[await job.getState()] ?? 'waiting';
    // A job that finished between its loading and the state read has its result only in Redis: read it again,
    // or it would show as completed without its checkpoints.
    if (state === 'completed' && (job.returnvalue === null || job.returnvalue === undefined)) job = (await Job.fromId<JobData, JobResult>(this.queue, job.id!)) ?? job;
    const progress = ProgressSchema.safeParse(job.progress);
    const completed = state === 'completed' && job.returnvalue !== null && job.returnvalue !== undefined;
    const cids = completed ? await this.checkpointsOf(job.id!) : undefined;
    return {
      id: job.id!,
      state,
      runner: this.runner,
      spec: job.data.spec,
      // A completed job's progress is its summary's (its last report may have been throttled away).
      progress: completed ? { episodes: job.returnvalue.summary.episodes, total: job.data.spec.episodes, ma100: job.returnvalue.summary.rewardMa100, ma1000: job.returnvalue.summary.rewardMa1000 } : progress.success ? progress.data.progress : null,
      ...(completed ? { summary: job.returnvalue.summary } : {}),
      ...(cids === undefined ? {} : cids),
      ...(state === 'failed' ? { error: job.failedReason } : {}),
      createdAt: new Date(job.timestamp).toISOString(),
      ...(job.finishedOn === undefined ? {} : { finishedAt: new Date(job.finishedOn).toISOString() }),
    };
  }

  /** Closes the queue's connections; gives up waiting after 2 s (a Redis that is down, a blocking read in flight) and drops them. */
  async close(): Promise<void> {
    this.closing = true;
    const within = <T>(work: Promise<T>, ms: number) =>
      Promise.race([work.then(() => true, () => true), new Promise<false>((resolve) => setTimeout(() => resolve(false), ms).unref())]);
    if (!(await within(Promise.all([this.events.close(), this.queue.close()]), 2_000))) {
      await within(Promise.all([this.events.disconnect(), this.queue.disconnect()]), 1_000);
    }
  }
}

/**
 * `fai worker`: takes training jobs from the queue, one at a time, and trains each on a worker thread
 * (the process's event loop stays free to renew the job's lock and to report progress). Reports
 * progress with the relayed metric updates at most every `progressEveryMs`. Given the shared hub, it
 * stores the checkpoints there; otherwise their bytes go back through Redis to the service's hub.
 */
export function startTrainingWorker(options: {
  redisUrl: string;
  /** The shared hub (HUB_BLOCKSTORE=s3): the worker stores each checkpoint there itself, and the job carries only its CIDs. */
  hub?: CloudHub;
  prefix?: string;
  progressEveryMs?: number;
  log?: { info(object: object, message: string): void; error(object: object, message: string): void };
}): Worker<JobData, JobResult> {
  const worker = new Worker<JobData, JobResult>(
    TRAINING_QUEUE,
    async (job) => {
      const spec = TrainingSpecSchema.parse(job.data.spec);
      const total = spec.episodes;
      let last: ReturnType<typeof progressView> | null = null;
      // Reports go out in order; the last one (the final metric updates) is awaited before the job completes.
      let reporting: Promise<void> = Promise.resolve();
      const report = (progress: TrainProgress | null, updates: MetricUpdate[]) => {
        if (progress !== null) last = progressView(progress, total);
        const payload = { progress: last, updates };
        reporting = reporting.then(() => job.updateProgress(payload)).catch((error: unknown) => options.log?.error({ job: job.id, err: error }, 'progress not reported'));
      };
      options.log?.info({ job: job.id, spec }, 'training job taken');
      const run = runTrainingInThread(spec, { ...(job.data.preferences === undefined ? {} : { preferences: job.data.preferences }), progressEveryMs: options.progressEveryMs ?? 500, onProgress: report });
      const outcome = await run.outcome;
      await reporting;
      options.log?.info({ job: job.id, rewardMa100: outcome.summary.rewardMa100 }, 'training job done');
      if (options.hub !== undefined) return { summary: outcome.summary, ...(await storeCheckpoints(options.hub, outcome)) };
      const base64 = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
      return { summary: outcome.summary, checkpoint: base64(outcome.checkpoint), ...(outcome.teacherCheckpoint === undefined ? {} : { teacherCheckpoint: base64(outcome.teacherCheckpoint) }) };
    },
    { connection: queueConnection(options.redisUrl), prefix: options.prefix ?? 'fai:bull', concurrency: 1, lockDuration: 60_000 },
  );
  worker.on('error', (error) => options.log?.error({ err: error }, 'training worker error'));
  return worker;
}
