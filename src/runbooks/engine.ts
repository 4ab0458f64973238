import { userInfo } from 'node:os';
import { ErrorCodes, FaiError } from '../errors/index.ts';
import type { AuditEntry, AuditLog } from './audit.ts';
import type { LockOwner } from '../system/index.ts';

/**
 * The runbook engine: a runbook computes a plan from the live state (what would change, step by
 * step); the plan is printed; unless it is a dry run, the steps are applied in order, the effect is
 * verified from outside, and on any failure the completed steps are undone in reverse order.
 * Every run holds the deployment lock and ends in the audit log.
 */
export interface Step {
  /** What this step changes, for the plan: "nginx upstream: stable 100 → 50, canary 0 → 50". */
  readonly describe: string;
  apply(): Promise<void>;
  /** Puts back what `apply` changed; absent for steps that change nothing (checks). */
  undo?(): Promise<void>;
}

export interface Plan {
  /** One line per change, or "nothing to change: …". */
  readonly summary: readonly string[];
  readonly steps: readonly Step[];
  /** Checks the effect from outside; throws (with what it saw) when it did not happen. */
  verify(): Promise<string>;
  /** Releases what planning opened (connections), however the run ends. */
  dispose?(): Promise<void>;
}

export interface Runbook<A = Record<string, unknown>> {
  readonly name: string;
  readonly description: string;
  /** Destructive runbooks stop after the plan unless --yes (or an approval) is given. */
  readonly destructive: boolean;
  /** `context.actor`: who runs it, which the runbook's own operator requests to the service say (x-fai-on-behalf-of). */
  plan(args: A, context: RunContext): Promise<Plan>;
  /**
   * What lifts a run's effect when the alert that asked for it resolves: the arguments of the run
   * that undoes it (`forcedBy`: who the firing run acted as, so only its own change is lifted), or
   * null when these arguments changed nothing a resolution should undo. Absent: a resolution lifts nothing.
   */
  lift?(args: A, forcedBy: string): A | null;
}

/** What a run holds while it acts on the deployment: a lock file (one host), or the deployment's lock in Redis (every host). */
export interface DeploymentLock {
  acquire(runbook: string): Promise<{ release: () => Promise<void>; recovered: LockOwner | null }>;
}

export interface RunContext {
  readonly actor: string;
}

export interface RunOptions {
  dryRun?: boolean;
  yes?: boolean;
  actor?: string;
  /** A note the audit entries carry beside the actor (an approval's). */
  note?: string;
  log?: (line: string) => void;
}

export interface RunResult {
  readonly runbook: string;
  readonly outcome: AuditEntry['outcome'];
  readonly plan: readonly string[];
  readonly detail: string;
  readonly audit: AuditEntry;
  readonly recoveredLock: boolean;
}

/** The `details` of the FaiError a run that did not verify throws: how it ended, and its audit entry. */
export interface RunFailure {
  readonly outcome: 'refused' | 'failed' | 'undone';
  readonly auditSeq: number;
  readonly plan?: readonly string[];
  readonly holder?: unknown;
}

