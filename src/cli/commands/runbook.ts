import { RUNBOOKS } from '../../ops/index.ts';
import { clusterAudit, loadDeployment, parseDeployment, runbooks, runNamed, stateFiles, type AuditHead } from '../../runbooks/index.ts';
import { ExitCodes } from '../exit-codes.ts';
import { table } from '../table.ts';

type Write = (text: string) => void;
const stdout: Write = (text) => process.stdout.write(text);

export async function runbookList(options: { json?: boolean }, write: Write = stdout): Promise<number> {
  // Listing needs no deployment: what each runbook does does not depend on where it would act.
  const all = runbooks(parseDeployment({}, process.cwd()));
  const rows = RUNBOOKS.map((name) => ({ name, destructive: all[name].destructive, description: all[name].description }));
  write(options.json ? `${JSON.stringify(rows, null, 2)}\n` : `${table([['RUNBOOK', 'DESTRUCTIVE', 'WHAT IT DOES'], ...rows.map((r) => [r.name, r.destructive ? 'yes (--yes)' : '', r.description])])}\n`);
  return ExitCodes.OK;
}

export interface RunbookCommandOptions {
  dryRun?: boolean;
  yes?: boolean;
  json?: boolean;
  [arg: string]: unknown;
}

/** Runs one runbook: prints the plan, then what it did and what it verified; the audit entry ends it. */
export async function runbookRun(name: string, args: Record<string, unknown>, options: RunbookCommandOptions, write: Write = stdout): Promise<number> {
  const deployment = await loadDeployment();
  const started = performance.now();
  const result = await runNamed(deployment, name, args, {
    dryRun: options.dryRun ?? false,
    yes: options.yes ?? false,
    log: options.json ? () => undefined : (line) => write(`${line}\n`),
  });
  const elapsedMs = Math.round(performance.now() - started);
  if (options.json) write(`${JSON.stringify({ ...result, elapsedMs }, null, 2)}\n`);
  else write(`${result.outcome} in ${elapsedMs} ms (audit #${result.audit.seq})\n`);
  return ExitCodes.OK;
}

export async function runbookAudit(options: { json?: boolean; verify?: boolean; head?: AuditHead; cluster?: number }, write: Write = stdout): Promise<number> {
  const deployment = await loadDeployment();
  if (options.cluster !== undefined) {
    const rows = await clusterAudit(deployment, options.cluster);
    write(
      options.json
        ? `${JSON.stringify(rows, null, 2)}\n`
        : `${table([['HOST', '#', 'TIME', 'ACTOR', 'RUNBOOK', 'OUTCOME', 'DETAIL'], ...rows.map(({ host, entry: e }) => [host, String(e.seq), e.time, e.actor, e.runbook, e.outcome, e.detail.slice(0, 100)])])}\n`,
    );
    return ExitCodes.OK;
  }
  const { audit } = stateFiles(deployment);
  if (options.verify) {
    const broken = await audit.verify(options.head === undefined ? {} : { head: options.head });
    const head = options.head ?? (await audit.recordedHead());
    const against = head === null ? 'no head recorded outside the file (no Redis; pass --head from the service log)' : `head #${head.seq} ${options.head === undefined ? 'from Redis' : 'given'}`;
    if (options.json) write(`${JSON.stringify({ intact: broken === null, ...(broken === null ? {} : { broken }), head })}\n`);
    else if (broken === null) write(`audit log intact (${(await audit.entries()).length} entries): the HMAC chain holds; ${against}\n`);
    else write(`audit log broken at ${broken.seq === undefined ? '' : `entry #${broken.seq}, `}line ${broken.line}: ${broken.reason}\n`);
    return broken === null ? ExitCodes.OK : ExitCodes.CRITICAL;
  }
  const entries = await audit.entries();
  write(
    options.json
      ? `${JSON.stringify(entries, null, 2)}\n`
      : `${table([['#', 'TIME', 'ACTOR', 'RUNBOOK', 'OUTCOME', 'DETAIL'], ...entries.map((e) => [String(e.seq), e.time, e.actor, e.runbook, e.outcome, e.detail.slice(0, 100)])])}\n`,
  );
  return ExitCodes.OK;
}
