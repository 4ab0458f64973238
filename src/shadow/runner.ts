import { randomInt, randomUUID } from 'node:crypto';
import type { Worker } from 'node:worker_threads';
import { briefKey, encodeCheckpoint, type LoadedPolicy, type ProductionAnswer } from '../learning/index.ts';
import type { Metrics } from '../metrics/index.ts';
import { startTsWorker } from '../system/index.ts';
import type { Comparison, ComparisonLog, Stage } from './log.ts';
import type { ShadowReply, ShadowRequest } from './thread.ts';

export type DropReason = 'queue_full' | 'timeout' | 'no_models' | 'error';

export interface ShadowRunnerOptions {
  /** The teacher and the student, loaded (from their pins); rejects when either is not pinned or does not load. */
  models: () => Promise<{ teacher: LoadedPolicy; student: LoadedPolicy }>;
  log: ComparisonLog;
  stage: () => Stage;
  source?: Comparison['source'];
  metrics?: Metrics;
  /** Comparisons waiting; a sampled request beyond this is shed (counted, never waited for). */
  queueSize?: number;
  /** Shadow threads, each running one comparison at a time. */
  concurrency?: number;
  /** Each model's time limit; a model over it is abandoned (its thread replaced) and the comparison dropped. */
  timeoutMs?: number;
  /** Nice value of the shadow threads (0 = as the request path; 19 = only idle CPU). */
  nice?: number;
  onError?: (error: Error) => void;
}

/**
 * The last `size` comparisons of one model pair, for the gauges: what the student keeps of the
 * teacher's lift over the composer alone, the median of per-comparison speedups, the mean KL.
 */
class Recent {
  private readonly items: Array<{ lift: { teacher: number; student: number }; speedup: number; kl: number }> = [];
  constructor(
    readonly pair: string,
    private readonly size = 100,
  ) {}
  push(item: { lift: { teacher: number; student: number }; speedup: number; kl: number }) {
    this.items.push(item);
    if (this.items.length > this.size) this.items.shift();
  }
  get retention() {
    const t = this.items.reduce((a, i) => a + i.lift.teacher, 0);
    return t <= 0 ? 0 : this.items.reduce((a, i) => a + i.lift.student, 0) / t;
  }
  get speedup() {
    const sorted = this.items.map((i) => i.speedup).sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    return sorted.length === 0 ? 0 : sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  }
  get kl() {
    return this.items.length === 0 ? 0 : this.items.reduce((a, i) => a + i.kl, 0) / this.items.length;
  }
}

interface Slot {
  worker: Worker;
  /** Resolves once the thread has started (its module loaded): time limits start after that. */
  ready: Promise<void>;
  /** CIDs of the models the thread holds, once it has loaded and warmed them up. */
  models: string | undefined;
  /** Resolves when the thread has loaded (and warmed up) the models last posted to it. */
  loaded: Promise<void> | undefined;
  busy: boolean;
}

/**
 * Shadow comparisons, detached from the request: `offer` only queues (or sheds) and returns at once;
 * `concurrency` threads take queued comparisons, run the teacher and the student there (off the event
 * loop), each under `timeoutMs`, and the comparison is recorded (log, metrics). Production's answer
 * is already with the customer when this starts.
 */
export class ShadowRunner {
  private readonly queue: ProductionAnswer[] = [];
  private readonly slots: Slot[] = [];
  private readonly recent = new Map<Stage, Recent>();
  /** The labels of the rl_distill_kl series last written, so a new pin's series replaces the old one's. */
  private klSeries: { teacher: string; student: string } | undefined;
  private readonly waiters: Array<() => void> = [];
  private inFlight = 0;
  private closed = false;
  private readonly o: Required<Omit<ShadowRunnerOptions, 'metrics' | 'onError'>> & Pick<ShadowRunnerOptions, 'metrics' | 'onError'>;

  constructor(options: ShadowRunnerOptions) {
    this.o = { queueSize: 64, concurrency: 1, timeoutMs: 2_000, nice: 0, source: 'live', ...options };
  }

  /** Queues a comparison; sheds it (counted) when the queue is full or the runner closed. Never waits. */
  offer(answer: ProductionAnswer): 'queued' | 'dropped' {
    if (this.closed || this.queue.length >= this.o.queueSize) {
      this.drop('queue_full');
      return 'dropped';
    }
    this.queue.push(answer);
    this.pump();
    return 'queued';
  }

