import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { parseOrThrow } from '../../errors/index.ts';
import type { FormulaService } from '../../learning/index.ts';
import { CreativeBriefSchema, MODES, type BriefService } from '../../llm/index.ts';

/** Either a structured brief or the customer's words (which go through the brief layer first). */
const FormulaRequest = z.union(
  [
    z.object({ brief: CreativeBriefSchema }).strict(),
    z
      .object({
        text: z.string({ error: 'must be a string' }).trim().min(1, 'is empty: describe the scent you want').max(4000, 'is longer than 4000 characters'),
        mode: z.enum(MODES, { error: `must be one of ${MODES.join(', ')}` }).optional(),
      })
      .strict(),
  ],
  { error: 'must be {"brief": {...}} or {"text": "..."}' },
);

export function registerFormulaRoutes(app: FastifyInstance, deps: { formulas: FormulaService; briefs: BriefService }): void {
  app.post('/v1/formulas', { config: { component: 'learning' }, bodyLimit: 64 * 1024 }, async (request) => {
    const body = parseOrThrow(FormulaRequest, request.body, 'body');
    // The request id (x-request-id when the client sends one) decides shadow sampling: a retry stays in or out.
    if ('brief' in body) return { brief: body.brief, ...(await deps.formulas.compose(body.brief, request.id)) };
    const generated = await deps.briefs.generate(body.text, body.mode);
    return { brief: generated.brief, briefModel: generated.model, ...(await deps.formulas.compose(generated.brief, request.id)) };
  });
}
