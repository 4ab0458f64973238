import { RUNBOOKS } from '../thresholds.ts';

/**
 * The Alertmanager configuration: critical and warning alerts to their receivers, every alert that
 * names a runbook also to the automation webhook (the remediation policy decides what it does),
 * and a critical alert silencing its own warning twin.
 *
 * The people receivers carry no integration here: where pages and messages go (e-mail, chat,
 * pager) is a deployment secret, added at deploy time. Nothing in this repository calls an
 * address outside the machine.
 */
export interface AlertmanagerOptions {
  /** Base URL of the service, as Alertmanager reaches it. */
  serviceUrl: string;
}

export const RECEIVERS = { critical: 'team-critical', warning: 'team-warning', automation: 'automation' } as const;

export function alertmanagerConfig(options: AlertmanagerOptions): Record<string, unknown> {
  return {
    route: {
      receiver: RECEIVERS.warning,
      group_by: ['alertname', 'severity', 'instance'],
      group_wait: '30s',
      group_interval: '5m',
      repeat_interval: '4h',
      routes: [
        { receiver: RECEIVERS.automation, matchers: [`runbook=~"${RUNBOOKS.join('|')}"`], group_wait: '10s', continue: true },
        { receiver: RECEIVERS.critical, matchers: ['severity="critical"'], repeat_interval: '1h' },
        { receiver: RECEIVERS.warning, matchers: ['severity="warning"'] },
      ],
    },
    inhibit_rules: [{ source_matchers: ['severity="critical"'], target_matchers: ['severity="warning"'], equal: ['alertname', 'instance'] }],
    receivers: [
      { name: RECEIVERS.critical },
      { name: RECEIVERS.warning },
      { name: RECEIVERS.automation, webhook_configs: [{ url: `${options.serviceUrl.replace(/\/$/, '')}/v1/alerts/webhook`, send_resolved: true }] },
    ],
  };
}
