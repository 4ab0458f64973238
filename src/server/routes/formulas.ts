import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { FormulaService } from '../../learning/index.ts';
import { CreativeBriefSchema, LLM_SLOT_NAMES, MODES, type BriefService } from '../../llm/index.ts';
import { errorResponses, type ZodRequests } from '../openapi.ts';
import { ComplianceResultSchema } from './compliance.ts';

/** The concentrate's share of the finished product, when the caller sets it (else the product's usual dosage). */
const DosagePct = z
  .number({ error: 'must be a number: the concentrate\'s % of the finished product' })
  .refine(Number.isFinite, 'must be a finite number')
  .refine((v) => v > 0, 'must be above 0')
  .refine((v) => v <= 100, 'must be at most 100')
  .optional();

/** Either a structured brief or the customer's words (which go through the brief layer first). */
const FormulaRequest = z.union(
  [
    z.object({ brief: CreativeBriefSchema, dosagePct: DosagePct }).strict(),
    z
      .object({
        text: z.string({ error: 'must be a string' }).trim().min(1, 'is empty: describe the scent you want').max(4000, 'is longer than 4000 characters'),
        mode: z.enum(MODES, { error: `must be one of ${MODES.join(', ')}` }).optional(),
        dosagePct: DosagePct,
      })
      .strict(),
  ],
  { error: 'must be {"brief": {...}} or {"text": "..."}' },
);

/** The formula sheet: lines, the compliance result, the IFRA maximum dosage, the reward and the policy that wrote it. */
const ServedFormulaSchema = z.looseObject({
  brief: CreativeBriefSchema,
  briefModel: z.enum([...LLM_SLOT_NAMES, 'local']).optional(),
  formula: z.array(z.looseObject({ material: z.string(), concentrationPct: z.number() })),
  sheet: z.looseObject({}),
  compliance: ComplianceResultSchema,
  ifraMaxDosage: z.object({
    category: z.string(),
    amendment: z.number().int(),
    dosagePct: z.number(),
    maxDosagePct: z.number().nullable(),
    limitedBy: z.array(z.string()),
    reason: z.string().nullable(),
  }),
  reward: z.looseObject({}),
  character: z.object({
    onCharacterPct: z.number(),
    offCharacterOverLimit: z.array(z.string()),
    notes: z.array(z.object({ note: z.string(), present: z.boolean(), accord: z.string().nullable() })),
    fidelity: z.number(),
    hasCharacter: z.boolean(),
    policySharePct: z.number(),
  }),
  elapsedMs: z.number(),
  policy: z.looseObject({ version: z.string(), cid: z.string() }),
  recipeCid: z.string(),
});

export function registerFormulaRoutes(app: FastifyInstance, deps: { formulas: FormulaService; briefs: BriefService }): void {
  const api = app.withTypeProvider<ZodRequests>();
  const schema = {
    summary: "A formula from a brief or from the customer's words, with its compliance result (the production policy)",
    tags: ['formulas'],
    body: FormulaRequest,
    response: { 200: ServedFormulaSchema, ...errorResponses(413, 415, 503, 504) },
  };
  api.post('/v1/formulas', { config: { component: 'learning' }, bodyLimit: 64 * 1024, schema }, async (request) => {
    const body = request.body;
    // The request id (x-request-id when the client sends one) decides shadow sampling: a retry stays in or out.
    const options = body.dosagePct === undefined ? {} : { dosagePct: body.dosagePct };
    if ('brief' in body) return { brief: body.brief, ...(await deps.formulas.compose(body.brief, request.id, options)) };
    const generated = await deps.briefs.generate(body.text, body.mode);
    return { brief: generated.brief, briefModel: generated.model, ...(await deps.formulas.compose(generated.brief, request.id, options)) };
  });
}
