import { z } from 'zod';
import { ErrorCodes, FaiError, parseOrThrow } from '../errors/index.ts';
import { RatesSchema, STAGES, type Stage } from './shadow-stages.ts';

/** The LLM slots of the operations guide; each is an OpenAI-compatible endpoint when its URL is set. */
export const LLM_SLOTS = ['qwen', 'mistral', 'llama'] as const;
export type LlmSlot = (typeof LLM_SLOTS)[number];

const optionalUrl = (protocols: readonly string[]) =>
  z
    .string()
    .trim()
    .optional()
    .transform((value) => (value === undefined || value === '' ? undefined : value))
    .refine((value) => {
      if (value === undefined) return true;
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    }, `must be a URL starting with ${protocols.join(' or ')}//`);

const integer = (fallback: number, min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

/** A bearer token: unset or empty means none; otherwise long enough to guess at no faster than brute force. */
const secretToken = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value === '' ? undefined : value))
  .refine((value) => value === undefined || (value.length >= 16 && !/\s/.test(value)), 'must be at least 16 characters without spaces (e.g. openssl rand -hex 24)');

/**
 * Every setting comes from the environment (README, "Configuration"); this
 * schema is the one place that names them, their defaults and their bounds.
 */
const EnvSchema = z.object({
  PORT: integer(8000, 0, 65_535),
  HOST: z.string().trim().min(1).default('127.0.0.1'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  BODY_LIMIT_BYTES: integer(1_048_576, 1_024, 104_857_600),
  REQUEST_TIMEOUT_MS: integer(30_000, 100, 600_000),
  HEALTH_TIMEOUT_MS: integer(2_000, 50, 60_000),
  REDIS_URL: optionalUrl(['redis:', 'rediss:']),
  LLM_QWEN_URL: optionalUrl(['http:', 'https:']),
  LLM_MISTRAL_URL: optionalUrl(['http:', 'https:']),
  LLM_LLAMA_URL: optionalUrl(['http:', 'https:']),
  LLM_QWEN_MODEL: z.string().trim().min(1).default('qwen'),
  LLM_MISTRAL_MODEL: z.string().trim().min(1).default('mistral'),
  LLM_LLAMA_MODEL: z.string().trim().min(1).default('llama'),
  LLM_QWEN_API_KEY: z.string().optional(),
  LLM_MISTRAL_API_KEY: z.string().optional(),
  LLM_LLAMA_API_KEY: z.string().optional(),
  WORKER_ID: z.string().trim().min(1).max(64).default('api'),
  NVIDIA_SMI: z.string().trim().min(1).default('nvidia-smi'),
  GPU_POLL_SECONDS: integer(15, 1, 3_600),
  REGULATION_STRICT: z.enum(['true', 'false', '1', '0', '']).default('false'),
  HUB_DIR: z.string().trim().min(1).default('data/hub'),
  PINS_FILE: z.string().trim().min(1).default('configs/model_pins.json'),
  SHADOW_STAGE: z.enum(STAGES).default('production'),
  SHADOW_RATES: z.string().default(''),
  SHADOW_QUEUE: integer(64, 1, 100_000),
  SHADOW_CONCURRENCY: integer(1, 1, 64),
  SHADOW_TIMEOUT_MS: integer(2_000, 10, 600_000),
  SHADOW_NICE: integer(10, 0, 19),
  SHADOW_DIR: z.string().trim().min(1).default('data/shadow'),
  SHADOW_SCHEDULE: z.enum(['on', 'off']).default('off'),
  SHADOW_SCHEDULE_FILE: z.string().trim().min(1).default('configs/shadow-schedule.json'),
  SHADOW_BRIEFS: z.string().trim().min(1).default('examples/heldout-briefs.json'),
  ALERT_WEBHOOK_TOKEN: secretToken,
  FAI_ADMIN_TOKEN: secretToken,
  FAI_OPERATOR_TOKENS_FILE: z.string().trim().min(1).optional(),
  // Up to 100 million: one instance serves several million trivial requests a minute, so a limit meant never to bind (a benchmark's) must be above that.
  RATE_LIMIT_PER_MINUTE: integer(600, 0, 100_000_000),
  TRAINING_MAX_PENDING: integer(4, 1, 1_000),
  REMEDIATION_POLICY: z.string().trim().min(1).default('configs/remediation.yml'),
  FAI_DEPLOYMENT: z.string().trim().min(1).default('configs/deployment.json'),
  HUB_TTL_RECIPE_DAYS: z.coerce.number().positive().max(36_500).default(365),
  HUB_TTL_FEEDBACK_DAYS: z.coerce.number().positive().max(36_500).default(30),
  HUB_TTL_CHECKPOINT_DAYS: z.coerce.number().positive().max(36_500).default(90),
  HUB_TTL_SHADOW_DAYS: z.coerce.number().positive().max(36_500).default(90),
  HUB_MAX_CHECKPOINT_MB: integer(256, 1, 4096),
  HUB_GC_GRACE_SECONDS: integer(600, 0, 86_400),
  HUB_BLOCKSTORE: z.enum(['fs', 's3']).default('fs'),
  HUB_S3_ENDPOINT: optionalUrl(['http:', 'https:']),
  HUB_S3_BUCKET: z
    .string()
    .trim()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name (3-63 lower-case letters, digits, dots and hyphens)')
    .optional(),
  HUB_S3_REGION: z.string().trim().min(1).default('us-east-1'),
  HUB_S3_TIMEOUT_MS: integer(1_800, 100, 60_000),
});

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly logLevel: z.infer<typeof EnvSchema>['LOG_LEVEL'];
  readonly bodyLimitBytes: number;
  /** Longest a client may take to send a whole request (headers and body); a slower one is answered 408 and closed. */
  readonly requestTimeoutMs: number;
  readonly healthTimeoutMs: number;
  readonly redisUrl: string | undefined;
  readonly llmUrls: Readonly<Record<LlmSlot, string | undefined>>;
  /** The configured slots (those with a URL), as the brief layer needs them. */
  readonly llmSlots: ReadonlyArray<{ name: LlmSlot; baseUrl: string; model: string; apiKey: string | undefined }>;
  readonly workerId: string;
  readonly nvidiaSmi: string;
  readonly gpuPollSeconds: number;
  /** Compliance checks fail on unknown materials, unsourced limits and warnings unless a request says otherwise. */
  readonly regulationStrict: boolean;
  /** Blocks under `<hubDir>/blocks`; records under `<hubDir>/meta` unless REDIS_URL is set. */
  readonly hubDir: string;
  readonly hubTtlSeconds: Readonly<Record<'recipe' | 'feedback' | 'checkpoint' | 'shadow', number>>;
  readonly hubMaxCheckpointBytes: number;
  /** gc spares blocks younger than this (a store in flight in another process writes its block before its record). */
  readonly hubGcGraceMs: number;
  /**
   * Where blocks live: `fs` under `<hubDir>/blocks` (the embedded default, one host), or `s3`, one
   * S3-compatible bucket every host shares (path-style addressing whenever an endpoint is given;
   * credentials from the SDK's standard chain: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY). s3 needs REDIS_URL.
   */
  readonly hubBlockstore: { readonly kind: 'fs' } | { readonly kind: 's3'; readonly endpoint: string | undefined; readonly bucket: string; readonly region: string; readonly timeoutMs: number };
  /** Shadow evaluation of POST /v1/formulas (src/shadow, docs/shadow.md). */
  readonly shadow: {
    readonly stage: Stage;
    readonly rates: Readonly<Record<Stage, number>>;
    readonly queueSize: number;
    readonly concurrency: number;
    readonly timeoutMs: number;
    /** Nice value of the shadow threads: they yield the CPU to the request path. */
    readonly nice: number;
    readonly dir: string;
    /** SHADOW_SCHEDULE=on: the service runs the scheduled stages itself. */
    readonly schedule: boolean;
    readonly scheduleFile: string;
    /** The brief set scheduled runs replay. */
    readonly briefsFile: string;
  };
  /** Closed-loop operations (src/remediation, docs/operations.md): off unless the webhook token is set. */
  readonly remediation: {
    /** Bearer token Alertmanager sends to POST /v1/alerts/webhook; undefined: the webhook answers 501. */
    readonly webhookToken: string | undefined;
    readonly policyFile: string;
    /** What the runbooks act on (configs/deployment.json). */
    readonly deploymentFile: string;
  };
  /**
   * Bearer token of the operator routes (every route that changes state: hub writes, gc and pins,
   * training, modes, strict mode, approvals); undefined: those routes answer 401.
   */
  readonly adminToken: string | undefined;
  /** Named operator tokens (FAI_OPERATOR_TOKENS_FILE), beside or instead of FAI_ADMIN_TOKEN. */
  readonly operatorTokensFile: string | undefined;
  /** Requests per minute one client address may make to the public routes; 0: no limit. */
  readonly rateLimitPerMinute: number;
  /** Training jobs queued or running at once; one more is refused (429). */
  readonly trainingMaxPending: number;
  /** Model pins and the production policy's pin (version → CID); re-read on SIGHUP (the pin-update runbook sends it). */
  readonly pinsFile: string;
}

