import './operator.ts';
/**
 * Test helpers that start real servers on free loopback ports in temp
 * directories, and stop them. Tests never share state through fixed ports.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertBuildCurrent, FAI } from './cli.ts';

/** A port nobody listens on right now (the OS picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Polls `probe` until it resolves true, or fails after `timeoutMs` naming `what`. */
export async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      if (await probe()) return;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
}

/** Sends `signal` to a child that is still running and waits until it has exited (a no-op once it has). */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  await exited;
}

/** Fails with an actionable message when a server binary the suite needs is missing. */
export function requireBinary(name: string, debPackage: string): string {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  const path = found.stdout.trim();
  if (found.status !== 0 || path === '') {
    throw new Error(`${name} is not installed: run \`make system-deps\` as root (apt-get install ${debPackage})`);
  }
  return path;
}

/**
 * The lifecycle a real server's helper shares: `spawnServer` starts its process, `ready` waits until
 * it answers; kill (SIGKILL, like a crash), restart (same port and directory), a signal (SIGSTOP
 * stalls it, SIGCONT resumes it) and stop (which removes its directory).
 */
async function restartableServer(spawnServer: () => ChildProcess, ready: () => Promise<void>, dir: string): Promise<Pick<RedisServer, 'kill' | 'restart' | 'signal' | 'stop'>> {
  let child: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    child = spawnServer();
    await ready();
  };
  const kill = async (): Promise<void> => {
    if (child !== undefined) await stopChild(child, 'SIGKILL');
  };
  await start();
  return {
    kill,
    restart: start,
    signal(signal) {
      child?.kill(signal);
    },
    async stop() {
      child?.kill('SIGCONT');
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** Kills the server abruptly (SIGKILL), like a crash. */
  kill(): Promise<void>;
  /** Starts it again on the same port. */
  restart(): Promise<void>;
  /** Sends a signal to the server: SIGSTOP stalls it (connections stay open, nothing answers), SIGCONT resumes it. */
  signal(signal: 'SIGSTOP' | 'SIGCONT'): void;
  stop(): Promise<void>;
}

/**
 * A real redis-server on a free loopback port in a temp directory: no persistence by default;
 * with `persistent`, an append-only file fsynced on every write, so a killed and restarted
 * server keeps every acknowledged write (as production Redis for the hub is configured).
 */
export async function startRedis(options: { persistent?: boolean } = {}): Promise<RedisServer> {
  const binary = requireBinary('redis-server', 'redis-server');
  const dir = await mkdtemp(join(tmpdir(), 'fai-redis-'));
  const port = await freePort();
  const ping = async (): Promise<boolean> => {
    const { Redis } = await import('ioredis');
    const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => undefined);
    try {
      await client.connect();
      return (await client.ping()) === 'PONG';
    } finally {
      client.disconnect();
    }
  };
  const persistence = options.persistent ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
  const lifecycle = await restartableServer(
    () => spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence, '--dir', dir], { stdio: 'ignore' }),
    () => waitFor(`redis-server on port ${port}`, ping),
    dir,
  );
  return { port, url: `redis://127.0.0.1:${port}`, ...lifecycle };
}

export interface S3Server {
  readonly port: number;
  readonly endpoint: string;
  readonly bucket: string;
  /** The environment a service or worker needs to keep its blocks there (HUB_BLOCKSTORE=s3 with this endpoint and bucket). */
  readonly env: Record<string, string>;
  /** Kills the server abruptly (SIGKILL), like a crash; its objects stay in its directory. */
  kill(): Promise<void>;
  /** Starts it again on the same port and directory. */
  restart(): Promise<void>;
  /** Sends a signal: SIGSTOP stalls it (connections open, nothing answers), SIGCONT resumes it. */
  signal(signal: 'SIGSTOP' | 'SIGCONT'): void;
  stop(): Promise<void>;
}

/**
 * A real S3-compatible server (s3rver, from npm) in its own process on a free loopback port, its
 * objects in a temp directory, with one bucket made at start.
 */
