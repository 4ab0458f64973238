import { userInfo } from 'node:os';
import { loadConfig } from '../../config/index.ts';
import { ErrorCodes, FaiError } from '../../errors/index.ts';
import { openRemediationStore, type Action, type RemediationStore } from '../../remediation/index.ts';
import { loadDeployment } from '../../runbooks/index.ts';
import { ExitCodes } from '../exit-codes.ts';
import { callService, parseTimeout, serviceUrl } from '../service-client.ts';
import { table } from '../table.ts';

type Write = (text: string) => void;
const stdout: Write = (text) => process.stdout.write(text);

/** The store the service keeps its remediation state in: Redis with REDIS_URL, else the deployment's state directory. */
async function withStore<T>(work: (store: RemediationStore) => Promise<T>): Promise<T> {
  const deployment = await loadDeployment();
  const store = openRemediationStore({ redisUrl: loadConfig().redisUrl, stateDir: deployment.stateDir });
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

const actor = () => `${userInfo().username}@cli`;

/** What the loop did, refused and why, newest last; and whether it is paused. */
export async function remediationList(options: { json?: boolean; limit?: number }, write: Write = stdout): Promise<number> {
  return withStore(async (store) => {
    const actions = (await store.list()).slice(-(options.limit ?? 50));
    const paused = await store.paused();
    if (options.json) {
      write(`${JSON.stringify({ paused, actions }, null, 2)}\n`);
      return ExitCodes.OK;
    }
    write(paused === null ? 'automation: running\n' : `automation: PAUSED by ${paused.by} at ${paused.at}${paused.reason === '' ? '' : ` (${paused.reason})`}\n`);
    const rows = actions.map((a: Action) => [
      a.id,
      a.receivedAt.replace(/\.\d+Z$/, 'Z'),
      `${a.alert.name}/${a.alert.severity}`,
      a.runbook,
      a.mode,
      a.status,
      String(a.repeats),
      (a.reason + (a.paged === undefined ? '' : `; ${a.paged}`)).slice(0, 110),
    ]);
    write(`${table([['ID', 'RECEIVED', 'ALERT', 'RUNBOOK', 'MODE', 'STATUS', 'REPEATS', 'WHY / WHAT IT SAW'], ...rows])}\n`);
    return ExitCodes.OK;
  });
}

/** The kill switch: nothing runs until `resume` (decisions are still recorded, as refused). */
export async function remediationPause(options: { reason?: string }, write: Write = stdout): Promise<number> {
  return withStore(async (store) => {
    const pause = { by: actor(), at: new Date().toISOString(), reason: options.reason ?? '' };
    await store.setPaused(pause);
    write(`automation paused (${store.kind} state): alerts are recorded and refused until \`fai remediation resume\`\n`);
    return ExitCodes.OK;
  });
}

export async function remediationResume(_options: Record<string, never>, write: Write = stdout): Promise<number> {
  return withStore(async (store) => {
    const was = await store.paused();
    await store.setPaused(null);
    write(was === null ? 'automation was not paused\n' : `automation resumed (was paused by ${was.by} at ${was.at})\n`);
    return ExitCodes.OK;
  });
}

/**
 * Approves a destructive action: the service runs it (so it is counted and audited where every
 * other action is) and answers when it has ended; prints how.
 */
export async function remediationApprove(id: string, options: { url: string; timeout: string; json?: boolean }, write: Write = stdout): Promise<number> {
  if (process.env.FAI_ADMIN_TOKEN === undefined || process.env.FAI_ADMIN_TOKEN === '') {
    throw new FaiError(ErrorCodes.CONFIG, 'FAI_ADMIN_TOKEN is not set: an approval is an operator request (the service records its principal as the approver)', { field: 'env.FAI_ADMIN_TOKEN' });
  }
  const url = new URL(`/v1/remediation/actions/${encodeURIComponent(id)}/approve`, serviceUrl(options.url));
  const response = await callService(url, { method: 'POST', body: JSON.stringify({ note: actor() }), operator: true, timeoutMs: parseTimeout(options.timeout) });
  const action = (await response.json()) as Action;
  if (options.json) write(`${JSON.stringify(action, null, 2)}\n`);
  else {
    for (const line of action.plan) write(`  - ${line}\n`);
    write(`${action.id}: ${action.runbook} ${action.status}: ${action.reason}\n`);
  }
  return action.status === 'verified' ? ExitCodes.OK : ExitCodes.CRITICAL;
}
