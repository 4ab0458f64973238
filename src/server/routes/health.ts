import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { LLM_SLOTS, type Config } from '../../config/index.ts';
import { ErrorCodes, FaiError } from '../../errors/index.ts';
import { MODES, POLICY_PIN, POLICY_PINS, pinVersion, type BriefService, type Pins, type PolicyPinName } from '../../llm/index.ts';
import type { PolicyStatus } from '../../learning/index.ts';
import { redactInternals } from '../redact.ts';
import { runHealthChecks, type HealthCheck, type ThresholdEvaluator } from '../../ops/index.ts';
import { errorResponses, type ZodRequests } from '../openapi.ts';
import { NoQuery } from './query.ts';

const LlmQuery = z.object({ model: z.string({ error: 'is required (qwen, mistral or llama)' }).min(1, 'is required (qwen, mistral or llama)') }).strict();

const PolicyQuery = z.object({ pin: z.enum(POLICY_PINS, { error: `must be one of ${POLICY_PINS.join(', ')}` }).default(POLICY_PIN) }).strict();

export interface HealthRouteDeps {
  config: Config;
  checks: readonly HealthCheck[];
  thresholds: ThresholdEvaluator;
  /** The model pins in force (configs/model_pins.json, reloaded on SIGHUP). */
  pins: () => Readonly<Pins>;
  briefs: BriefService;
  /** A formulation policy (production by default): its pin and whether its checkpoint loads. */
  policy: (name: PolicyPinName) => Promise<PolicyStatus>;
}

const ComponentStatus = z.enum(['up', 'down', 'degraded', 'not_configured']);
const HealthReportSchema = z.object({
  status: z.enum(['healthy', 'degraded', 'unhealthy']),
  services: z.record(z.string(), z.object({ status: ComponentStatus, required: z.boolean(), latencyMs: z.number().optional(), detail: z.string().optional() })),
  timestamp: z.string(),
});
const ThresholdStatus = z.enum(['NO_DATA', 'OK', 'WARNING', 'CRITICAL']);
const ThresholdReportSchema = z.object({ status: ThresholdStatus, rows: z.array(z.looseObject({ status: ThresholdStatus })), timestamp: z.string() });
const PolicyStatusSchema = z.looseObject({
  pin: z.enum(POLICY_PINS),
  status: z.enum(['loaded', 'not_pinned', 'unavailable']),
  version: z.string().nullable(),
  cid: z.string().nullable(),
  detail: z.string().optional(),
});
export const DownshiftStatusSchema = z.array(
  z.object({
    mode: z.enum(MODES),
    active: z.boolean(),
    forced: z.boolean(),
    forcedBy: z.string().nullable(),
    /** When a forced downshift lapses unless forced again; null: it holds until cleared. */
    expiresAt: z.string().nullable(),
    to: z.enum(MODES).nullable(),
    p95Ms: z.number().nullable(),
    samples: z.number().int(),
  }),
);
const LlmHealthSchema = z.looseObject({
  model: z.enum(LLM_SLOTS),
  status: z.string(),
  backend: z.string().nullable(),
  pinnedVersion: z.string().nullable(),
  downshift: DownshiftStatusSchema,
  detail: z.string(),
});

export function registerHealthRoutes(app: FastifyInstance, deps: HealthRouteDeps): void {
  const api = app.withTypeProvider<ZodRequests>();
  const config = { component: 'health' };
  const tags = ['operations'];
  const healthSchema = {
    summary: 'Component health: metrics, Redis, hub, LLM slots (503 when a required one is down)',
    tags,
    querystring: NoQuery,
    response: { 200: HealthReportSchema, 503: HealthReportSchema.describe('A required component is down'), ...errorResponses() },
  };
  api.get('/health', { config, schema: healthSchema }, async (_request, reply) => {
    const report = await runHealthChecks(deps.checks, deps.config.healthTimeoutMs);
    // Public: no address or path of ours in a detail (a check's error may carry one).
    const services = Object.fromEntries(Object.entries(report.services).map(([name, health]) => [name, health.detail === undefined ? health : { ...health, detail: redactInternals(health.detail) }]));
    return reply.status(report.status === 'unhealthy' ? 503 : 200).send({ ...report, services });
  });

  const thresholdsSchema = { summary: "The thresholds table's verdicts on the live metrics", tags, querystring: NoQuery, response: { 200: ThresholdReportSchema, ...errorResponses() } };
  api.get('/health/thresholds', { config, schema: thresholdsSchema }, async () => deps.thresholds.evaluate());

  const policySchema = {
    summary: 'A formulation policy pin and whether its checkpoint loads (503 when it does not)',
    tags,
    querystring: PolicyQuery,
    response: { 200: PolicyStatusSchema, 503: PolicyStatusSchema.describe('The pinned checkpoint does not load'), ...errorResponses() },
  };
  api.get('/health/policy', { config, schema: policySchema }, async (request, reply) => {
    const { pin } = request.query;
    const status = await deps.policy(pin);
    return reply.status(status.status === 'unavailable' ? 503 : 200).send(status);
  });

  const llmSchema = { summary: 'One LLM slot: its endpoint, breaker, pinned version and the downshift state', tags, querystring: LlmQuery, response: { 200: LlmHealthSchema, ...errorResponses(404) } };
  api.get('/health/llm', { config, schema: llmSchema }, async (request) => {
    const { model } = request.query;
    if (!(LLM_SLOTS as readonly string[]).includes(model)) {
      throw new FaiError(ErrorCodes.NOT_FOUND, `query.model: unknown model "${model}" (known: ${LLM_SLOTS.join(', ')})`, {
        field: 'query.model',
      });
    }
    const slot = deps.briefs.slots.get(model as (typeof LLM_SLOTS)[number]);
    const pinnedVersion = pinVersion(deps.pins()[model]) ?? null;
    const downshift = deps.briefs.downshift.status();
    if (slot === undefined) {
      return { model, status: 'not_configured', backend: null, pinnedVersion, downshift, detail: `set LLM_${model.toUpperCase()}_URL to an OpenAI-compatible endpoint; the local model answers meanwhile` };
    }
    // GET /v1/models on the slot's endpoint, as vLLM, Ollama and llama.cpp's server answer it.
    const probe = await slot.probe();
    return { model, status: probe.status, backend: slot.publicUrl, servedModel: slot.config.model, latencyMs: probe.latencyMs, breaker: slot.breaker.state, pinnedVersion, downshift, detail: probe.detail };
  });
}