export async function startS3(options: { bucket?: string } = {}): Promise<S3Server> {
  const bucket = options.bucket ?? 'fai-blocks';
  const dir = await mkdtemp(join(tmpdir(), 'fai-s3-'));
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const bin = join(process.cwd(), 'node_modules', 's3rver', 'bin', 's3rver.js');
  const lifecycle = await restartableServer(
    // s3rver seals its listings' continuation tokens with DES, which OpenSSL 3 keeps in its legacy provider:
    // without it a listing longer than one page fails with 500.
    () => spawn(process.execPath, ['--openssl-legacy-provider', bin, '-d', dir, '-a', '127.0.0.1', '-p', String(port), '--silent', '--configure-bucket', bucket], { stdio: 'ignore' }),
    () => waitFor(`s3rver on port ${port}`, async () => (await fetch(`${endpoint}/${bucket}?list-type=2&max-keys=1`)).status === 200),
    dir,
  );
  return {
    port,
    endpoint,
    bucket,
    env: { HUB_BLOCKSTORE: 's3', HUB_S3_ENDPOINT: endpoint, HUB_S3_BUCKET: bucket, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' },
    ...lifecycle,
  };
}

export interface PrometheusServer {
  readonly url: string;
  /** Runs an instant query and returns the result vector. */
  query(promql: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>>;
  stop(): Promise<void>;
}

/** A real Prometheus (Debian package) on a free loopback port, scraping `targets` and evaluating `ruleFiles` every second. */
export async function startPrometheus(targets: readonly string[], options: { ruleFiles?: readonly string[] } = {}): Promise<PrometheusServer> {
  const binary = requireBinary('prometheus', 'prometheus');
  const dir = await mkdtemp(join(tmpdir(), 'fai-prometheus-'));
  const port = await freePort();
  const config = [
    'global:',
    '  scrape_interval: 1s',
    '  evaluation_interval: 1s',
    ...(options.ruleFiles && options.ruleFiles.length > 0 ? ['rule_files:', ...options.ruleFiles.map((f) => `  - ${JSON.stringify(f)}`)] : []),
    'scrape_configs:',
    '  - job_name: fragrance-ai',
    '    static_configs:',
    `      - targets: [${targets.map((t) => JSON.stringify(t)).join(', ')}]`,
    '',
  ].join('\n');
  const { writeFile } = await import('node:fs/promises');
  await writeFile(join(dir, 'prometheus.yml'), config);
  const child = spawn(
    binary,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk) => (stderr += chunk));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(`prometheus on port ${port}`, async () => (await fetch(`${url}/-/ready`)).ok);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${String(error)}\n${stderr}`);
  }
  return {
    url,
    async query(promql) {
      const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
      const body = (await response.json()) as { status: string; error?: string; data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
      if (body.status !== 'success') throw new Error(`query ${promql} failed: ${body.error}`);
      return body.data.result;
    },
    async stop() {
      await stopChild(child, 'SIGTERM');
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface NginxServer {
  readonly url: string;
  readonly prefix: string;
  readonly config: string;
  readonly upstreamFile: string;
  stop(): Promise<void>;
}

/**
 * A real nginx (Debian package), run in the foreground with `-p` on a temp prefix and a free
 * loopback port, proxying to the upstream file it includes (which the test or the runbooks write).
 */
export async function startNginx(upstream: string): Promise<NginxServer> {
  return startNginxWith(async ({ prefix, port, head }) => {
    const upstreamFile = join(prefix, 'upstream.conf');
    await writeFile(upstreamFile, upstream);
    return { upstreamFile, config: [...head, 'http {', '  access_log off;', `  include ${upstreamFile};`, `  server { listen 127.0.0.1:${port}; location / { proxy_pass http://fragrance_ai; } }`, '}', ''].join('\n') };
  });
}

/**
 * A real nginx on a configuration the caller writes: given the prefix, a free port and the lines
 * every test nginx starts with (foreground, pid, error log, events), it returns the whole
 * configuration; the prefix's temp paths are added at the top of its `http {` block.
 */
export async function startNginxWith(
  write: (place: { prefix: string; port: number; head: string[] }) => Promise<{ config: string; upstreamFile?: string }>,
): Promise<NginxServer> {
  const binary = requireBinary('nginx', 'nginx');
  const prefix = await mkdtemp(join(tmpdir(), 'fai-nginx-'));
  await mkdir(join(prefix, 'tmp'), { recursive: true });
  const port = await freePort();
  const tempPaths = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => `  ${kind}_temp_path ${join(prefix, 'tmp', kind)};`);
  const head = ['daemon off;', 'master_process on;', 'worker_processes 1;', `pid ${join(prefix, 'nginx.pid')};`, `error_log ${join(prefix, 'error.log')} warn;`, 'events { worker_connections 512; }'];
  const written = await write({ prefix, port, head });
  // The temp paths go into the http block of whatever the caller wrote.
  const configText = written.config.replace(/^http \{$/m, `http {\n${tempPaths.join('\n')}`);
  const config = join(prefix, 'nginx.conf');
  await writeFile(config, configText);
  const child = spawn(binary, ['-p', prefix, '-c', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk) => (stderr += chunk));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(`nginx on port ${port}`, async () => {
      if (child.exitCode !== null) throw new Error(`nginx exited: ${stderr}`);
      await fetch(url).catch(() => {
        throw new Error('not listening');
      });
      return true;
    });
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    url,
    prefix,
    config,
    upstreamFile: written.upstreamFile ?? '',
    async stop() {
      await stopChild(child, 'SIGQUIT');
      await rm(prefix, { recursive: true, force: true });
    },
  };
}

