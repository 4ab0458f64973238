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
  /** CUDA_VISIBLE_DEVICES: only these GPU indices count (all when unset). */
  visibleDevices?: string | undefined;
  logger?: Logger | undefined;
}

const MIB = 1024 * 1024;

/**
 * Parses `nvidia-smi --query-gpu=index,memory.used --format=csv,noheader,nounits`
 * (one "index, MiB" line per GPU) into bytes used per GPU index.
 */
export function parseNvidiaSmiMemory(output: string): Map<number, number> {
  const used = new Map<number, number>();
  for (const line of output.split('\n')) {
    if (line.trim() === '') continue;
    const [indexText, mibText] = line.split(',').map((part) => part.trim());
    const index = Number(indexText);
    const mib = Number(mibText);
    if (!Number.isInteger(index) || !Number.isFinite(mib) || mib < 0) {
      throw new Error(`unexpected nvidia-smi line: ${JSON.stringify(line)}`);
    }
    used.set(index, mib * MIB);
  }
  return used;
}

function visibleIndices(visibleDevices: string | undefined): Set<number> | null {
  if (visibleDevices === undefined || visibleDevices.trim() === '') return null;
  const indices = visibleDevices.split(',').map((part) => Number(part.trim()));
  // GPU UUIDs (GPU-…) cannot be matched to indices here; count every GPU rather than guess.
  return indices.every(Number.isInteger) ? new Set(indices) : null;
}

function runNvidiaSmi(command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      ['--query-gpu=index,memory.used', '--format=csv,noheader,nounits'],
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
 * Polls nvidia-smi in the background (never at scrape time: spawning a process
 * would slow every scrape) and sets `worker_vram_bytes{worker_id,model}` to the
 * memory used on the GPUs visible to this worker. Without nvidia-smi the
 * series is absent, not zero; when a poll fails the series is removed and the
 * failure counted in `system_errors_total{component="system"}`.
 */
export function startVramSampler(metrics: Metrics, options: VramSamplerOptions): VramSampler {
  const labels = { worker_id: options.workerId, model: options.model };
  const visible = visibleIndices(options.visibleDevices);
  let available = true;
  let timer: NodeJS.Timeout | undefined;

  const sampleOnce = async (): Promise<void> => {
    if (!available) return;
    metrics.systemOperationsTotal.inc({ component: 'system' });
    try {
      const used = parseNvidiaSmiMemory(await runNvidiaSmi(options.command));
      let bytes = 0;
      for (const [index, value] of used) if (visible === null || visible.has(index)) bytes += value;
      metrics.workerVramBytes.set(labels, bytes);
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
