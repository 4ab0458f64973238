import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ErrorCodes, FaiError, parseOrThrow } from '../../errors/index.ts';
import { checkBearer, WebhookPayloadSchema, type Remediation } from '../../remediation/index.ts';

const IdParams = z.object({ id: z.string().regex(/^[a-z0-9]+-[0-9a-f]{6}$/, 'must be an action id as fai remediation ls shows it') });
const ApproveBody = z.object({ by: z.string().trim().min(1).max(200) }).strict();

/**
 * The closed loop's HTTP side: Alertmanager's webhook (bearer token), and the approval of a
 * destructive action (same token). Both answer 501 until ALERT_WEBHOOK_TOKEN is set.
 */
export function registerAlertRoutes(app: FastifyInstance, options: { token: string | undefined; remediation: () => Promise<Remediation> }): void {
  const config = { component: 'ops' };
  const authorize = (request: FastifyRequest) => {
    if (options.token === undefined) throw new FaiError(ErrorCodes.NOT_AVAILABLE, 'closed-loop remediation is off: set ALERT_WEBHOOK_TOKEN (docs/operations.md)');
    checkBearer(request.headers.authorization, options.token);
  };

  app.post('/v1/alerts/webhook', { config, bodyLimit: 1024 * 1024 }, async (request) => {
    authorize(request);
    const payload = parseOrThrow(WebhookPayloadSchema, request.body, 'body');
    const { remediator } = await options.remediation();
    return { decisions: await remediator.receive(payload) };
  });

  app.post('/v1/remediation/actions/:id/approve', { config, bodyLimit: 4 * 1024 }, async (request) => {
    authorize(request);
    const { id } = parseOrThrow(IdParams, request.params, 'params');
    const { by } = parseOrThrow(ApproveBody, request.body ?? {}, 'body');
    const { remediator } = await options.remediation();
    return remediator.approve(id, by);
  });
}
