import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { ErrorCodes, FaiError, isFaiError } from '../errors/index.ts';
import { REMEDIATION_OUTCOMES, type Metrics } from '../metrics/index.ts';
import type { RunbookName } from '../ops/index.ts';
import { runRunbook, type AuditLog, type DeploymentLock, type Runbook, type RunFailure } from '../runbooks/index.ts';
import { budgetFor, renderArgs, rulesFor, type Policy, type PolicyRule } from './policy.ts';
import { OPEN_STATUSES, type Action, type ActionStatus, type RemediationStore } from './store.ts';
import type { WebhookAlert, WebhookPayload } from './webhook.ts';

/** What `remediation_actions_total{outcome}` counts: how each matched notification ended. */
export type Outcome = (typeof REMEDIATION_OUTCOMES)[number];

/** Pages the people about an action (the IFRA rule's `page: true`); answers what it did. */
export type Pager = (action: Action, alert: WebhookAlert) => Promise<string>;

export interface RemediatorOptions {
  policy: Policy;
  store: RemediationStore;
  runbooks: Readonly<Record<RunbookName, Runbook<Record<string, unknown>>>>;
  /** The runbook engine's lock and audit log (the deployment's). */
  state: { lock: DeploymentLock; audit: AuditLog };
  metrics?: Metrics;
  pager?: Pager;
  log?: (line: string, fields?: Record<string, unknown>) => void;
  now?: () => Date;
  /**
   * This service instance (default: the host name). Instances sharing Redis share the actions; a
   * restarting instance closes only the ones it was deciding or running, never another's in flight.
   */
  instance?: string;
}

/** One line of the webhook's answer per alert and rule. */
export interface Decision {
  readonly alert: string;
  readonly status: WebhookAlert['status'];
  readonly runbook?: RunbookName;
  readonly action?: string;
  readonly decision: ActionStatus | 'duplicate' | 'no_rule';
  readonly reason: string;
}

/** The actor of what the loop does unprompted: Alertmanager, for the rule (alert) that matched. */
function alertmanagerActor(action: Action): string {
  return `alertmanager (rule ${action.alert.name})`;
}

/**
 * A decision fails only on our own state (the payload was validated before): a busy lock, a damaged
 * file, a store that is down. The answer is a 503, which Alertmanager retries (a 400 or 409 it would
 * not), and names no holder, host, address or path: those go to the service log.
 */
function retryable(error: unknown, alert: string): FaiError {
  return new FaiError(ErrorCodes.UNAVAILABLE, `the decision on ${alert} failed and was not recorded (${whyDecisionFailed(error)}); a retry is decided afresh`, { cause: error });
}

function whyDecisionFailed(error: unknown): string {
  if (isFaiError(error)) {
    if (error.code === ErrorCodes.RUNBOOK_LOCKED) return 'another decision holds a lock on the remediation state';
    if (error.code === ErrorCodes.UNAVAILABLE) return 'the remediation state is unavailable';
    if (error.code === ErrorCodes.INTEGRITY) return 'the remediation state or the audit log is damaged: fai runbook audit --verify';
  }
  return 'the remediation state could not be read or written';
}

const EXECUTED: ReadonlySet<ActionStatus> = new Set(['queued', 'running', 'verified', 'undone', 'failed']);

/**
 * The closed loop: Alertmanager's notifications in, runbook runs out — through the runbook engine
 * (lock, plan, apply, verify, undo, audit), and only when the policy, the kill switch, the
 * deduplication and the budgets all allow it. Runs happen one at a time, off the webhook's answer.
 */
export class Remediator {
  private readonly options: RemediatorOptions;
  private readonly now: () => Date;
  private runs: Promise<void> = Promise.resolve();
  private readonly instance: string;

  constructor(options: RemediatorOptions) {
    this.options = options;
    this.now = options.now ?? (() => new Date());
    this.instance = options.instance ?? hostname();
  }

  get policy(): Policy {
    return this.options.policy;
  }

  private count(runbook: RunbookName, outcome: Outcome): void {
    this.options.metrics?.remediationActionsTotal.inc({ runbook, outcome });
  }

  private log(line: string, fields: Record<string, unknown> = {}): void {
    this.options.log?.(line, fields);
  }

