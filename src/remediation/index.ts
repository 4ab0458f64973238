import type { Metrics } from '../metrics/index.ts';
import { loadDeployment, runbooks, stateFiles, type Deployment } from '../runbooks/index.ts';
import { readPolicy } from './policy.ts';
import { Remediator, type Pager } from './remediator.ts';
import { join } from 'node:path';
import { DiskRemediationStore } from './disk-store.ts';
import { RedisRemediationStore } from './redis-store.ts';
import { DEFAULT_RETENTION_MS, type RemediationStore } from './store.ts';

export { MODES, parseDuration, PolicySchema, readPolicy, rulesFor, type Mode, type Policy, type PolicyRule } from './policy.ts';
export { Remediator, type Decision, type Outcome, type Pager, type RemediatorOptions } from './remediator.ts';
export { DiskRemediationStore } from './disk-store.ts';
export { RedisRemediationStore } from './redis-store.ts';
export { ACTION_STATUSES, type Action, type ActionStatus, type Pause, type RemediationStore } from './store.ts';
export { WebhookPayloadSchema, type WebhookAlert, type WebhookPayload } from './webhook.ts';

/** The actions' store: in Redis with REDIS_URL (every instance's), else on disk under the state directory. */
export function openRemediationStore(options: { redisUrl: string | undefined; stateDir: string; retentionMs?: number }): RemediationStore {
  const retention = options.retentionMs === undefined ? {} : { retentionMs: options.retentionMs };
  return options.redisUrl === undefined ? new DiskRemediationStore(join(options.stateDir, 'remediation'), retention) : new RedisRemediationStore(options.redisUrl, undefined, retention);
}

/** How long a page stays active in Alertmanager unless someone resolves it sooner. */
const PAGE_HOURS = 1;

/**
 * Pages the people through Alertmanager: an alert `RemediationPage` (severity critical, so the
 * critical receiver gets it; no `runbook` label, so it never comes back to the automation) naming
 * the alert and what the automation did about it.
 */
export function alertmanagerPager(alertmanagerUrl: string): Pager {
  return async (action, alert) => {
    const now = new Date();
    const body = [
      {
        labels: { alertname: 'RemediationPage', severity: 'critical', source_alert: action.alert.name, source_severity: action.alert.severity, remediation_action: action.id, remediation_runbook: action.runbook },
        annotations: {
          summary: `${action.alert.name} (${action.alert.severity}): automation answers with ${action.runbook} (mode ${action.mode}); action ${action.id}`,
          description: alert.annotations.summary ?? alert.annotations.description ?? '',
        },
        startsAt: now.toISOString(),
        endsAt: new Date(now.getTime() + PAGE_HOURS * 3_600_000).toISOString(),
      },
    ];
    const url = `${alertmanagerUrl.replace(/\/$/, '')}/api/v2/alerts`;
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(5_000) });
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status} ${await response.text()}`);
    return `paged through ${alertmanagerUrl} (RemediationPage)`;
  };
}

export interface Remediation {
  readonly remediator: Remediator;
  readonly store: RemediationStore;
  readonly deployment: Deployment;
  close(): Promise<void>;
}

/** Everything the closed loop needs, read and validated: the deployment, the policy, the state store. */
export async function openRemediation(options: {
  deploymentFile: string;
  policyFile: string;
  redisUrl: string | undefined;
  /** This instance, as its actions record it (host and WORKER_ID). */
  instance?: string;
  metrics?: Metrics;
  log?: (line: string, fields?: Record<string, unknown>) => void;
}): Promise<Remediation> {
  const deployment = await loadDeployment(options.deploymentFile);
  const policy = await readPolicy(options.policyFile);
  // Ended actions are kept 30 days, and never less than the dedup window or a budget window reads back.
  const windows = [policy.dedupWindow, ...Object.values(policy.budgets).flatMap((b) => [b.cooldown ?? 0, ...b.limits.map((l) => l.window)]), ...policy.defaultBudget.limits.map((l) => l.window)];
  const store = openRemediationStore({ redisUrl: options.redisUrl, stateDir: deployment.stateDir, retentionMs: Math.max(DEFAULT_RETENTION_MS, ...windows.map((w) => w * 1000)) });
  const remediator = new Remediator({
    policy,
    store,
    runbooks: runbooks(deployment),
    // Each new audit head goes to the service's log: a record of the chain's end outside the file.
    state: stateFiles(deployment, options.log === undefined ? {} : { onHead: (head) => options.log!(`audit head #${head.seq} ${head.hash}`, { auditHead: head }) }),
    ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
    ...(deployment.alertmanager === null ? {} : { pager: alertmanagerPager(deployment.alertmanager) }),
    ...(options.log === undefined ? {} : { log: options.log }),
    ...(options.instance === undefined ? {} : { instance: options.instance }),
  });
  try {
    await remediator.recover();
  } catch (error) {
    await store.close();
    throw error;
  }
  return {
    remediator,
    store,
    deployment,
    async close() {
      await remediator.drain();
      await store.close();
    },
  };
}
