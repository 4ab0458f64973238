import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { Worker } from 'node:worker_threads';

/** True when this code runs compiled (dist/*.js), false when it runs from the TypeScript sources. */
const COMPILED = import.meta.url.endsWith('.js');

/**
 * Starts a worker thread on a module of ours, named by its TypeScript source (`new URL('./x.ts',
 * import.meta.url)`). Compiled, the thread runs the emitted `x.js` beside the caller. From the sources,
 * the thread is started from a two-line loader that registers tsx first: a worker does not inherit the
 * parent's module hooks, and Node 20 ignores `--import` in a worker's execArgv.
 */
export function startTsWorker(entry: URL, workerData: unknown): Worker {
  if (COMPILED) return new Worker(new URL(entry.href.replace(/\.ts$/, '.js')), { workerData });
  return new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); })`, { eval: true, workerData });
}

/**
 * Lowers the calling thread's scheduling priority to `nice` (0–19; Linux: a thread has its own nice
 * value, and setpriority() takes its thread id, which /proc/thread-self names). Work on a thread
 * lowered this way yields the CPU to the process's other threads — the request path — whenever they
 * want it. Answers the nice value set, or null where the platform does not allow it (left as is).
 */
export function lowerThreadPriority(nice: number): number | null {
  if (nice <= 0) return null;
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(tid)) return null;
    setPriority(tid, nice);
    return nice;
  } catch {
    return null;
  }
}