  /**
   * Actions this instance's previous process left undecided, queued or running (it stopped mid-run)
   * are closed as failed: the engine's lock recovery and undo cover the deployment; the action is not
   * retried blindly. Another instance's actions are its own: they may be running right now.
   */
  async recover(): Promise<number> {
    let closed = 0;
    for (const action of await this.options.store.open()) {
      if (action.status !== 'received' && action.status !== 'queued' && action.status !== 'running') continue;
      // Recorded before actions named their instance: the old rule (one service per state) applies.
      if (action.instance !== undefined && action.instance !== this.instance) continue;
      action.reason = `the process handling it stopped while it was ${action.status}; check the audit log`;
      action.status = 'failed';
      action.finishedAt = this.now().toISOString();
      await this.options.store.save(action);
      this.count(action.runbook, 'failed');
      closed++;
    }
    return closed;
  }

  /** Decides on every alert of a notification; runs are queued and happen after this returns. */
  async receive(payload: WebhookPayload): Promise<Decision[]> {
    const decisions: Decision[] = [];
    for (const alert of payload.alerts) {
      const name = alert.labels.alertname!;
      const rules = rulesFor(this.options.policy, name, alert.labels.severity ?? '');
      if (rules.length === 0) {
        decisions.push({ alert: name, status: alert.status, decision: 'no_rule', reason: `no rule for ${name} (${alert.labels.severity ?? 'no severity'}) in the policy` });
        continue;
      }
      for (const rule of rules) decisions.push(alert.status === 'firing' ? await this.firing(alert, rule) : await this.resolved(alert, rule));
    }
    return decisions;
  }

  private dedupKey(alert: WebhookAlert, runbook: RunbookName): string {
    return `${alert.fingerprint}:${Date.parse(alert.startsAt)}:${runbook}`;
  }

  private async firing(alert: WebhookAlert, rule: PolicyRule): Promise<Decision> {
    const { store, policy } = this.options;
    const name = alert.labels.alertname!;
    // The rule's arguments for this alert (`{{ $labels.mode }}` → the mode the alert is about).
    const rendered = renderArgs(rule.args, alert.labels);
    const action: Action = {
      id: `${this.now().getTime().toString(36)}-${randomBytes(3).toString('hex')}`,
      dedupKey: this.dedupKey(alert, rule.runbook),
      alert: { name, severity: alert.labels.severity ?? '', fingerprint: alert.fingerprint, startsAt: alert.startsAt, labels: alert.labels },
      runbook: rule.runbook,
      args: 'args' in rendered ? rendered.args : rule.args,
      mode: rule.mode,
      page: rule.page,
      // Recorded as received until decided: a reader never sees a refused action as queued.
      status: 'received',
      reason: '',
      plan: [],
      receivedAt: this.now().toISOString(),
      instance: this.instance,
      repeats: 0,
    };
    const decided = (reason = action.reason): Decision => ({ alert: name, status: 'firing', runbook: rule.runbook, action: action.id, decision: action.status, reason });

    const claim = await store.claim(action, policy.dedupWindow);
    if (!claim.claimed) {
      const existing = claim.existing;
      existing.repeats++;
      await store.save(existing);
      this.count(rule.runbook, 'duplicate');
      return { alert: name, status: 'firing', runbook: rule.runbook, action: existing.id, decision: 'duplicate', reason: `repeat notification of action ${existing.id} (${existing.status})` };
    }
    try {
      return await this.decide(action, alert, rule, rendered, decided);
    } catch (error) {
      // Decide, or undo the claim: a decision that failed leaves no `received` record behind, so
      // Alertmanager's retry (it retries a 5xx) is decided afresh rather than answered `duplicate`.
      await store.release(action).catch((undo: unknown) => this.log(`remediation ${action.id}: the failed claim could not be withdrawn`, { error: String(undo) }));
      this.log(`remediation ${action.id}: ${name} → ${rule.runbook}: the decision failed; the claim was withdrawn`, { action: action.id, error: error instanceof Error ? error.message : String(error) });
      throw retryable(error, name);
    }
  }

  private async decide(action: Action, alert: WebhookAlert, rule: PolicyRule, rendered: ReturnType<typeof renderArgs>, decided: () => Decision): Promise<Decision> {
    const { store } = this.options;
    if (rule.page) await this.page(action, alert);

    // The budget check and the status it leads to are one step per runbook: a concurrent firing waits, then sees this one.
    const queued = await store.exclusive(rule.runbook, async () => {
      const refusal = rule.mode === 'off' ? null : 'missing' in rendered ? `the rule cannot act on this alert: ${rendered.missing}` : await this.refusal(action);
      if (rule.mode === 'off') await this.finish(action, 'skipped', 'mode off in the remediation policy: recorded, nothing run');
      else if (refusal !== null) await this.refuse(action, refusal);
      else if (rule.mode === 'on' && this.options.runbooks[rule.runbook].destructive) {
        await this.finish(action, 'awaiting_approval', `${rule.runbook} is destructive: waiting for \`fai remediation approve ${action.id}\``);
      } else {
        action.status = 'queued';
        action.reason = rule.mode === 'dry-run' ? 'queued: dry run (plan only)' : 'queued';
        await store.save(action);
        return true;
      }
      return false;
    });
    if (queued) this.enqueue(action.id, undefined);
    return decided();
  }

