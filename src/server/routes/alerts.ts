import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { parseOrThrow } from '../../errors/index.ts';
import { WebhookPayloadSchema, type Remediation } from '../../remediation/index.ts';

const IdParams = z.object({ id: z.string().regex(/^[a-z0-9]+-[0-9a-f]{6}$/, 'must be an action id as fai remediation ls shows it') });
const ApproveBody = z.object({ note: z.string().trim().min(1).max(200).optional() }).strict();

/**
 * Alertmanager's webhook: registered in the scope of ALERT_WEBHOOK_TOKEN (its own credential, which
 * approves nothing).
 */
export function registerWebhookRoute(app: FastifyInstance, remediation: () => Promise<Remediation>): void {
  const config = { component: 'ops' };
  app.post('/v1/alerts/webhook', { config, bodyLimit: 1024 * 1024 }, async (request) => {
    const payload = parseOrThrow(WebhookPayloadSchema, request.body, 'body');
    const { remediator } = await remediation();
    return { decisions: await remediator.receive(payload) };
  });
}

/**
 * The approval of a destructive action: an operator route (FAI_ADMIN_TOKEN). The approver recorded
 * is the authenticated principal; a name in the body is an optional note, never the approver.
 */
export function registerApprovalRoute(app: FastifyInstance, remediation: () => Promise<Remediation>): void {
  const config = { component: 'ops' };
  app.post('/v1/remediation/actions/:id/approve', { config, bodyLimit: 4 * 1024 }, async (request) => {
    const { id } = parseOrThrow(IdParams, request.params, 'params');
    const { note } = parseOrThrow(ApproveBody, request.body ?? {}, 'body');
    const { remediator } = await remediation();
    return remediator.approve(id, note === undefined ? request.principal : `${request.principal} (${note})`);
  });
}