export async function runRunbook<A extends Record<string, unknown>>(
  runbook: Runbook<A>,
  args: A,
  deps: { lock: DeploymentLock; audit: AuditLog },
  options: RunOptions = {},
): Promise<RunResult> {
  const log = options.log ?? (() => undefined);
  const actor = options.actor ?? `${userInfo().username}@cli`;
  const record = (outcome: AuditEntry['outcome'], plan: readonly string[], detail: string) =>
    deps.audit.append({ actor, runbook: runbook.name, args, plan, outcome, detail, ...(options.note === undefined ? {} : { note: options.note }) });

  let lock: Awaited<ReturnType<DeploymentLock['acquire']>>;
  try {
    lock = await deps.lock.acquire(runbook.name);
  } catch (error) {
    if (error instanceof FaiError) {
      const audit = await record('refused', [], error.message);
      throw new FaiError(error.code, error.message, { cause: error, field: error.field, details: { outcome: 'refused', auditSeq: audit.seq, holder: error.details } });
    }
    throw error;
  }
  if (lock.recovered !== null) {
    const { runbook: held, pid, host, startedAt } = lock.recovered;
    const line = `recovered the deployment lock left by ${held} (pid ${pid} on ${host}, since ${startedAt}, gone): that run was killed; its intent is the last \`started\` entry of ${held} without an end`;
    log(line);
    try {
      await record('recovered', [], line);
    } catch (error) {
      await lock.release();
      throw error;
    }
  }
  let plan: Plan | undefined;
  try {
    try {
      plan = await runbook.plan(args, { actor });
    } catch (error) {
      const audit = await record('failed', [], `could not plan: ${error instanceof Error ? error.message : String(error)}`);
      if (error instanceof FaiError) throw new FaiError(error.code, error.message, { cause: error, field: error.field, details: { outcome: 'failed', auditSeq: audit.seq } });
      throw error;
    }
    log(`plan for ${runbook.name}:`);
    for (const line of plan.summary) log(`  - ${line}`);
    if (options.dryRun) {
      const audit = await record('planned', plan.summary, 'dry run: nothing changed');
      return { runbook: runbook.name, outcome: 'planned', plan: plan.summary, detail: 'dry run: nothing changed', audit, recoveredLock: lock.recovered !== null };
    }
    if (runbook.destructive && !options.yes) {
      const detail = `${runbook.name} is destructive: stopped after the plan (run again with --yes)`;
      const audit = await record('refused', plan.summary, detail);
      throw new FaiError(ErrorCodes.CONFIRMATION_REQUIRED, detail, { details: { outcome: 'refused', auditSeq: audit.seq } });
    }
    // The intent, before anything acts: a run killed from here on leaves this entry without an end.
    // If it cannot be written, nothing has changed yet, and nothing will.
    await record('started', plan.summary, `applying ${plan.steps.length} step(s)`);
    const done: Step[] = [];
    let seen: string;
    try {
      for (const step of plan.steps) {
        log(`apply: ${step.describe}`);
        await step.apply();
        done.push(step);
      }
      seen = await plan.verify();
      log(`verified: ${seen}`);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const undoErrors: string[] = [];
      let undone = 0;
      for (const step of done.reverse()) {
        if (step.undo === undefined) continue;
        log(`undo: ${step.describe}`);
        try {
          await step.undo();
          undone++;
        } catch (undoError) {
          undoErrors.push(`${step.describe}: ${undoError instanceof Error ? undoError.message : String(undoError)}`);
        }
      }
      const detail =
        undoErrors.length > 0 ? `failed (${reason}); undo failed: ${undoErrors.join('; ')}` : undone > 0 ? `failed (${reason}); ${undone} step(s) undone` : `failed (${reason}); nothing had changed`;
      const outcome = undoErrors.length === 0 && undone > 0 ? 'undone' : 'failed';
      const audit = await record(outcome, plan.summary, detail);
      const details: RunFailure = { outcome, auditSeq: audit.seq, plan: plan.summary };
      if (error instanceof FaiError && error.code !== ErrorCodes.INTERNAL) {
        throw new FaiError(error.code, `${runbook.name}: ${detail}`, { cause: error, field: error.field, details });
      }
      throw new FaiError(ErrorCodes.VERIFICATION_FAILED, `${runbook.name}: ${detail}`, { cause: error, details });
    }
    // Verified: the change stands, whatever happens to its audit entry. A failed append after
    // verification is an error of the audit log, not of the change; undoing a verified change because
    // a disk was full would turn a bookkeeping failure into an outage. The `started` entry records it.
    let audit: AuditEntry;
    try {
      audit = await record('verified', plan.summary, seen);
    } catch (error) {
      throw new FaiError(
        ErrorCodes.STORAGE,
        `${runbook.name}: verified (${seen}) and left in place, but its audit entry could not be written (${error instanceof Error ? error.message : String(error)}); the log's \`started\` entry records the run`,
        { cause: error },
      );
    }
    return { runbook: runbook.name, outcome: 'verified', plan: plan.summary, detail: seen, audit, recoveredLock: lock.recovered !== null };
  } finally {
    await plan?.dispose?.().catch(() => undefined);
    await lock.release();
  }
}
