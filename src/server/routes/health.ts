import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { LLM_SLOTS, type Config } from '../../config/index.ts';
import { ErrorCodes, FaiError, parseOrThrow } from '../../errors/index.ts';
import { runHealthChecks, type HealthCheck, type ThresholdEvaluator } from '../../ops/index.ts';
import { NoQuery } from './query.ts';

const LlmQuery = z.object({ model: z.string({ error: 'is required (qwen, mistral or llama)' }).min(1, 'is required (qwen, mistral or llama)') }).strict();

export interface HealthRouteDeps {
  config: Config;
  checks: readonly HealthCheck[];
  thresholds: ThresholdEvaluator;
  /** The model pins in force (configs/model_pins.json, reloaded on SIGHUP). */
  pins: () => Readonly<Record<string, string>>;
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

  app.get('/health/llm', { config: { component: 'health' } }, async (request) => {
    const { model } = parseOrThrow(LlmQuery, request.query, 'query');
    if (!(LLM_SLOTS as readonly string[]).includes(model)) {
      throw new FaiError(ErrorCodes.NOT_FOUND, `query.model: unknown model "${model}" (known: ${LLM_SLOTS.join(', ')})`, {
        field: 'query.model',
      });
    }
    const url = deps.config.llmUrls[model as (typeof LLM_SLOTS)[number]];
    const pinnedVersion = deps.pins()[model] ?? null;
    // The brief-generation capability will probe the backend (GET /v1/models); until then we say what we know and no more.
    return url === undefined
      ? { model, status: 'not_configured', backend: null, pinnedVersion, detail: `set LLM_${model.toUpperCase()}_URL to an OpenAI-compatible endpoint` }
      : { model, status: 'unknown', backend: url, pinnedVersion, detail: 'configured; backend probing arrives with the brief-generation capability' };
  });
}