/** Reads the configuration from an environment; throws FAI_ERR_CONFIG naming the variable (`env.PORT`). */
export function loadConfig(env: Readonly<Record<string, string | undefined>> = process.env): Config {
  const parsed = parseOrThrow(EnvSchema, env, 'env', ErrorCodes.CONFIG);
  return {
    port: parsed.PORT,
    host: parsed.HOST,
    logLevel: parsed.LOG_LEVEL,
    bodyLimitBytes: parsed.BODY_LIMIT_BYTES,
    requestTimeoutMs: parsed.REQUEST_TIMEOUT_MS,
    healthTimeoutMs: parsed.HEALTH_TIMEOUT_MS,
    redisUrl: parsed.REDIS_URL,
    llmUrls: { qwen: parsed.LLM_QWEN_URL, mistral: parsed.LLM_MISTRAL_URL, llama: parsed.LLM_LLAMA_URL },
    llmSlots: (
      [
        { name: 'qwen', baseUrl: parsed.LLM_QWEN_URL, model: parsed.LLM_QWEN_MODEL, apiKey: parsed.LLM_QWEN_API_KEY },
        { name: 'mistral', baseUrl: parsed.LLM_MISTRAL_URL, model: parsed.LLM_MISTRAL_MODEL, apiKey: parsed.LLM_MISTRAL_API_KEY },
        { name: 'llama', baseUrl: parsed.LLM_LLAMA_URL, model: parsed.LLM_LLAMA_MODEL, apiKey: parsed.LLM_LLAMA_API_KEY },
      ] as const
    ).flatMap((slot) => (slot.baseUrl === undefined ? [] : [{ ...slot, baseUrl: slot.baseUrl }])),
    workerId: parsed.WORKER_ID,
    nvidiaSmi: parsed.NVIDIA_SMI,
    gpuPollSeconds: parsed.GPU_POLL_SECONDS,
    regulationStrict: parsed.REGULATION_STRICT === 'true' || parsed.REGULATION_STRICT === '1',
    hubDir: parsed.HUB_DIR,
    hubTtlSeconds: {
      recipe: Math.round(parsed.HUB_TTL_RECIPE_DAYS * 86_400),
      feedback: Math.round(parsed.HUB_TTL_FEEDBACK_DAYS * 86_400),
      checkpoint: Math.round(parsed.HUB_TTL_CHECKPOINT_DAYS * 86_400),
      shadow: Math.round(parsed.HUB_TTL_SHADOW_DAYS * 86_400),
    },
    hubMaxCheckpointBytes: parsed.HUB_MAX_CHECKPOINT_MB * 1024 * 1024,
    hubGcGraceMs: parsed.HUB_GC_GRACE_SECONDS * 1000,
    hubBlockstore: blockstoreOf(parsed),
    pinsFile: parsed.PINS_FILE,
    adminToken: parsed.FAI_ADMIN_TOKEN,
    operatorTokensFile: parsed.FAI_OPERATOR_TOKENS_FILE,
    rateLimitPerMinute: parsed.RATE_LIMIT_PER_MINUTE,
    trainingMaxPending: parsed.TRAINING_MAX_PENDING,
    remediation: { webhookToken: parsed.ALERT_WEBHOOK_TOKEN, policyFile: parsed.REMEDIATION_POLICY, deploymentFile: parsed.FAI_DEPLOYMENT },
    shadow: {
      stage: parsed.SHADOW_STAGE,
      rates: parseOrThrow(RatesSchema, parsed.SHADOW_RATES, 'env.SHADOW_RATES', ErrorCodes.CONFIG),
      queueSize: parsed.SHADOW_QUEUE,
      concurrency: parsed.SHADOW_CONCURRENCY,
      timeoutMs: parsed.SHADOW_TIMEOUT_MS,
      nice: parsed.SHADOW_NICE,
      dir: parsed.SHADOW_DIR,
      schedule: parsed.SHADOW_SCHEDULE === 'on',
      scheduleFile: parsed.SHADOW_SCHEDULE_FILE,
      briefsFile: parsed.SHADOW_BRIEFS,
    },
  };
}

