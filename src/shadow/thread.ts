import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { CreativeBrief } from '../llm/index.ts';
import { decodeCheckpoint, FormulationEnv, type Mlp } from '../learning/index.ts';
import { lowerThreadPriority } from '../system/index.ts';
import { concentrations, cosine, meanKl, runModel, type ModelRun } from './compare.ts';

/** Parent → thread. */
export type ShadowRequest =
  | { readonly type: 'models'; readonly teacher: { cid: string; bytes: Uint8Array }; readonly student: { cid: string; bytes: Uint8Array } }
  | { readonly type: 'compare'; readonly id: string; readonly brief: CreativeBrief; readonly productionUnits: ReadonlyArray<readonly [number, number]> };

/** Thread → parent: the teacher's part first (so the parent can time the student separately), then the result. */
export type ShadowReply =
  | { readonly type: 'ready' }
  | { readonly type: 'teacher'; readonly id: string; readonly latencyMs: number }
  | {
      readonly type: 'result';
      readonly id: string;
      readonly teacher: ModelRun;
      readonly student: ModelRun;
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
  let models: { teacher: Mlp; student: Mlp } | undefined;
  port.postMessage({ type: 'ready' } satisfies ShadowReply);
  port.on('message', (message: ShadowRequest) => {
    if (message.type === 'models') {
      try {
        models = { teacher: decodeCheckpoint(message.teacher.bytes).net, student: decodeCheckpoint(message.student.bytes).net };
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
      const teacher = runModel(env, models.teacher, message.brief);
      port.postMessage({ type: 'teacher', id: message.id, latencyMs: teacher.latencyMs } satisfies ShadowReply);
      const student = runModel(env, models.student, message.brief);
      const size = env.palette.length;
      const vectors = { teacher: concentrations(size, teacher.units), student: concentrations(size, student.units), production: concentrations(size, message.productionUnits) };
      port.postMessage({
        type: 'result',
        id: message.id,
        teacher: { latencyMs: teacher.latencyMs, reward: teacher.reward, units: teacher.units },
        student: { latencyMs: student.latencyMs, reward: student.reward, units: student.units },
        klDivergence: meanKl(models.teacher, models.student, teacher.states),
        cosineSimilarity: cosine(vectors.teacher, vectors.student),
        productionCosine: { teacher: cosine(vectors.teacher, vectors.production), student: cosine(vectors.student, vectors.production) },
      } satisfies ShadowReply);
    } catch (error) {
      port.postMessage({ type: 'error', id: message.id, message: (error as Error).message } satisfies ShadowReply);
    }
  });
}
