import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../system/index.ts';
import { ErrorCodes, FaiError } from '../errors/index.ts';
import type { Deployment } from './deployment.ts';

export type Weights = { readonly stable: number; readonly canary: number };
type Nginx = NonNullable<Deployment['nginx']>;
type Instances = NonNullable<Deployment['instances']>;

/** One `server` line; nginx rejects `weight=0`, so a weight of 0 is written as `down`. */
function serverLine(address: string, weight: number): string {
  return weight === 0 ? `    server ${address} down;` : `    server ${address} weight=${weight};`;
}

export function renderUpstream(template: string, instances: Instances, weights: Weights): string {
  if (!template.includes('{{servers}}')) throw new FaiError(ErrorCodes.CONFIG, 'nginx template: no {{servers}} placeholder', { field: 'deployment.nginx.template' });
  return template.replace('{{servers}}', [serverLine(instances.stable, weights.stable), serverLine(instances.canary, weights.canary)].join('\n'));
}

/** The weights the live upstream file gives each instance (0 for `down` or a missing line). */
export function parseWeights(upstream: string, instances: Instances): Weights {
  const weightOf = (address: string): number => {
    const line = upstream.split('\n').find((l) => new RegExp(`^\\s*server\\s+${address.replace(/\./g, '\\.')}[\\s;]`).test(l));
    if (line === undefined || /\bdown\b/.test(line)) return 0;
    return Number(/weight=(\d+)/.exec(line)?.[1] ?? '1');
  };
  return { stable: weightOf(instances.stable), canary: weightOf(instances.canary) };
}

function run(binary: string, args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(binary, args, { timeout: 15_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as NodeJS.ErrnoException & { code?: number }).code as unknown as number) || 1 : 0, output: `${stdout}${stderr}`.trim() });
    });
  });
}

export class NginxControl {
  private readonly nginx: Nginx;

  constructor(nginx: Nginx) {
    this.nginx = nginx;
  }

  readLive(): Promise<string> {
    return readFile(this.nginx.upstreamFile, 'utf8');
  }

  async template(): Promise<string> {
    return readFile(this.nginx.template, 'utf8');
  }

  /**
   * `nginx -t` on the whole configuration with `candidate` in place of the live upstream file,
   * in a temporary copy: a bad candidate never reaches the live files.
   */
  async test(candidate: string): Promise<void> {
    const dir = await mkdtemp(join(tmpdir(), 'fai-nginx-test-'));
    try {
      const upstream = join(dir, 'upstream.conf');
      await writeFile(upstream, candidate);
      const main = (await readFile(this.nginx.config, 'utf8')).split(this.nginx.upstreamFile).join(upstream);
      const config = join(dir, 'nginx.conf');
      await writeFile(config, main);
      const result = await run(this.nginx.binary, ['-t', '-q', '-p', this.nginx.prefix, '-c', config]);
      if (result.code !== 0) throw new FaiError(ErrorCodes.VALIDATION, `nginx -t rejects the new upstream: ${result.output}`, { field: 'deployment.nginx.template' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** Writes the upstream file atomically and reloads nginx (graceful: requests in flight finish). */
  async install(upstream: string): Promise<void> {
    await writeFileAtomic(this.nginx.upstreamFile, upstream);
    const result = await run(this.nginx.binary, ['-s', 'reload', '-p', this.nginx.prefix, '-c', this.nginx.config]);
    if (result.code !== 0) throw new FaiError(ErrorCodes.UNAVAILABLE, `nginx reload failed: ${result.output}`);
  }

  /**
   * Sends `count` requests through nginx and counts which instance answered each. Each request
   * opens its own connection: right after a reload, nginx's old workers close kept-alive
   * connections, and a reused one would fail for reasons that say nothing about the split.
   * A request that still fails is counted as `error`.
   */
  async sample(count: number, path = '/health'): Promise<Record<string, number>> {
    const seen: Record<string, number> = {};
    for (let i = 0; i < count; i++) {
      let instance: string;
      try {
        const response = await fetch(`${this.nginx.url}${path}`, { headers: { connection: 'close' }, signal: AbortSignal.timeout(5_000) });
        await response.arrayBuffer();
        instance = response.headers.get('x-fai-instance') ?? `HTTP ${response.status}`;
      } catch {
        instance = 'error';
      }
      seen[instance] = (seen[instance] ?? 0) + 1;
    }
    return seen;
  }
}
