import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ErrorCodes, FaiError } from '../../errors/index.ts';
import { CreativeBriefSchema, LLM_SLOT_NAMES, MODES, type BriefService } from '../../llm/index.ts';
import { errorResponses, OPERATOR_SECURITY, type ZodRequests } from '../openapi.ts';
import { DownshiftStatusSchema } from './health.ts';

const BriefRequest = z
  .object({
    text: z
      .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') })
      .trim()
      .min(1, 'is empty: describe the scent you want')
      .max(4000, 'is longer than 4000 characters'),
    mode: z.enum(MODES, { error: `must be one of ${MODES.join(', ')}` }).optional(),
  })
  .strict();
const ModeParams = z.object({ mode: z.enum(MODES, { error: `must be one of ${MODES.join(', ')}` }) });
/** A forced downshift's time to live: it lapses then unless forced again (the alert's runbook renews it). */
const ForceQuery = z
  .object({
    ttlSeconds: z.coerce
      .number({ error: 'must be a number of seconds' })
      .int('must be a whole number of seconds')
      .positive('must be positive')
      .max(7 * 86_400, 'is more than 7 days')
      .optional(),
  })
  .strict();

export const BriefResultSchema = z.object({
  brief: CreativeBriefSchema,
  mode: z.enum(MODES),
  model: z.enum([...LLM_SLOT_NAMES, 'local']),
  elapsedMs: z.number(),
  downshiftedFrom: z.enum(MODES).optional(),
  fallbacks: z.array(z.object({ model: z.string(), reason: z.string() })),
  /** The local model's answer trimmed to the schema's bounds, and what it trimmed. */
  trimmed: z.array(z.string()).optional(),
});
const DownshiftSchema = z.object({ modes: DownshiftStatusSchema });

export function registerLlmRoutes(app: FastifyInstance, briefs: BriefService): void {
  const api = app.withTypeProvider<ZodRequests>();
  const config = { component: 'llm' };
  const tags = ['briefs'];

  const briefSchema = { summary: "A creative brief from the customer's words (the mode's LLM slots, or the local model)", tags, body: BriefRequest, response: { 200: BriefResultSchema, ...errorResponses(413, 415, 503, 504) } };
  api.post('/v1/briefs', { config, bodyLimit: 64 * 1024, schema: briefSchema }, async (request) => briefs.generate(request.body.text, request.body.mode));

  api.get('/v1/llm/downshift', { config, schema: { summary: 'Which modes are downshifted, and the latency that decided it', tags, response: { 200: DownshiftSchema, ...errorResponses() } } }, async () => ({
    modes: briefs.downshift.status(),
  }));
}

/** The downshift runbook forces a mode down (PUT) and clears it (DELETE): operator routes. */
export function registerLlmOperatorRoutes(app: FastifyInstance, briefs: BriefService): void {
  const api = app.withTypeProvider<ZodRequests>();
  const config = { component: 'llm' };
  const schema = (summary: string) => ({ summary, tags: ['briefs'], security: OPERATOR_SECURITY, params: ModeParams, response: { 200: DownshiftSchema, ...errorResponses(401) } });
  const forceSchema = { ...schema('Force a mode down to its cheaper mode (the downshift runbook); with ttlSeconds it lapses then unless forced again'), querystring: ForceQuery };
  api.put('/v1/llm/downshift/:mode', { config, schema: forceSchema }, async (request) => {
    const { mode } = request.params;
    const { ttlSeconds } = request.query;
    try {
      // Every instance's when Redis shares the state (a Redis that is down: 503, nothing changed).
      await briefs.downshift.forceShared(mode, request.actor, ttlSeconds === undefined ? undefined : ttlSeconds * 1000);
      request.log.info({ actor: request.actor, principal: request.principal, mode, ttlSeconds: ttlSeconds ?? null }, 'downshift forced');
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      throw new FaiError(ErrorCodes.VALIDATION, `params.mode: ${error.message}`, { field: 'params.mode' });
    }
    return { modes: briefs.downshift.status() };
  });

  api.delete('/v1/llm/downshift/:mode', { config, schema: schema('Clear a forced or automatic downshift') }, async (request) => {
    const { mode } = request.params;
    await briefs.downshift.clearShared(mode);
    request.log.info({ actor: request.actor, principal: request.principal, mode }, 'downshift cleared');
    return { modes: briefs.downshift.status() };
  });
}
