import { join } from 'node:path';
import { ErrorCodes, FaiError } from '../errors/index.ts';
import { RUNBOOKS, type RunbookName } from '../ops/index.ts';
import { AuditLog } from './audit.ts';
import { clearCacheRunbook } from './cache.ts';
import { healthCheckRunbook, metricsCheckRunbook, shadowEvalRunbook } from './checks.ts';
import type { Deployment } from './deployment.ts';
import { runRunbook, type RunOptions, type RunResult, type Runbook } from './engine.ts';
import { RunbookLock } from './lock.ts';
import { pinUpdateRunbook } from './pins.ts';
import { canaryPromoteRunbook, downshiftRunbook } from './traffic.ts';

export { AuditLog, type AuditEntry } from './audit.ts';
export { loadDeployment, type Deployment } from './deployment.ts';
export { runRunbook, type Plan, type Runbook, type RunOptions, type RunResult, type Step } from './engine.ts';
export { RunbookLock, type LockOwner } from './lock.ts';
export { NginxControl, parseWeights, renderUpstream, type Weights } from './nginx.ts';
export { readPins, writePins, type Pins } from './pins.ts';
export { SPLIT_TOLERANCE } from './traffic.ts';

/** Runbooks that need the process backend (release history, stopping and restarting processes): not built yet. */
function notYet(name: RunbookName, description: string, destructive: boolean): Runbook<Record<string, unknown>> {
  return {
    name,
    description: `${description} (not available yet: needs the process backend)`,
    destructive,
    plan: async () => {
      throw new FaiError(ErrorCodes.NOT_AVAILABLE, `${name}: not available yet — the process backend it needs (release history, managed processes) is not built`);
    },
  };
}

export function runbooks(deployment: Deployment): Record<RunbookName, Runbook<Record<string, unknown>>> {
  const all = {
    downshift: downshiftRunbook(deployment),
    rollback: notYet('rollback', 'return to the previous release (app version + model pins), restart, health check', true),
    'pin-update': pinUpdateRunbook(deployment),
    'canary-promote': canaryPromoteRunbook(deployment),
    'emergency-stop': notYet('emergency-stop', 'stop every service of the deployment', true),
    'restart-workers': notYet('restart-workers', 'restart workers one at a time so capacity never reaches zero', false),
    'clear-cache': clearCacheRunbook(deployment),
    'health-check': healthCheckRunbook(deployment),
    'metrics-check': metricsCheckRunbook(deployment),
    'shadow-eval': shadowEvalRunbook(),
  } as Record<RunbookName, Runbook<Record<string, unknown>>>;
  for (const name of RUNBOOKS) if (all[name] === undefined) throw new Error(`runbook ${name} is not registered`);
  return all;
}

export function stateFiles(deployment: Deployment): { lock: RunbookLock; audit: AuditLog } {
  return { lock: new RunbookLock(join(deployment.stateDir, 'runbook.lock')), audit: new AuditLog(join(deployment.stateDir, 'audit.jsonl')) };
}

export async function runNamed(deployment: Deployment, name: string, args: Record<string, unknown>, options: RunOptions): Promise<RunResult> {
  const all = runbooks(deployment);
  if (!(name in all)) throw new FaiError(ErrorCodes.NOT_FOUND, `runbook "${name}" does not exist (fai runbook list)`, { field: 'RUNBOOK' });
  return runRunbook(all[name as RunbookName], args, stateFiles(deployment), options);
}
