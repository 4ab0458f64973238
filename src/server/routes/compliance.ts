import type { FastifyInstance } from 'fastify';
import { parseCheckRequest, type ComplianceChecker } from '../../regulation/index.ts';

/** Formulas are small; a body this large is not a formula. */
const COMPLIANCE_BODY_LIMIT_BYTES = 256 * 1024;

export function registerComplianceRoutes(app: FastifyInstance, checker: ComplianceChecker): void {
  const config = { component: 'regulation' };
  app.post('/v1/compliance/check', { config, bodyLimit: COMPLIANCE_BODY_LIMIT_BYTES }, async (request) => {
    return checker.check(parseCheckRequest(request.body, 'body'));
  });

  /** The regulation-strict runbook forces strict mode on (PUT) and lifts it (DELETE); GET shows it. */
  app.get('/v1/compliance/strict', { config }, async () => checker.mode());
  app.put('/v1/compliance/strict', { config }, async (request) => {
    checker.forceStrict(true, request.headers['x-fai-actor']?.toString().slice(0, 200) ?? 'unknown');
    return checker.mode();
  });
  app.delete('/v1/compliance/strict', { config }, async () => {
    checker.forceStrict(false, '');
    return checker.mode();
  });
}
