import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { WebhookPayloadSchema, type Remediation } from '../../remediation/index.ts';
import { errorResponses, OPERATOR_SECURITY, WEBHOOK_SECURITY, type ZodRequests } from '../openapi.ts';

const IdParams = z.object({ id: z.string().regex(/^[a-z0-9]+-[0-9a-f]{6}$/, 'must be an action id as fai remediation ls shows it') });
/** The body is optional: a POST with none approves without a note. */
const ApproveBody = z.object({ note: z.string().trim().min(1).max(200).optional() }).strict().nullable();
const DecisionsSchema = z.object({
  decisions: z.array(z.object({ alert: z.string(), status: z.string(), runbook: z.string().optional(), action: z.string().optional(), decision: z.string(), reason: z.string() })),
});
const ActionSchema = z.looseObject({ id: z.string(), runbook: z.string(), status: z.string() });

/**
 * Alertmanager's webhook: registered in the scope of ALERT_WEBHOOK_TOKEN (its own credential, which
 * approves nothing).
 */
export function registerWebhookRoute(app: FastifyInstance, remediation: () => Promise<Remediation>): void {
  const api = app.withTypeProvider<ZodRequests>();
  const config = { component: 'ops' };
  const schema = {
    summary: "Alertmanager's webhook: each alert's remediation decision",
    tags: ['remediation'],
    security: WEBHOOK_SECURITY,
    body: WebhookPayloadSchema,
    response: { 200: DecisionsSchema, ...errorResponses(401, 413, 415, 503) },
  };
  api.post('/v1/alerts/webhook', { config, bodyLimit: 1024 * 1024, schema }, async (request) => {
    const { remediator } = await remediation();
    return { decisions: await remediator.receive(request.body) };
  });
}

/**
 * The approval of a destructive action: an operator route (FAI_ADMIN_TOKEN). The approver recorded
 * is the authenticated principal; a name in the body is an optional note, never the approver.
 */
export function registerApprovalRoute(app: FastifyInstance, remediation: () => Promise<Remediation>): void {
  const api = app.withTypeProvider<ZodRequests>();
  const config = { component: 'ops' };
  const schema = {
    summary: 'Approve a destructive remediation action awaiting approval (the approver is the authenticated operator)',
    tags: ['remediation'],
    security: OPERATOR_SECURITY,
    params: IdParams,
    body: ApproveBody,
    response: { 200: ActionSchema, ...errorResponses(401, 404, 409, 413, 415, 502, 503) },
  };
  api.post('/v1/remediation/actions/:id/approve', { config, bodyLimit: 4 * 1024, schema }, async (request) => {
    const { id } = request.params;
    const note = request.body?.note;
    const { remediator } = await remediation();
    return remediator.approve(id, request.principal, note);
  });
}
