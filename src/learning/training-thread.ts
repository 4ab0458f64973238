import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { MetricRelay, type MetricUpdate } from './metric-relay.ts';
import type { TrainProgress } from './reinforce.ts';
import { runTraining, type TrainingSpec, type TrainingSummary } from './training.ts';

/** What a training thread posts to its parent. */
export type TrainingThreadMessage =
  | { readonly type: 'progress'; readonly progress: TrainProgress; readonly updates: MetricUpdate[] }
  | { readonly type: 'done'; readonly summary: TrainingSummary; readonly checkpoint: Uint8Array; readonly teacherCheckpoint?: Uint8Array; readonly updates: MetricUpdate[] }
  | { readonly type: 'error'; readonly message: string };

export interface TrainingThreadData {
  readonly spec: TrainingSpec;
  readonly preferences?: Readonly<Record<string, number>>;
  /** Least time between two progress messages. */
  readonly progressEveryMs: number;
}

// The body of the thread src/learning/training-runner.ts starts: trains, posting progress and the
// relayed metric updates at most every `progressEveryMs`, then the outcome.
if (!isMainThread && parentPort !== null && (workerData as { kind?: string } | null)?.kind === 'fai-training') {
  const port = parentPort;
  const data = (workerData as { data: TrainingThreadData }).data;
  const relay = new MetricRelay();
  let last = 0;
  try {
    const outcome = runTraining(data.spec, {
      metrics: relay,
      ...(data.preferences === undefined ? {} : { preferences: data.preferences }),
      onProgress: (progress) => {
        const now = performance.now();
        if (now - last < data.progressEveryMs) return;
        last = now;
        port.postMessage({ type: 'progress', progress, updates: relay.drain() } satisfies TrainingThreadMessage);
      },
    });
    port.postMessage({ type: 'done', ...outcome, updates: relay.drain() } satisfies TrainingThreadMessage);
  } catch (error) {
    port.postMessage({ type: 'error', message: error instanceof Error ? error.message : String(error) } satisfies TrainingThreadMessage);
  }
}
