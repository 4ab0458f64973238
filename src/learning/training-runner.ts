import { startTsWorker } from '../system/index.ts';
import type { MetricUpdate } from './metric-relay.ts';
import type { TrainProgress } from './reinforce.ts';
import type { TrainingThreadData, TrainingThreadMessage } from './training-thread.ts';
import type { TrainingOutcome, TrainingSpec } from './training.ts';

export interface TrainingRun {
  /** Settles with the outcome, or rejects with the thread's error (or `cancelled`). */
  readonly outcome: Promise<TrainingOutcome>;
  /** Stops the thread; the outcome rejects. */
  cancel(): Promise<void>;
}

/**
 * Runs one training job on a worker thread, so the calling process's event loop stays free (the
 * service keeps answering; a `fai worker` keeps renewing its BullMQ lock). Progress and the relayed
 * metric updates arrive through `onProgress`, and once more, with the last updates, before the outcome.
 */
export function runTrainingInThread(
  spec: TrainingSpec,
  options: { preferences?: Readonly<Record<string, number>>; progressEveryMs?: number; onProgress?: (progress: TrainProgress | null, updates: MetricUpdate[]) => void } = {},
): TrainingRun {
  const data: TrainingThreadData = { spec, progressEveryMs: options.progressEveryMs ?? 250, ...(options.preferences === undefined ? {} : { preferences: options.preferences }) };
  const worker = startTsWorker(new URL('./training-thread.ts', import.meta.url), { kind: 'fai-training', data });
  let settled = false;
  const outcome = new Promise<TrainingOutcome>((resolve, reject) => {
    worker.on('message', (message: TrainingThreadMessage) => {
      if (message.type === 'progress') options.onProgress?.(message.progress, message.updates);
      else if (message.type === 'done') {
        settled = true;
        options.onProgress?.(null, message.updates);
        resolve({ summary: message.summary, checkpoint: message.checkpoint, ...(message.teacherCheckpoint === undefined ? {} : { teacherCheckpoint: message.teacherCheckpoint }) });
        void worker.terminate();
      } else {
        settled = true;
        reject(new Error(`training failed: ${message.message}`));
        void worker.terminate();
      }
    });
    worker.on('error', (error) => {
      settled = true;
      reject(new Error(`training thread crashed: ${error.message}`));
    });
    worker.on('exit', (code) => {
      if (!settled) reject(new Error(code === 1 ? 'training cancelled' : `training thread exited with code ${code} before finishing`));
    });
  });
  return {
    outcome,
    cancel: async () => {
      await worker.terminate();
    },
  };
}