  /** Starts the threads now (each takes a second or two to load): comparisons offered later do not queue behind their start. */
  start(): void {
    while (!this.closed && this.slots.length < this.o.concurrency) this.slot();
  }

  /** Comparisons waiting or running. */
  get pending(): number {
    return this.queue.length + this.inFlight;
  }

  /** Resolves when nothing waits or runs. */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private drop(reason: DropReason): void {
    this.o.metrics?.shadowDroppedTotal.inc({ reason });
  }

  private settle(): void {
    this.inFlight--;
    this.pump();
    if (this.pending === 0) for (const resolve of this.waiters.splice(0)) resolve();
  }

  private slot(): Slot | undefined {
    let free = this.slots.find((s) => !s.busy);
    if (free === undefined && this.slots.length < this.o.concurrency) {
      const worker = startThread(this.o.nice);
      free = { worker, ready: readyOf(worker), models: undefined, loaded: undefined, busy: false };
      this.slots.push(free);
    }
    return free;
  }

  private pump(): void {
    while (!this.closed && this.queue.length > 0) {
      const slot = this.slot();
      if (slot === undefined) return;
      const answer = this.queue.shift()!;
      slot.busy = true;
      this.inFlight++;
      void this.compare(slot, answer)
        .catch((error: unknown) => {
          this.drop('error');
          this.o.onError?.(error as Error);
        })
        .finally(() => {
          slot.busy = false;
          this.settle();
        });
    }
  }

  /** Replaces a thread that overran its time (it may be stuck in a model): the slot gets a fresh one. */
  private replace(slot: Slot): void {
    void slot.worker.terminate();
    slot.worker = startThread(this.o.nice);
    slot.ready = readyOf(slot.worker);
    slot.models = undefined;
    slot.loaded = undefined;
  }

  private async compare(slot: Slot, answer: ProductionAnswer): Promise<void> {
    let models: { teacher: LoadedPolicy; student: LoadedPolicy };
    try {
      models = await this.o.models();
    } catch {
      this.drop('no_models');
      return;
    }
    await slot.ready;
    const key = `${models.teacher.pin.cid} ${models.student.pin.cid}`;
    if (slot.models !== key) {
      const bytes = (p: LoadedPolicy) => encodeCheckpoint(p.net, p.meta);
      slot.loaded = loadedOf(slot.worker, key);
      slot.worker.postMessage({ type: 'models', teacher: { cid: models.teacher.pin.cid, bytes: bytes(models.teacher) }, student: { cid: models.student.pin.cid, bytes: bytes(models.student) } } satisfies ShadowRequest);
      slot.models = key;
    }
    // A new thread or a new pair is warmed up before anything is timed (thread.ts).
    try {
      await slot.loaded;
    } catch (error) {
      this.replace(slot);
      throw error;
    }
    const id = randomUUID();
    // Which model runs first is drawn per comparison: neither always pays for a cold cache.
    const first = randomInt(2) === 0 ? 'teacher' : 'student';
    const reply = await new Promise<Extract<ShadowReply, { type: 'result' }> | 'timeout' | Error>((resolve) => {
      let timer = setTimeout(() => finish('timeout'), this.o.timeoutMs);
      const onMessage = (message: ShadowReply) => {
        if (message.type === 'ready') return;
        if (message.type === 'error') finish(new Error(message.message));
        else if (message.type === 'loaded' || message.id !== id) return;
        else if (message.type === 'warm' || message.type === 'first') {
          // The untimed warm runs are done (the first model's limit starts), or the first model
          // answered in time (the second gets its own limit). A model stuck in its warm run still
          // overruns the limit set when the comparison was posted.
          clearTimeout(timer);
          timer = setTimeout(() => finish('timeout'), this.o.timeoutMs);
        } else finish(message);
      };
      const onError = (error: Error) => finish(error);
      const finish = (value: Extract<ShadowReply, { type: 'result' }> | 'timeout' | Error) => {
        clearTimeout(timer);
        slot.worker.off('message', onMessage);
        slot.worker.off('error', onError);
        resolve(value);
      };
      slot.worker.on('message', onMessage);
      slot.worker.on('error', onError);
      slot.worker.postMessage({ type: 'compare', id, brief: answer.brief, ...(answer.dosagePct === undefined ? {} : { dosagePct: answer.dosagePct }), productionComposed: answer.composed, first } satisfies ShadowRequest);
    });
    if (reply === 'timeout') {
      this.replace(slot);
      this.drop('timeout');
      return;
    }
    if (reply instanceof Error) {
      this.replace(slot);
      throw reply;
    }
    const comparison: Comparison = {
      id,
      at: new Date().toISOString(),
      stage: this.o.stage(),
      source: this.o.source,
      requestId: answer.requestId,
      briefKey: briefKey(answer.brief, answer.dosagePct),
      first,
      baseline: reply.baseline,
      production: { latencyMs: round(answer.latencyMs), reward: answer.reward, version: answer.version, cid: answer.cid },
      teacher: { latencyMs: round(reply.teacher.latencyMs), reward: reply.teacher.reward, version: models.teacher.pin.version, cid: models.teacher.pin.cid },
      student: { latencyMs: round(reply.student.latencyMs), reward: reply.student.reward, version: models.student.pin.version, cid: models.student.pin.cid },
      klDivergence: round(reply.klDivergence),
      cosineSimilarity: round(reply.cosineSimilarity),
      productionCosine: { teacher: round(reply.productionCosine.teacher), student: round(reply.productionCosine.student) },
      speedup: round(reply.teacher.latencyMs / Math.max(reply.student.latencyMs, 1e-6)),
    };
    await this.o.log.append(comparison);
    this.record(comparison, models);
  }