/** HUB_BLOCKSTORE and its settings; s3 without a bucket, or without Redis for the records, is refused naming both settings. */
function blockstoreOf(parsed: z.infer<typeof EnvSchema>): Config['hubBlockstore'] {
  if (parsed.HUB_BLOCKSTORE === 'fs') return { kind: 'fs' };
  if (parsed.HUB_S3_BUCKET === undefined) throw new FaiError(ErrorCodes.CONFIG, 'env.HUB_S3_BUCKET: required with HUB_BLOCKSTORE=s3 (the bucket every host shares)', { field: 'env.HUB_S3_BUCKET' });
  if (parsed.REDIS_URL === undefined) {
    throw new FaiError(ErrorCodes.CONFIG, 'env.REDIS_URL: required with HUB_BLOCKSTORE=s3 — the blocks are shared, so their records must be too (set REDIS_URL, or HUB_BLOCKSTORE=fs for one host)', { field: 'env.REDIS_URL' });
  }
  return { kind: 's3', endpoint: parsed.HUB_S3_ENDPOINT, bucket: parsed.HUB_S3_BUCKET, region: parsed.HUB_S3_REGION, timeoutMs: parsed.HUB_S3_TIMEOUT_MS };
}

export { readJsonFile } from './json-file.ts';
export { DEFAULT_RATES, RatesSchema, STAGES, type Stage } from './shadow-stages.ts';
export { operatorHeaders, OperatorTokens } from './operator-token.ts';
