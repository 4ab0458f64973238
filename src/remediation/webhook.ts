import { z } from 'zod';

/**
 * Alertmanager's webhook payload, version 4 (https://prometheus.io/docs/alerting/latest/configuration/#webhook_config).
 * Fields we do not read are allowed through: Alertmanager adds fields within a version.
 */
const Labels = z.record(z.string(), z.string());

export const WebhookAlertSchema = z.looseObject({
  status: z.enum(['firing', 'resolved'], { error: 'must be "firing" or "resolved"' }),
  labels: Labels.refine((labels) => typeof labels.alertname === 'string' && labels.alertname !== '', 'must include alertname'),
  annotations: Labels.default({}),
  startsAt: z.iso.datetime({ offset: true, error: 'must be an RFC 3339 time' }),
  endsAt: z.string().optional(),
  generatorURL: z.string().optional(),
  fingerprint: z.string().regex(/^[0-9a-f]{1,64}$/, 'must be Alertmanager\'s hexadecimal fingerprint'),
});

export const WebhookPayloadSchema = z.looseObject({
  version: z.literal('4', { error: 'must be "4" (Alertmanager\'s webhook payload version)' }),
  groupKey: z.string(),
  truncatedAlerts: z.number().int().min(0).default(0),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string(),
  groupLabels: Labels.default({}),
  commonLabels: Labels.default({}),
  commonAnnotations: Labels.default({}),
  externalURL: z.string().default(''),
  alerts: z.array(WebhookAlertSchema).max(1_000),
});

export type WebhookPayload = z.infer<typeof WebhookPayloadSchema>;
export type WebhookAlert = z.infer<typeof WebhookAlertSchema>;

