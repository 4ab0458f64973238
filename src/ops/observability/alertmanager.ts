import { RUNBOOKS } from '../thresholds.ts';

/**
 * The Alertmanager configuration: training alerts to whoever trains (and nowhere else), critical and
 * warning alerts to their receivers, every other alert that names a runbook also to the automation
 * webhook (the remediation policy decides what it does),
 * and a critical alert silencing its own warning twin.
 *
 * The people receivers carry no integration here: where pages and messages go (e-mail, chat,
 * pager) is a deployment secret, added at deploy time. Nothing in this repository calls an
 * address outside the machine.
 */
export interface AlertmanagerOptions {
  /** Base URL of the service, as Alertmanager reaches it. */
  serviceUrl: string;
  /**
   * File holding ALERT_WEBHOOK_TOKEN, sent as `Authorization: Bearer …` to the webhook (a secret
   * mounted at deploy time; never written into this file). Without it the webhook answers 401.
   */
  webhookTokenFile?: string;
  /** Notification timings of the automation route (tests shorten them). */
  automation?: { groupWait: string; groupInterval: string; repeatInterval: string };
}

/** Where the stack's Alertmanager reads the webhook token (the Compose secret `webhook-token`). */
export const WEBHOOK_TOKEN_FILE = '/run/secrets/webhook-token';

/** The labels that say what an alert is about: a critical inhibits a warning only when all of them match. */
export const INHIBIT_EQUAL = ['alertname', 'mode', 'model', 'component', 'worker_id', 'data_type', 'operation', 'ingredient', 'source', 'job', 'instance'] as const;

export const RECEIVERS = { critical: 'team-critical', warning: 'team-warning', automation: 'automation', training: 'team-training' } as const;

export function alertmanagerConfig(options: AlertmanagerOptions): Record<string, unknown> {
  return {
    route: {
      receiver: RECEIVERS.warning,
      group_by: ['alertname', 'severity', 'instance'],
      group_wait: '30s',
      group_interval: '5m',
      repeat_interval: '4h',
      routes: [
        // Training alerts (audience="training", e.g. HighClipFraction) go to whoever trains, and stop there: no production runbook acts on them.
        { receiver: RECEIVERS.training, matchers: ['audience="training"'], repeat_interval: '4h' },
        {
          receiver: RECEIVERS.automation,
          matchers: [`runbook=~"${RUNBOOKS.join('|')}"`],
          // One notification per alert: the webhook deduplicates by fingerprint, and a group would delay one alert for another.
          group_by: ['...'],
          group_wait: options.automation?.groupWait ?? '10s',
          group_interval: options.automation?.groupInterval ?? '1m',
          repeat_interval: options.automation?.repeatInterval ?? '1h',
          continue: true,
        },
        { receiver: RECEIVERS.critical, matchers: ['severity="critical"'], repeat_interval: '1h' },
        { receiver: RECEIVERS.warning, matchers: ['severity="warning"'] },
      ],
    },
    // A critical silences only the warning of the same alert about the same thing: every identifying
    // label must match (one absent on both counts as equal, so each label the alerts carry is listed).
    // `alertname` and `instance` alone let a critical for creative/llama silence balanced/qwen's warning,
    // and llm's silence hub's — the recording rules drop `instance`.
    inhibit_rules: [{ source_matchers: ['severity="critical"'], target_matchers: ['severity="warning"'], equal: [...INHIBIT_EQUAL] }],
    receivers: [
      { name: RECEIVERS.critical },
      { name: RECEIVERS.warning },
      { name: RECEIVERS.training },
      {
        name: RECEIVERS.automation,
        webhook_configs: [
          {
            url: `${options.serviceUrl.replace(/\/$/, '')}/v1/alerts/webhook`,
            send_resolved: true,
            http_config: { authorization: { type: 'Bearer', credentials_file: options.webhookTokenFile ?? WEBHOOK_TOKEN_FILE } },
          },
        ],
      },
    ],
  };
}