  /** Why an action may not run now (kill switch, cool-down, budget), or null. */
  private async refusal(action: Action): Promise<string | null> {
    const pause = await this.options.store.paused();
    if (pause !== null) return `automation paused by ${pause.by} at ${pause.at}${pause.reason === '' ? '' : `: ${pause.reason}`} (fai remediation resume)`;
    if (action.mode !== 'on') return null;
    const budget = budgetFor(this.options.policy, action.runbook);
    const now = this.now().getTime();
    // What the budget can see: the runs of this runbook within its longest window (and any still open), not the whole history.
    const horizon = Math.max(budget.cooldown ?? 0, ...budget.limits.map((l) => l.window)) * 1000;
    const runs = (await this.options.store.ofRunbook(action.runbook, now - horizon - 1_000)).filter((a) => a.id !== action.id && a.mode === 'on' && EXECUTED.has(a.status));
    const inFlight = runs.find((a) => a.status === 'queued' || a.status === 'running');
    if (inFlight !== undefined) return `${action.runbook} already has a run ${inFlight.status} (action ${inFlight.id})`;
    if (budget.cooldown !== undefined) {
      const last = runs.map((a) => Date.parse(a.finishedAt ?? a.startedAt ?? a.receivedAt)).reduce((a, b) => Math.max(a, b), -Infinity);
      if (now - last < budget.cooldown * 1000) return `cool-down: the last ${action.runbook} ended ${Math.round((now - last) / 1000)} s ago (cool-down ${budget.cooldown} s)`;
    }
    for (const limit of budget.limits) {
      const used = runs.filter((a) => now - Date.parse(a.startedAt ?? a.receivedAt) < limit.window * 1000).length;
      if (used >= limit.count) return `budget: ${used} ${action.runbook} run(s) in the last ${limit.window} s (at most ${limit.count})`;
    }
    return null;
  }

  private async refuse(action: Action, reason: string): Promise<void> {
    const audit = await this.options.state.audit.append({
      actor: alertmanagerActor(action),
      runbook: action.runbook,
      args: action.args,
      plan: [],
      outcome: 'refused',
      detail: `remediation action ${action.id} refused: ${reason}`,
    });
    action.auditSeq = audit.seq;
    await this.finish(action, 'refused', reason);
  }

  private async finish(action: Action, status: ActionStatus, reason: string): Promise<void> {
    action.status = status;
    action.reason = reason;
    if (!OPEN_STATUSES.has(status)) action.finishedAt = this.now().toISOString();
    await this.options.store.save(action);
    // finish() is called with the statuses that are outcomes too (never queued or running).
    this.count(action.runbook, status as Outcome);
    this.log(`remediation ${action.id}: ${action.alert.name} → ${action.runbook}: ${status}`, { action: action.id, reason });
  }

  private async page(action: Action, alert: WebhookAlert): Promise<void> {
    if (this.options.pager === undefined) {
      action.paged = 'not paged: no Alertmanager in the deployment (deployment.alertmanager)';
      return;
    }
    try {
      action.paged = await this.options.pager(action, alert);
    } catch (error) {
      action.paged = `page failed: ${(error as Error).message}`;
    }
  }

  private async resolved(alert: WebhookAlert, rule: PolicyRule): Promise<Decision> {
    const name = alert.labels.alertname!;
    const key = this.dedupKey(alert, rule.runbook);
    const actions = await this.options.store.withKey(key);
    if (actions.length === 0) return { alert: name, status: 'resolved', runbook: rule.runbook, decision: 'no_rule', reason: 'resolved: no action was recorded for this firing' };
    const action = actions.at(-1)!;
    if (action.resolvedAt === undefined) action.resolvedAt = this.now().toISOString();
    if (action.status === 'received' || action.status === 'queued' || action.status === 'awaiting_approval') {
      await this.finish(action, 'closed', `the alert resolved before it ${action.status === 'awaiting_approval' ? 'was approved' : 'ran'}: nothing run`);
    } else if (action.status === 'verified' && action.lifted === undefined && this.options.runbooks[action.runbook].lift !== undefined) {
      // What the alert forced (a downshift) ends with the alert: lifted now, audited like any run.
      action.lifted = await this.lift(action);
      await this.options.store.save(action);
      return { alert: name, status: 'resolved', runbook: rule.runbook, action: action.id, decision: action.status, reason: `resolved: ${action.lifted}` };
    } else {
      await this.options.store.save(action);
    }
    return { alert: name, status: 'resolved', runbook: rule.runbook, action: action.id, decision: action.status, reason: 'resolved: a resolved notification never starts an action' };
  }

