import { execFile } from 'node:child_process';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics/index.ts';

export interface VramSamplerOptions {
  workerId: string;
  /** The model this worker serves (label `model`). */
  model: string;
  /** The nvidia-smi executable. */
  command: string;
  intervalMs: number;
  /** The process whose GPU memory this worker reports (its own, by default). */
  pid?: number;
  logger?: Logger | undefined;
}

const MIB = 1024 * 1024;

/**
 * Parses `nvidia-smi --query-compute-apps=pid,used_memory --format=csv,noheader,nounits` (one
 * "pid, MiB" line per process on each GPU; none when no process uses a GPU) into bytes per pid,
 * summed over the GPUs a process uses.
 */
export function parseNvidiaSmiComputeApps(output: string): Map<number, number> {
  const used = new Map<number, number>();
  for (const line of output.split('\n')) {
    if (line.trim() === '' || /^no running/i.test(line.trim())) continue;
    const [pidText, mibText] = line.split(',').map((part) => part.trim());
    const pid = Number(pidText);
    const mib = Number(mibText);
    if (!Number.isInteger(pid) || pid <= 0 || !Number.isFinite(mib) || mib < 0) {
      throw new Error(`unexpected nvidia-smi line: ${JSON.stringify(line)}`);
    }
    used.set(pid, (used.get(pid) ?? 0) + mib * MIB);
  }
  return used;
}

function runNvidiaSmi(command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      ['--query-compute-apps=pid,used_memory', '--format=csv,noheader,nounits'],
      { timeout: 5_000, windowsHide: true },
      (error, stdout) => (error ? reject(error) : resolve(stdout)),
    );
  });
}

export interface VramSampler {
  /** Resolves after one sample (for tests and start-up). */
  sampleOnce(): Promise<void>;
  stop(): void;
  /** False once nvidia-smi turned out not to exist: the metric stays absent. */
  readonly available: boolean;
}

/**
 * Polls nvidia-smi in the background (never at scrape time: spawning a process would slow every
 * scrape) and sets `worker_vram_bytes{worker_id,model}` to the GPU memory this worker's own process
 * holds (its pid's compute apps, over every GPU), not the whole GPU's: two workers on one card each
 * report their own share. Without nvidia-smi the series is absent, not zero; a process holding no
 * GPU memory reports 0; when a poll fails the series is removed and the failure counted in
 * `system_errors_total{component="system"}`.
 */
export function startVramSampler(metrics: Metrics, options: VramSamplerOptions): VramSampler {
  const labels = { worker_id: options.workerId, model: options.model };
  const pid = options.pid ?? process.pid;
  let available = true;
  let timer: NodeJS.Timeout | undefined;

  const sampleOnce = async (): Promise<void> => {
    if (!available) return;
    metrics.systemOperationsTotal.inc({ component: 'system' });
    try {
      const used = parseNvidiaSmiComputeApps(await runNvidiaSmi(options.command));
      metrics.workerVramBytes.set(labels, used.get(pid) ?? 0);
    } catch (error) {
      metrics.workerVramBytes.remove(labels);
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        available = false;
        if (timer !== undefined) clearInterval(timer);
        options.logger?.info({ command: options.command }, 'no GPU driver found: worker_vram_bytes stays absent');
        return;
      }
      metrics.systemErrorsTotal.inc({ component: 'system', error_type: 'unavailable' });
      options.logger?.warn({ err: error, command: options.command }, 'nvidia-smi failed: worker_vram_bytes removed until it answers');
    }
  };

  void sampleOnce();
  timer = setInterval(() => void sampleOnce(), options.intervalMs);
  timer.unref();
  return {
    sampleOnce,
    stop: () => clearInterval(timer),
    get available() {
      return available;
    },
  };
}
