import type { Metrics } from '../metrics/index.ts';

export interface CpuSamplerOptions {
  workerId: string;
  /** Process CPU time so far, in microseconds (user + system). */
  cpuUsage?: () => { user: number; system: number };
  /** Monotonic clock in milliseconds. */
  now?: () => number;
  /** A scrape sooner than this after the previous sample keeps the previous value, so close scrapes do not read noise. */
  minIntervalMs?: number;
}

/**
 * Sets `worker_cpu_percent{worker_id}` at every scrape from the process's own
 * CPU accounting: CPU time used since the previous sample ÷ wall time, in
 * percent of one core (so a process busy on two cores reads 200). The first
 * sample covers the time since the sampler was registered.
 */
export function registerCpuSampler(metrics: Metrics, options: CpuSamplerOptions): void {
  const cpuUsage = options.cpuUsage ?? (() => process.cpuUsage());
  const now = options.now ?? (() => performance.now());
  const minIntervalMs = options.minIntervalMs ?? 1_000;
  const first = cpuUsage();
  let previous = { atMs: now(), cpuMicros: first.user + first.system };
  let sampled = false;
  metrics.workerCpuPercent.onCollect(() => {
    const atMs = now();
    if (sampled && atMs - previous.atMs < minIntervalMs) return;
    let cpuMicros: number;
    try {
      const usage = cpuUsage();
      cpuMicros = usage.user + usage.system;
      if (!Number.isFinite(cpuMicros)) throw new Error(`CPU accounting read ${cpuMicros}`);
    } catch {
      // A sample that cannot be taken leaves no value: the series goes, so WorkerCpuSamplerStopped
      // (scraped, but no worker_cpu_percent) can fire — a stale last value would hide the stop.
      metrics.workerCpuPercent.remove({ worker_id: options.workerId });
      sampled = false;
      return;
    }
    const wallMs = atMs - previous.atMs;
    if (wallMs <= 0) return;
    const percent = ((cpuMicros - previous.cpuMicros) / 1000 / wallMs) * 100;
    metrics.workerCpuPercent.set({ worker_id: options.workerId }, Math.max(0, percent));
    previous = { atMs, cpuMicros };
    sampled = true;
  });
}