  /** Runs the runbook's lift of a verified action (its alert resolved); says what happened. */
  private async lift(action: Action): Promise<string> {
    const runbook = this.options.runbooks[action.runbook];
    const args = runbook.lift!({ ...action.args }, alertmanagerActor(action));
    if (args === null) return 'nothing to lift';
    try {
      const result = await runRunbook(runbook, args, this.options.state, { actor: `${alertmanagerActor(action)}, resolved`, note: `lifts action ${action.id}` });
      return `lifted: ${result.detail}`;
    } catch (error) {
      return `lift failed: ${error instanceof Error ? error.message : String(error)}`;
    }
  }

  private enqueue(id: string, approvedBy: string | undefined): Promise<void> {
    const run = this.runs.then(() => this.run(id, approvedBy));
    this.runs = run.catch(() => undefined);
    return run;
  }

  /** Runs one queued action through the runbook engine. */
  private async run(id: string, approvedBy: string | undefined): Promise<void> {
    const { store, state } = this.options;
    const action = await store.get(id);
    if (action === undefined || action.status !== 'queued') return; // closed by a resolved notification meanwhile
    const pause = await store.paused();
    if (pause !== null) return this.refuse(action, `automation paused by ${pause.by} at ${pause.at} before the run started`);
    action.status = 'running';
    action.startedAt = this.now().toISOString();
    await store.save(action);
    const runbook = this.options.runbooks[action.runbook];
    try {
      const result = await runRunbook(runbook, { ...action.args }, state, {
        dryRun: action.mode === 'dry-run',
        yes: approvedBy !== undefined,
        // Who acted: the rule's alert, or the operator who approved; the approver's note is a note, never the actor.
        actor: approvedBy === undefined ? alertmanagerActor(action) : approvedBy,
        ...(approvedBy === undefined ? {} : { note: `approved ${action.id}${action.approvalNote === undefined ? '' : `: ${action.approvalNote}`}` }),
      });
      action.plan = [...result.plan];
      action.auditSeq = result.audit.seq;
      await this.finish(action, result.outcome === 'planned' ? 'dry_run' : 'verified', result.detail);
    } catch (error) {
      const failure = isFaiError(error) ? (error.details as RunFailure | undefined) : undefined;
      if (failure?.plan !== undefined) action.plan = [...failure.plan];
      if (failure?.auditSeq !== undefined) action.auditSeq = failure.auditSeq;
      const outcome = failure?.outcome ?? 'failed';
      await this.finish(action, outcome === 'refused' ? 'refused' : outcome, error instanceof Error ? error.message : String(error));
    }
  }

  /** Writes what the service decided by itself (a forced downshift that lapsed) to the audit log, beside the runs. */
  async note(entry: { actor: string; runbook: string; args: Record<string, unknown>; detail: string }): Promise<void> {
    await this.options.state.audit.append({ ...entry, plan: [], outcome: 'verified' });
  }

  /**
   * An approval of a destructive action: runs it now (same checks as any run) and resolves when it has
   * ended. The check that it awaits approval and its move to `queued` are one step: of two approvals
   * at once, one runs it and the other is told it is no longer awaiting approval.
   */
  async approve(id: string, by: string, note?: string): Promise<Action> {
    const { store } = this.options;
    const known = await store.get(id);
    if (known === undefined) throw new FaiError(ErrorCodes.NOT_FOUND, `no remediation action ${id} (fai remediation ls)`, { field: 'id' });
    const approved = await store.exclusive(known.runbook, async () => {
      const action = (await store.get(id))!;
      if (action.status !== 'awaiting_approval') throw new FaiError(ErrorCodes.CONFIRMATION_REQUIRED, `action ${id} is ${action.status}, not awaiting approval: ${action.reason}`, { field: 'id' });
      const refusal = await this.refusal(action);
      if (refusal !== null) {
        await this.refuse(action, refusal);
        return false;
      }
      action.status = 'queued';
      action.approvedBy = by;
      if (note !== undefined) action.approvalNote = note;
      await store.save(action);
      return true;
    });
    if (approved) await this.enqueue(id, by);
    return (await store.get(id))!;
  }

  /** Waits for the queued runs (tests, shutdown). */
  async drain(): Promise<void> {
    let current: Promise<void>;
    do {
      current = this.runs;
      await current;
    } while (current !== this.runs);
  }
}
