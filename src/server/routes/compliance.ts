import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { parseOrThrow } from '../../errors/index.ts';
import { certificateHtml, parseCertificateRequest, parseCheckRequest, type ComplianceChecker } from '../../regulation/index.ts';

const CertificateQuery = z.object({ format: z.enum(['json', 'html'], { error: 'must be json or html' }).optional() }).strict();

/** Formulas are small; a body this large is not a formula. */
const COMPLIANCE_BODY_LIMIT_BYTES = 256 * 1024;

export function registerComplianceRoutes(app: FastifyInstance, checker: ComplianceChecker): void {
  const config = { component: 'regulation' };
  app.post('/v1/compliance/check', { config, bodyLimit: COMPLIANCE_BODY_LIMIT_BYTES }, async (request) => {
    return checker.check(parseCheckRequest(request.body, 'body'));
  });

  /**
   * The IFRA Certificate of Conformity of a concentrate (the check's formula input; category and
   * dosage not needed). JSON, or the printable page with `?format=html`.
   */
  app.post('/v1/compliance/certificate', { config, bodyLimit: COMPLIANCE_BODY_LIMIT_BYTES }, async (request, reply) => {
    const query = parseOrThrow(CertificateQuery, request.query ?? {}, 'query');
    const certificate = checker.certificate(parseCertificateRequest(request.body, 'body'));
    if (query.format === 'html') return reply.type('text/html; charset=utf-8').send(certificateHtml(certificate, checker.sourceTitles()));
    return certificate;
  });

  /** GET shows the strict mode; the regulation-strict runbook changes it through the operator routes. */
  app.get('/v1/compliance/strict', { config }, async () => checker.mode());
}

/** The regulation-strict runbook forces strict mode on (PUT) and lifts it (DELETE): operator routes, recorded with their principal. */
export function registerComplianceOperatorRoutes(app: FastifyInstance, checker: ComplianceChecker): void {
  const config = { component: 'regulation' };
  app.put('/v1/compliance/strict', { config }, async (request) => {
    checker.forceStrict(true, request.principal);
    return checker.mode();
  });
  app.delete('/v1/compliance/strict', { config }, async () => {
    checker.forceStrict(false, '');
    return checker.mode();
  });
}
