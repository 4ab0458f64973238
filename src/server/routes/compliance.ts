import type { FastifyInstance } from 'fastify';
import { parseCheckRequest, type ComplianceChecker } from '../../regulation/index.ts';

/** Formulas are small; a body this large is not a formula. */
const COMPLIANCE_BODY_LIMIT_BYTES = 256 * 1024;

export function registerComplianceRoutes(app: FastifyInstance, checker: ComplianceChecker): void {
  app.post('/v1/compliance/check', { config: { component: 'regulation' }, bodyLimit: COMPLIANCE_BODY_LIMIT_BYTES }, async (request) => {
    return checker.check(parseCheckRequest(request.body, 'body'));
  });
}
