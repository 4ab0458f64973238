import { isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { readJsonFile } from '../config/index.ts';
import { ErrorCodes, FaiError, parseOrThrow } from '../errors/index.ts';

/**
 * What the runbooks act on: the nginx in front, the stable and canary instances behind it, the
 * model pins file, Redis, Prometheus, and where locks, the audit log and the release history live.
 * Read from `configs/deployment.json` (or FAI_DEPLOYMENT); relative paths are relative to that file's
 * directory's parent (the repository root for the default file).
 */
const Address = z.string().regex(/^[\w.-]+:\d{1,5}$/, 'must be host:port');

const DeploymentSchema = z
  .object({
    stateDir: z.string().min(1).default('data/runbooks'),
    service: z.url().default('http://127.0.0.1:8000'),
    prometheus: z.url().nullable().default(null),
    /** Alertmanager's base URL: remediation pages the people through it (an alert routed to the critical receiver). */
    alertmanager: z.url().nullable().default(null),
    redisUrl: z.string().nullable().default(null),
    cachePrefix: z.string().min(3).default('fai:cache:'),
    pinsFile: z.string().min(1).default('configs/model_pins.json'),
    nginx: z
      .object({
        binary: z.string().min(1).default('nginx'),
        prefix: z.string().min(1),
        config: z.string().min(1),
        upstreamFile: z.string().min(1),
        template: z.string().min(1).default('configs/nginx/upstream.conf.tmpl'),
        url: z.url(),
      })
      .nullable()
      .default(null),
    instances: z.object({ stable: Address, canary: Address }).nullable().default(null),
    /** How processes are started and stopped: here (local) or through Docker Compose. */
    backend: z.enum(['local', 'compose']).default('local'),
    /** The processes of the deployment (compose: `name` is the Compose service). */
    processes: z
      .array(
        z
          .object({
            name: z.string().regex(/^[a-z][a-z0-9-]*$/, 'lower-case words and dashes'),
            /** `llm`: an LLM server behind a slot (vLLM, Ollama…), named by `model`; what HighWorkerVRAM restarts. */
            role: z.enum(['service', 'stable', 'canary', 'worker', 'llm']),
            /** With role `llm`: the slot it serves (qwen, mistral, llama). */
            model: z.enum(['qwen', 'mistral', 'llama']).optional(),
            command: z.array(z.string()).min(1).optional(),
            env: z.record(z.string(), z.string()).default({}),
            /** Answers 200 when the process is ready. */
            healthUrl: z.url().optional(),
          })
          .strict(),
      )
      .default([])
      .refine((processes) => processes.every((p) => (p.role === 'llm') === (p.model !== undefined)), 'an llm process names the slot it serves (model), and only an llm process does'),
    composeFile: z.string().min(1).default('deploy/docker-compose.yml'),
    dockerBinary: z.string().min(1).default('docker'),
  })
  .strict();

export type Deployment = z.infer<typeof DeploymentSchema>;

export const DEFAULT_DEPLOYMENT_FILE = 'configs/deployment.json';

/** Reads and validates the deployment description; paths come back absolute. */
export async function loadDeployment(file = process.env.FAI_DEPLOYMENT ?? DEFAULT_DEPLOYMENT_FILE): Promise<Deployment> {
  // Read as raw JSON first: defaults and paths are applied by parseDeployment against the file's place.
  const json = await readJsonFile(file, z.unknown(), 'deployment', { field: 'FAI_DEPLOYMENT' });
  return parseDeployment(json, resolve(file, '..', '..'));
}

/** Validates a deployment description (defaults applied); relative paths are resolved against `base`. */
export function parseDeployment(json: unknown, base: string): Deployment {
  const deployment = parseOrThrow(DeploymentSchema, json, 'deployment', ErrorCodes.CONFIG);
  const abs = (path: string) => (isAbsolute(path) ? path : join(base, path));
  return {
    ...deployment,
    stateDir: abs(deployment.stateDir),
    pinsFile: abs(deployment.pinsFile),
    composeFile: abs(deployment.composeFile),
    nginx: deployment.nginx === null ? null : { ...deployment.nginx, prefix: abs(deployment.nginx.prefix), config: abs(deployment.nginx.config), upstreamFile: abs(deployment.nginx.upstreamFile), template: abs(deployment.nginx.template) },
  };
}

export function requirePart<T>(value: T | null, what: string): T {
  if (value === null) throw new FaiError(ErrorCodes.CONFIG, `deployment: no ${what} configured (configs/deployment.json)`, { field: `deployment.${what}` });
  return value;
}

/** The roles of processes that serve the API (and read the pins); workers and LLM servers do not. */
export const SERVING_ROLES: ReadonlySet<string> = new Set(['service', 'stable', 'canary']);

/** Every serving instance of the deployment: the service and, when configured, stable and canary. */
export function servingUrls(deployment: Deployment): string[] {
  const urls = [deployment.service, ...(deployment.instances === null ? [] : [deployment.instances.stable, deployment.instances.canary].map((address) => `http://${address}`))];
  return [...new Set(urls.map((url) => url.replace(/\/$/, '')))];
}