export interface FaiWorker {
  readonly child: ChildProcess;
  /** Everything it printed. */
  readonly output: string[];
  /** Its own /metrics (a free loopback port). */
  readonly metricsUrl: string;
  stop(): Promise<void>;
}

/** A `fai worker` process (bin/fai.js, as a user runs it) taking training jobs from the BullMQ queue on `redisUrl`, its metrics on a free port; resolves once it waits for jobs. */
export async function startFaiWorker(redisUrl: string, extraArgs: readonly string[] = [], env: Record<string, string> = {}): Promise<FaiWorker> {
  const root = new URL('../..', import.meta.url).pathname;
  const output: string[] = [];
  const metricsPort = await freePort();
  assertBuildCurrent();
  const child = spawn(process.execPath, [FAI, 'worker', '--metrics-port', String(metricsPort), ...extraArgs], {
    cwd: root,
    env: { ...process.env, REDIS_URL: redisUrl, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  await waitFor('fai worker waiting for jobs', async () => output.join('').includes('training worker waiting for jobs'), 30_000).catch(async (error: unknown) => {
    await stopChild(child, 'SIGKILL');
    throw new Error(`${(error as Error).message}; it printed: ${output.join('').slice(-2000)}`);
  });
  return {
    child,
    output,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    stop: () => stopChild(child, 'SIGKILL'),
  };
}

export interface FaiService {
  readonly url: string;
  readonly port: number;
  /** Everything it printed (its pino log lines). */
  readonly output: string[];
  /** Kills it abruptly (SIGKILL), like a crash or a host lost. */
  kill(): Promise<void>;
  /** Starts it again on the same port with the same environment (after `kill` or `stop`). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A `fai serve` process (bin/fai.js, as an operator runs it) on a free loopback port with `env` over
 * the test's environment; resolves once /health answers 200.
 */
export async function startFaiService(env: Record<string, string>): Promise<FaiService> {
  const root = new URL('../..', import.meta.url).pathname;
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const output: string[] = [];
  let child: ChildProcess | undefined;
  assertBuildCurrent();
  const start = async (): Promise<void> => {
    child = spawn(process.execPath, [FAI, 'serve'], {
      cwd: root,
      env: { ...process.env, LOG_LEVEL: 'info', RATE_LIMIT_PER_MINUTE: '0', ...env, PORT: String(port), HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    const started = child;
    await waitFor(`fai serve on port ${port}`, async () => {
      if (started.exitCode !== null) throw new Error(`fai serve exited ${started.exitCode}: ${output.join('').slice(-2000)}`);
      return (await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) })).status === 200;
    }, 30_000).catch(async (error: unknown) => {
      await stopChild(started, 'SIGKILL');
      throw error;
    });
  };
  await start();
  const kill = async () => {
    if (child !== undefined) await stopChild(child, 'SIGKILL');
  };
  return {
    url,
    port,
    output,
    kill,
    restart: start,
    stop: async () => {
      if (child !== undefined) await stopChild(child, 'SIGTERM');
    },
  };
}
