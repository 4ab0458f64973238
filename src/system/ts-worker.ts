import { Worker } from 'node:worker_threads';

/**
 * Starts a worker thread on a TypeScript module. The thread is started from a two-line loader that
 * registers tsx first: a worker does not inherit the parent's module hooks, and Node 20 ignores
 * `--import` in a worker's execArgv.
 */
export function startTsWorker(entry: URL, workerData: unknown): Worker {
  return new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); })`, { eval: true, workerData });
}
