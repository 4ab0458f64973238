import { join } from 'node:path';
import { ErrorCodes, FaiError } from '../errors/index.ts';
import { RUNBOOKS, type RunbookName } from '../ops/index.ts';
import { FileLock } from '../system/index.ts';
import { AuditLog, RedisAuditHead, type AuditHead, type ClusterAuditEntry } from './audit.ts';
import { clearCacheRunbook } from './cache.ts';
import { healthCheckRunbook, metricsCheckRunbook } from './checks.ts';
import type { Deployment } from './deployment.ts';
import { RedisDeploymentLock } from './deployment-lock.ts';
import { runRunbook, type DeploymentLock, type RunOptions, type RunResult, type Runbook } from './engine.ts';
import { pinUpdateRunbook } from './pins.ts';
import { emergencyStopRunbook, restartWorkersRunbook, rollbackRunbook } from './processes.ts';
import { regulationStrictRunbook } from './regulation.ts';
import { shadowEvalRunbook } from './shadow.ts';
import { canaryPromoteRunbook, downshiftRunbook } from './traffic.ts';

/** The runbooks of a deployment by name, its lock and audit log, and running one by name. */
export function runbooks(deployment: Deployment): Record<RunbookName, Runbook<Record<string, unknown>>> {
  const all = {
    downshift: downshiftRunbook(deployment),
    rollback: rollbackRunbook(deployment),
    'pin-update': pinUpdateRunbook(deployment),
    'canary-promote': canaryPromoteRunbook(deployment),
    'emergency-stop': emergencyStopRunbook(deployment),
    'restart-workers': restartWorkersRunbook(deployment),
    'clear-cache': clearCacheRunbook(deployment),
    'health-check': healthCheckRunbook(deployment),
    'metrics-check': metricsCheckRunbook(deployment),
    'shadow-eval': shadowEvalRunbook(deployment),
    'regulation-strict': regulationStrictRunbook(deployment),
  } as Record<RunbookName, Runbook<Record<string, unknown>>>;
  for (const name of RUNBOOKS) if (all[name] === undefined) throw new Error(`runbook ${name} is not registered`);
  return all;
}

/**
 * The deployment's lock and audit log. The audit head is recorded in the deployment's Redis when it
 * has one; `onHead` is how the service also writes it to its log.
 */
export function stateFiles(deployment: Deployment, options: { onHead?: (head: AuditHead) => void } = {}): { lock: DeploymentLock; audit: AuditLog } {
  const path = join(deployment.stateDir, 'audit.jsonl');
  const head = deployment.redisUrl === null ? undefined : new RedisAuditHead(deployment.redisUrl, path);
  // With Redis the deployment lock is every host's (its file the fallback while Redis does not answer).
  const file = new FileLock(join(deployment.stateDir, 'runbook.lock'));
  return { lock: deployment.redisUrl === null ? file : new RedisDeploymentLock(deployment.redisUrl, file), audit: new AuditLog(path, { ...(head === undefined ? {} : { head }), ...options }) };
}

/** Every host's runbook runs, from the audit stream in the deployment's Redis (the last `count`). */
export async function clusterAudit(deployment: Deployment, count: number): Promise<ClusterAuditEntry[]> {
  if (deployment.redisUrl === null) {
    throw new FaiError(ErrorCodes.CONFIG, "--cluster reads the audit stream in the deployment's Redis: this deployment has no redisUrl (configs/deployment.json); without it the audit is this host's file", { field: '--cluster' });
  }
  return new RedisAuditHead(deployment.redisUrl, join(deployment.stateDir, 'audit.jsonl')).cluster(count).catch((error: unknown) => {
    throw new FaiError(ErrorCodes.UNAVAILABLE, `the deployment's Redis did not answer (${(error as Error).message}); each host's audit file still holds its runs (fai runbook audit)`, { cause: error });
  });
}

export async function runNamed(deployment: Deployment, name: string, args: Record<string, unknown>, options: RunOptions): Promise<RunResult> {
  const all = runbooks(deployment);
  if (!(name in all)) throw new FaiError(ErrorCodes.NOT_FOUND, `runbook "${name}" does not exist (fai runbook list)`, { field: 'RUNBOOK' });
  return runRunbook(all[name as RunbookName], args, stateFiles(deployment), options);
}
