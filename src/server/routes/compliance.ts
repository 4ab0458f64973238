import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { certificateHtml, certificateRequestOf, CertificateRequestSchema, checkRequestOf, CheckRequestSchema, type ComplianceChecker } from '../../regulation/index.ts';
import { errorResponses, OPERATOR_SECURITY, type ZodRequests } from '../openapi.ts';

const CertificateQuery = z.object({ format: z.enum(['json', 'html'], { error: 'must be json or html' }).optional() }).strict();

/** Formulas are small; a body this large is not a formula. */
const COMPLIANCE_BODY_LIMIT_BYTES = 256 * 1024;

const VerdictSchema = z.enum(['pass', 'warning', 'unknown', 'fail']);
/** A formula line, counted from 0 as the request lists them. */
const Line = z.number().int().min(0);
const Ids = z.array(z.string());

const AllergenSchema = z.looseObject({
  id: z.string(),
  labelName: z.string(),
  entry: z.string().nullable(),
  lines: z.array(Line),
  totalPct: z.number(),
  thresholdPct: z.number().nullable(),
  status: z.enum(['declare', 'below_threshold', 'threshold_not_sourced', 'prohibited', 'not_applicable']),
  /** What natural lines carry of it (part of totalPct), and how it was read. */
  contributions: z.array(z.object({ line: Line, material: z.string(), pct: z.number(), basis: z.string() })),
  /** The EU Annex III maximum in this category, judged on totalPct; null where none applies. */
  euMaximum: z.object({ products: z.string(), limitPct: z.number(), verdict: VerdictSchema, excessPct: z.number() }).nullable(),
  notes: z.array(z.string()),
  sourceIds: Ids,
});

/** POST /v1/compliance/check: the verdict, per check type and per material, with what the label must declare. */
export const ComplianceResultSchema = z.looseObject({
  verdict: VerdictSchema,
  strict: z.boolean(),
  category: z.string(),
  dosagePct: z.number(),
  /** From the category (category-exposure.csv) unless the request overrides it; `not_cosmetic`: EU cosmetic labelling does not apply. */
  exposure: z.enum(['leave_on', 'rinse_off', 'not_cosmetic']),
  checks: z.object({ ingredient: VerdictSchema, concentration: VerdictSchema, combination: VerdictSchema }),
  materials: z.array(z.looseObject({ line: Line, input: z.string(), known: z.boolean() })),
  prohibited: z.array(z.object({ line: Line, material: z.string(), reason: z.string(), sourceIds: Ids })),
  combinations: z.array(z.looseObject({})),
  /** IFRA-restricted substances natural lines carry: the total from every line, against the Standard's limit. */
  constituents: z.array(
    z.object({
      standardId: z.string(),
      standard: z.string(),
      totalPct: z.number(),
      limitPct: z.number().nullable(),
      verdict: VerdictSchema,
      sources: z.array(z.object({ line: Line, material: z.string(), pct: z.number(), basis: z.string().nullable() })),
      summary: z.string(),
    }),
  ),
  specifications: z.array(z.looseObject({ line: Line })),
  allergens: z.object({
    declare: z.array(AllergenSchema),
    found: z.array(AllergenSchema),
    notAssessed: z.array(z.object({ line: Line, material: z.string() })),
  }),
  unknownMaterials: z.array(z.object({ line: Line, input: z.string() })),
  gaps: z.array(z.string()),
});

/** POST /v1/compliance/certificate: the IFRA Certificate of Conformity, every category's maximum. */
export const CertificateSchema = z.looseObject({
  amendment: z.number().int(),
  name: z.string().nullable(),
  date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  formula: z.array(z.object({ line: Line, material: z.string(), name: z.string().nullable(), cas: z.string().nullable(), concentrationPct: z.number() })),
  categories: z.array(z.looseObject({ category: z.string() })),
  specifications: z.array(z.object({ line: Line, standard: z.string(), note: z.string() })),
  euProhibited: z.array(z.object({ line: Line, material: z.string(), entry: z.string().nullable() })),
  gaps: z.array(z.string()),
  sourceIds: Ids,
});

const StrictModeSchema = z.object({ strictByDefault: z.boolean(), forced: z.boolean(), since: z.string().nullable(), by: z.string().nullable() });

export function registerComplianceRoutes(app: FastifyInstance, checker: ComplianceChecker): void {
  const api = app.withTypeProvider<ZodRequests>();
  const config = { component: 'regulation' };
  const tags = ['compliance'];
  api.post(
    '/v1/compliance/check',
    {
      config,
      bodyLimit: COMPLIANCE_BODY_LIMIT_BYTES,
      schema: { summary: 'Check a formula against IFRA Standards and EU allergen rules', tags, body: CheckRequestSchema, response: { 200: ComplianceResultSchema, ...errorResponses(413, 415) } },
    },
    async (request) => checker.check(checkRequestOf(request.body, 'body')),
  );

  /**
   * The IFRA Certificate of Conformity of a concentrate (the check's formula input; category and
   * dosage not needed). JSON, or the printable page with `?format=html`.
   */
  api.post(
    '/v1/compliance/certificate',
    {
      config,
      bodyLimit: COMPLIANCE_BODY_LIMIT_BYTES,
      schema: {
        summary: 'The IFRA Certificate of Conformity of a concentrate (JSON, or HTML with ?format=html)',
        tags,
        querystring: CertificateQuery,
        body: CertificateRequestSchema,
        response: { 200: { description: 'The certificate', content: { 'application/json': { schema: CertificateSchema }, 'text/html': { schema: z.string() } } }, ...errorResponses(413, 415) },
      },
    },
    async (request, reply) => {
      const certificate = checker.certificate(certificateRequestOf(request.body, 'body'));
      if (request.query.format === 'html') return reply.type('text/html; charset=utf-8').send(certificateHtml(certificate, checker.sourceTitles()));
      return certificate;
    },
  );

  /** GET shows the strict mode; the regulation-strict runbook changes it through the operator routes. */
  api.get('/v1/compliance/strict', { config, schema: { summary: 'Whether strict regulation mode is forced', tags, response: { 200: StrictModeSchema, ...errorResponses() } } }, async () => checker.mode());
}

/** The regulation-strict runbook forces strict mode on (PUT) and lifts it (DELETE): operator routes, recorded with their principal. */
export function registerComplianceOperatorRoutes(app: FastifyInstance, checker: ComplianceChecker): void {
  const config = { component: 'regulation' };
  const schema = (summary: string) => ({ summary, tags: ['compliance'], security: OPERATOR_SECURITY, response: { 200: StrictModeSchema, ...errorResponses(401) } });
  app.put('/v1/compliance/strict', { config, schema: schema('Force strict regulation mode on (the regulation-strict runbook)') }, async (request) => {
    await checker.setStrict(true, request.actor);
    return checker.mode();
  });
  app.delete('/v1/compliance/strict', { config, schema: schema('Lift forced strict mode') }, async (request) => {
    await checker.setStrict(false, request.actor);
    request.log.info({ actor: request.actor, principal: request.principal }, 'strict mode lifted');
    return checker.mode();
  });
}
