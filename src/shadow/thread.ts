import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { CreativeBrief } from '../llm/index.ts';
import { decodeCheckpoint, FormulationEnv, type Mlp } from '../learning/index.ts';
import { lowerThreadPriority } from '../system/index.ts';
import { composedCosine, composerAloneReward, meanKl, runModel, warmUpBriefs, type ModelRun } from './compare.ts';

/** Parent → thread. */
export type ShadowRequest =
  | { readonly type: 'models'; readonly teacher: { cid: string; bytes: Uint8Array }; readonly student: { cid: string; bytes: Uint8Array } }
  | {
      readonly type: 'compare';
      readonly id: string;
      readonly brief: CreativeBrief;
      readonly dosagePct?: number;
      /** Production's composed formula (% per palette index). */
      readonly productionComposed: ReadonlyArray<readonly [number, number]>;
      /** Which model runs first: randomised by the runner, so neither always pays for a cold cache. */
      readonly first: 'teacher' | 'student';
    };

/** Thread → parent: the untimed warm runs done, the first model's part (so the parent can time each model separately), then the result. */
export type ShadowReply =
  | { readonly type: 'ready' }
  /** The models are loaded and warmed up (each has served the warm-up briefs once, unrecorded). */
  | { readonly type: 'loaded'; readonly key: string }
  /** Both models have run once, untimed, before the timed pair: the first model's time limit starts now. */
  | { readonly type: 'warm'; readonly id: string }
  | { readonly type: 'first'; readonly id: string; readonly latencyMs: number }
  | {
      readonly type: 'result';
      readonly id: string;
      readonly teacher: ModelRun;
      readonly student: ModelRun;
      /** What the composer alone makes of the brief: the baseline of each model's lift. */
      readonly baseline: number;
      readonly klDivergence: number;
      readonly cosineSimilarity: number;
      readonly productionCosine: { teacher: number; student: number };
    }
  | { readonly type: 'error'; readonly id: string | null; readonly message: string };

// The body of a shadow thread (src/shadow/runner.ts starts it): the teacher and the student run here,
// off the service's event loop, one comparison at a time.
if (!isMainThread && parentPort !== null && (workerData as { kind?: string } | null)?.kind === 'fai-shadow') {
  const port = parentPort;
  // Shadow work yields the CPU to the request path (SHADOW_NICE): the customer comes first.
  lowerThreadPriority((workerData as { nice?: number }).nice ?? 0);
  const env = new FormulationEnv();
  const warmUp = warmUpBriefs();
  let models: { teacher: Mlp; student: Mlp } | undefined;
  let touched = 0;
  port.postMessage({ type: 'ready' } satisfies ShadowReply);
  port.on('message', (message: ShadowRequest) => {
    if (message.type === 'models') {
      try {
        models = { teacher: decodeCheckpoint(message.teacher.bytes, env.world).net, student: decodeCheckpoint(message.student.bytes, env.world).net };
        // Warm-up: every path of both models compiled before the first timed comparison, the two alternating as in the comparisons.
        for (const brief of warmUp) {
          runModel(env, models.teacher, brief);
          runModel(env, models.student, brief);
        }
        port.postMessage({ type: 'loaded', key: `${message.teacher.cid} ${message.student.cid}` } satisfies ShadowReply);
      } catch (error) {
        models = undefined;
        port.postMessage({ type: 'error', id: null, message: `models not loaded: ${(error as Error).message}` } satisfies ShadowReply);
      }
      return;
    }
    if (models === undefined) {
      port.postMessage({ type: 'error', id: message.id, message: 'no models loaded' } satisfies ShadowReply);
      return;
    }
    try {
      // Both models run once, untimed, on the next warm-up brief: the timed runs then start from a warm
      // thread, as in a process serving formulas back to back. Without it the first model of each pair
      // also paid for waking the thread and bringing the shared code and data back into cache (+0.14 ms
      // measured: a quarter of the student's time, a twentieth of the teacher's).
      const touch = warmUp[touched++ % warmUp.length]!;
      runModel(env, models.student, touch);
      runModel(env, models.teacher, touch);
      port.postMessage({ type: 'warm', id: message.id } satisfies ShadowReply);
      const order = message.first === 'teacher' ? (['teacher', 'student'] as const) : (['student', 'teacher'] as const);
      const runs: Partial<Record<'teacher' | 'student', ReturnType<typeof runModel>>> = {};
      for (const [k, which] of order.entries()) {
        runs[which] = runModel(env, models[which], message.brief, message.dosagePct);
        if (k === 0) port.postMessage({ type: 'first', id: message.id, latencyMs: runs[which].latencyMs } satisfies ShadowReply);
      }
      const teacher = runs.teacher!;
      const student = runs.student!;
      const size = env.palette.length;
      const run = ({ latencyMs, reward, units, composed }: ModelRun): ModelRun => ({ latencyMs, reward, units, composed });
      port.postMessage({
        type: 'result',
        id: message.id,
        teacher: run(teacher),
        student: run(student),
        baseline: composerAloneReward(env, message.brief, message.dosagePct),
        klDivergence: meanKl(models.teacher, models.student, teacher.states()),
        cosineSimilarity: composedCosine(size, teacher.composed, student.composed),
        productionCosine: { teacher: composedCosine(size, teacher.composed, message.productionComposed), student: composedCosine(size, student.composed, message.productionComposed) },
      } satisfies ShadowReply);
    } catch (error) {
      port.postMessage({ type: 'error', id: message.id, message: (error as Error).message } satisfies ShadowReply);
    }
  });
}
