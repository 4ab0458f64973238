import { execFile, spawn } from 'node:child_process';
import { mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCodes, FaiError } from '../errors/index.ts';
import { isSameProcess, processStart } from '../system/index.ts';
import type { Deployment } from './deployment.ts';

export type ProcessSpec = Deployment['processes'][number];

export interface ProcessStatus {
  readonly name: string;
  readonly role: ProcessSpec['role'];
  readonly running: boolean;
  readonly pid: number | null;
}

/** Starts, stops, restarts and signals the processes of a deployment. */
export interface Backend {
  readonly kind: 'local' | 'compose';
  status(): Promise<ProcessStatus[]>;
  /** Resolves once the process answers its health URL (when it has one). */
  start(name: string): Promise<void>;
  /** Resolves once the process is gone. */
  stop(name: string): Promise<void>;
  restart(name: string): Promise<void>;
  signal(name: string, signal: NodeJS.Signals): Promise<void>;
}

function spec(deployment: Deployment, name: string): ProcessSpec {
  const found = deployment.processes.find((p) => p.name === name);
  if (found === undefined) throw new FaiError(ErrorCodes.NOT_FOUND, `no process "${name}" in the deployment`, { field: 'deployment.processes' });
  return found;
}

async function waitHealthy(process: ProcessSpec, timeoutMs = 30_000): Promise<void> {
  if (process.healthUrl === undefined) return;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(process.healthUrl, { signal: AbortSignal.timeout(2_000) })).status === 200) return;
    } catch {
      // not up yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new FaiError(ErrorCodes.TIMEOUT, `${process.name} did not answer ${process.healthUrl} within ${timeoutMs} ms`);
}

/** Whether the process still runs (the one pid; its start is checked where the pid came from a pidfile). */
const alive = (pid: number) => isSameProcess(pid, undefined);

/**
 * Processes on this machine, managed by the project: each started detached in its own session,
 * its pid in `<stateDir>/pids/<name>.pid`, its output in `<stateDir>/logs/<name>.log`. Written here
 * rather than through PM2 so the runbooks need nothing but Node (PM2 would add a daemon to manage).
 */
export class LocalBackend implements Backend {
  readonly kind = 'local' as const;
  private readonly deployment: Deployment;

  constructor(deployment: Deployment) {
    this.deployment = deployment;
  }

  private pidFile(name: string): string {
    return join(this.deployment.stateDir, 'pids', `${name}.pid`);
  }

  /**
   * The process the pidfile names, if it still runs and is the process that was started: the
   * pidfile holds the pid and its start (boot id and start ticks), so a stale pidfile whose pid a
   * later, unrelated process got (after a reboot) is never signalled. A pidfile without a start
   * (written before it was recorded) is trusted on its pid alone.
   */
  private async pid(name: string): Promise<number | null> {
    const text = await readFile(this.pidFile(name), 'utf8').catch(() => null);
    const [pidText, start] = (text ?? '').trim().split('\n');
    const pid = Number(pidText);
    return Number.isInteger(pid) && pid > 0 && isSameProcess(pid, start === undefined || start === '' ? undefined : start) ? pid : null;
  }

  async status(): Promise<ProcessStatus[]> {
    return Promise.all(this.deployment.processes.map(async (p) => {
      const pid = await this.pid(p.name);
      return { name: p.name, role: p.role, running: pid !== null, pid };
    }));
  }

  async start(name: string): Promise<void> {
    const process = spec(this.deployment, name);
    if ((await this.pid(name)) !== null) return waitHealthy(process);
    if (process.command === undefined) throw new FaiError(ErrorCodes.CONFIG, `process ${name} has no command`, { field: 'deployment.processes' });
    await mkdir(join(this.deployment.stateDir, 'pids'), { recursive: true });
    await mkdir(join(this.deployment.stateDir, 'logs'), { recursive: true });
    const log = await open(join(this.deployment.stateDir, 'logs', `${name}.log`), 'a');
    const [binary, ...args] = process.command;
    const child = spawn(binary!, args, { detached: true, stdio: ['ignore', log.fd, log.fd], env: { ...globalThis.process.env, ...process.env } });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (error) => reject(new FaiError(ErrorCodes.CONFIG, `cannot start ${name}: ${error.message}`, { cause: error })));
    });
    child.unref();
    await log.close();
    await writeFile(this.pidFile(name), `${child.pid}\n${processStart(child.pid!) ?? ''}\n`);
    await waitHealthy(process);
  }

  async stop(name: string): Promise<void> {
    spec(this.deployment, name);
    const pid = await this.pid(name);
    if (pid !== null) {
      // The whole process group: the command may be a wrapper (make, a shell) around the service.
      const kill = (signal: NodeJS.Signals) => {
        try {
          globalThis.process.kill(-pid, signal);
        } catch {
          try {
            globalThis.process.kill(pid, signal);
          } catch {
            // already gone
          }
        }
      };
      kill('SIGTERM');
      const deadline = Date.now() + 10_000;
      while (alive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      if (alive(pid)) kill('SIGKILL');
    }
    await rm(this.pidFile(name), { force: true });
  }

  async restart(name: string): Promise<void> {
    await this.stop(name);
    await this.start(name);
  }

  async signal(name: string, signal: NodeJS.Signals): Promise<void> {
    const pid = await this.pid(name);
    if (pid === null) throw new FaiError(ErrorCodes.UNAVAILABLE, `${name} is not running`);
    globalThis.process.kill(pid, signal);
  }
}

/** Processes as Docker Compose services of `deploy/docker-compose.yml`. */
export class ComposeBackend implements Backend {
  readonly kind = 'compose' as const;
  private readonly deployment: Deployment;

  constructor(deployment: Deployment) {
    this.deployment = deployment;
  }

  private compose(args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(this.deployment.dockerBinary, ['compose', '-f', this.deployment.composeFile, ...args], { timeout: 120_000 }, (error, stdout, stderr) => {
        if (error) reject(new FaiError(ErrorCodes.UNAVAILABLE, `docker compose ${args.join(' ')} failed: ${(stderr || error.message).trim()}`, { cause: error }));
        else resolve(stdout);
      });
    });
  }

  async status(): Promise<ProcessStatus[]> {
    const output = await this.compose(['ps', '--all', '--format', 'json']);
    const rows = output
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as { Service: string; State: string });
    return this.deployment.processes.map((p) => {
      const row = rows.find((r) => r.Service === p.name);
      return { name: p.name, role: p.role, running: row?.State === 'running', pid: null };
    });
  }

  async start(name: string): Promise<void> {
    await this.compose(['up', '-d', name]);
    await waitHealthy(spec(this.deployment, name));
  }

  async stop(name: string): Promise<void> {
    await this.compose(['stop', name]);
  }

  async restart(name: string): Promise<void> {
    await this.compose(['restart', name]);
    await waitHealthy(spec(this.deployment, name));
  }

  async signal(name: string, signal: NodeJS.Signals): Promise<void> {
    await this.compose(['kill', '-s', signal, name]);
  }
}

export function backendFor(deployment: Deployment): Backend {
  return deployment.backend === 'compose' ? new ComposeBackend(deployment) : new LocalBackend(deployment);
}
