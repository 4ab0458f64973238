import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { LLM_SLOTS, type Config } from '../../config/index.ts';
import { ErrorCodes, FaiError, parseOrThrow } from '../../errors/index.ts';
import { POLICY_PIN, POLICY_PINS, pinVersion, type BriefService, type Pins, type PolicyPinName } from '../../llm/index.ts';
import type { PolicyStatus } from '../../learning/index.ts';
import { runHealthChecks, type HealthCheck, type ThresholdEvaluator } from '../../ops/index.ts';
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

export function registerHealthRoutes(app: FastifyInstance, deps: HealthRouteDeps): void {
  app.get('/health', { config: { component: 'health' } }, async (request, reply) => {
    parseOrThrow(NoQuery, request.query, 'query');
    const report = await runHealthChecks(deps.checks, deps.config.healthTimeoutMs);
    return reply.status(report.status === 'unhealthy' ? 503 : 200).send(report);
  });

  app.get('/health/thresholds', { config: { component: 'health' } }, async (request) => {
    parseOrThrow(NoQuery, request.query, 'query');
    return deps.thresholds.evaluate();
  });

  app.get('/health/policy', { config: { component: 'health' } }, async (request, reply) => {
    const { pin } = parseOrThrow(PolicyQuery, request.query, 'query');
    const status = await deps.policy(pin);
    return reply.status(status.status === 'unavailable' ? 503 : 200).send(status);
  });

  app.get('/health/llm', { config: { component: 'health' } }, async (request) => {
    const { model } = parseOrThrow(LlmQuery, request.query, 'query');
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