  /**
   * The gauges of this runner's source (live or offline), per stage, over the last 100 comparisons of
   * the pinned pair: a new pin starts a new window (a window never mixes model pairs). Only the live
   * runner writes rl_distill_kl — the mean KL of its window — and a new pair's series replaces the old.
   */
  private record(c: Comparison, models: { teacher: LoadedPolicy; student: LoadedPolicy }): void {
    const metrics = this.o.metrics;
    if (metrics === undefined) return;
    const labels = { stage: c.stage, source: c.source };
    metrics.shadowComparisonsTotal.inc(labels);
    metrics.shadowKlDivergence.observe(labels, c.klDivergence);
    const pair = `${models.teacher.pin.cid} ${models.student.pin.cid}`;
    let recent = this.recent.get(c.stage);
    if (recent?.pair !== pair) this.recent.set(c.stage, (recent = new Recent(pair)));
    recent.push({ lift: { teacher: c.teacher.reward - c.baseline, student: c.student.reward - c.baseline }, speedup: c.speedup, kl: c.klDivergence });
    metrics.shadowRewardRetention.set(labels, recent.retention);
    metrics.shadowSpeedupRatio.set(labels, recent.speedup);
    if (c.source !== 'live') return;
    const series = { teacher: `teacher@${models.teacher.pin.version}`, student: `student@${models.student.pin.version}` };
    if (this.klSeries !== undefined && (this.klSeries.teacher !== series.teacher || this.klSeries.student !== series.student)) metrics.rlDistillKl.remove(this.klSeries);
    this.klSeries = series;
    metrics.rlDistillKl.set(series, recent.kl);
  }

  async close(): Promise<void> {
    this.closed = true;
    // Waiting comparisons are abandoned with the process: shadow work never delays a shutdown.
    this.queue.splice(0);
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}

const round = (value: number) => Math.round(value * 10_000) / 10_000;

/** Resolves when the thread reports the pair `key` loaded and warmed up; rejects on its error or its death. */
function loadedOf(worker: Worker, key: string): Promise<void> {
  const loaded = new Promise<void>((resolve, reject) => {
    const onMessage = (message: ShadowReply) => {
      if (message.type === 'loaded' && message.key === key) finish();
      else if (message.type === 'error' && message.id === null) finish(new Error(message.message));
    };
    const onError = (error: Error) => finish(error);
    const finish = (error?: Error) => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      if (error === undefined) resolve();
      else reject(error);
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
  });
  loaded.catch(() => undefined);
  return loaded;
}

/** A shadow thread; it does not keep the process alive. */
function startThread(nice: number): Worker {
  const worker = startTsWorker(new URL('./thread.ts', import.meta.url), { kind: 'fai-shadow', nice });
  worker.unref();
  return worker;
}

/** Resolves on the thread's `ready` message; rejects if it dies first. */
function readyOf(worker: Worker): Promise<void> {
  const ready = new Promise<void>((resolve, reject) => {
    const onMessage = (message: ShadowReply) => {
      if (message.type !== 'ready') return;
      worker.off('message', onMessage);
      worker.off('error', reject);
      resolve();
    };
    worker.on('message', onMessage);
    worker.once('error', reject);
  });
  // A thread that dies before anyone waits is not an unhandled rejection: the next comparison sees it.
  ready.catch(() => undefined);
  return ready;
}
