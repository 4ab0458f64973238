import { execFile } from 'node:child_process';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics/index.ts';

/** An LLM server whose GPU memory is reported: the process behind one configured slot. */
export interface GpuServer {
  /** `worker_id`: the slot and where its server listens (`qwen@127.0.0.1:8001`). */
  readonly workerId: string;
  /** `model`: the slot's name. */
  readonly model: string;
  /** The processes whose GPU memory is the server's (the listener and its children); empty when it is not found on this host. */
  pids(): Promise<number[]>;
}

export interface VramSamplerOptions {
  /** The LLM servers to report (slotServers). */
  servers: readonly GpuServer[];
  /** The nvidia-smi executable. */
  command: string;
  intervalMs: number;
  logger?: Logger | undefined;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/**
 * The servers behind the configured LLM slots whose GPU memory this host can see: a slot served on
 * a loopback address is found by its listening port (`ss`, through pid-port) and counted with its
 * child processes (vLLM's engine holds the GPU memory in a child of the API server; pidtree). A slot
 * on another host, or in a container whose pids nvidia-smi does not show, is not measured here: its
 * series is absent (vLLM and Ollama export their own memory figures).
 */
export function slotServers(slots: ReadonlyArray<{ readonly name: string; readonly baseUrl: string }>): { servers: GpuServer[]; remote: string[] } {
  const servers: GpuServer[] = [];
  const remote: string[] = [];
  for (const slot of slots) {
    const url = new URL(slot.baseUrl);
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    if (!LOOPBACK.has(url.hostname)) {
      remote.push(`${slot.name}@${url.host}`);
      continue;
    }
    servers.push({
      workerId: `${slot.name}@${url.host}`,
      model: slot.name,
      pids: async () => {
        // Loaded when a server is first looked up: system's index is imported by code that never inspects
        // processes (a one-shot `fai check-formula`), which should not pay for these libraries at start.
        const [{ portToPid }, { default: pidtree }] = await Promise.all([import('pid-port'), import('pidtree')]);
        // Nothing listening: not found (no series). A failing `ss` throws, and the sampler says so.
        const pid = await portToPid(port);
        if (pid === undefined) return [];
        // The listener may exit between the two reads: then it alone is what there was.
        return pidtree(pid, { root: true }).catch(() => [pid]);
      },
    });
  }
  return { servers, remote };
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
 * scrape) and sets `worker_vram_bytes{worker_id,model}` for each LLM server to the GPU memory its
 * processes hold (over every GPU), not the whole card's: two servers on one card each report their
 * own share. The Node service itself does no GPU work and is not reported. Without nvidia-smi the
 * series are absent, not zero; a server found but holding no GPU memory reports 0; a server not found
 * on this host has no series; when a poll fails the series are removed and the failure counted in
 * `system_errors_total{component="system"}`.
 */
export function startVramSampler(metrics: Metrics, options: VramSamplerOptions): VramSampler {
  let available = options.servers.length > 0;
  let timer: NodeJS.Timeout | undefined;
  // One nvidia-smi at a time: a sample asked for while one runs joins it (the first sample starts with the sampler,
  // so a caller's sampleOnce() right after start would otherwise read and count everything twice).
  let running: Promise<void> | undefined;

  const sample = async (): Promise<void> => {
    if (!available) return;
    metrics.systemOperationsTotal.inc({ component: 'system' });
    let used: Map<number, number>;
    try {
      used = parseNvidiaSmiComputeApps(await runNvidiaSmi(options.command));
    } catch (error) {
      for (const server of options.servers) metrics.workerVramBytes.remove({ worker_id: server.workerId, model: server.model });
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        available = false;
        if (timer !== undefined) clearInterval(timer);
        options.logger?.info({ command: options.command }, 'no GPU driver found: worker_vram_bytes stays absent');
        return;
      }
      metrics.systemErrorsTotal.inc({ component: 'system', error_type: 'unavailable' });
      options.logger?.warn({ err: error, command: options.command }, 'nvidia-smi failed: worker_vram_bytes removed until it answers');
      return;
    }
    for (const server of options.servers) {
      const labels = { worker_id: server.workerId, model: server.model };
      let pids: number[];
      try {
        pids = await server.pids();
      } catch (error) {
        metrics.workerVramBytes.remove(labels);
        metrics.systemErrorsTotal.inc({ component: 'system', error_type: 'unavailable' });
        options.logger?.warn({ err: error, server: server.workerId }, 'the LLM server\'s processes could not be found: its worker_vram_bytes removed until they can');
        continue;
      }
      if (pids.length === 0) metrics.workerVramBytes.remove(labels);
      else metrics.workerVramBytes.set(labels, pids.reduce((sum, pid) => sum + (used.get(pid) ?? 0), 0));
    }
  };
  const sampleOnce = (): Promise<void> => (running ??= sample().finally(() => (running = undefined)));

  if (available) {
    void sampleOnce();
    timer = setInterval(() => void sampleOnce(), options.intervalMs);
    timer.unref();
  }
  return {
    sampleOnce,
    stop: () => clearInterval(timer),
    get available() {
      return available;
    },
  };
}
