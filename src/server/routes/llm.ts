import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ErrorCodes, FaiError, parseOrThrow } from '../../errors/index.ts';
import { MODES, type BriefService } from '../../llm/index.ts';

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

export function registerLlmRoutes(app: FastifyInstance, briefs: BriefService): void {
  const config = { component: 'llm' };

  app.post('/v1/briefs', { config, bodyLimit: 64 * 1024 }, async (request) => {
    const { text, mode } = parseOrThrow(BriefRequest, request.body, 'body');
    return briefs.generate(text, mode);
  });

  app.get('/v1/llm/downshift', { config }, async () => ({ modes: briefs.downshift.status() }));
}

/** The downshift runbook forces a mode down (PUT) and clears it (DELETE): operator routes. */
export function registerLlmOperatorRoutes(app: FastifyInstance, briefs: BriefService): void {
  const config = { component: 'llm' };
  app.put('/v1/llm/downshift/:mode', { config }, async (request) => {
    const { mode } = parseOrThrow(ModeParams, request.params, 'params');
    try {
      briefs.downshift.force(mode);
    } catch (error) {
      throw new FaiError(ErrorCodes.VALIDATION, `params.mode: ${(error as Error).message}`, { field: 'params.mode' });
    }
    return { modes: briefs.downshift.status() };
  });

  app.delete('/v1/llm/downshift/:mode', { config }, async (request) => {
    const { mode } = parseOrThrow(ModeParams, request.params, 'params');
    briefs.downshift.clear(mode);
    return { modes: briefs.downshift.status() };
  });
}
