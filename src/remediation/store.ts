import type { RunbookName } from '../ops/index.ts';
import type { Mode } from './policy.ts';


/**
 * Where an action stands. `received`: recorded (the dedup claim), not decided yet; `awaiting_approval`
 * waits for `fai remediation approve`; from `verified` on, the action has ended.
 */
export const ACTION_STATUSES = ['received', 'queued', 'running', 'awaiting_approval', 'verified', 'undone', 'failed', 'dry_run', 'refused', 'skipped', 'closed'] as const;
export type ActionStatus = (typeof ACTION_STATUSES)[number];
export const OPEN_STATUSES: ReadonlySet<ActionStatus> = new Set(['received', 'queued', 'running', 'awaiting_approval']);

/** One alert notification matched to one policy rule, and what became of it. */
export interface Action {
  readonly id: string;
  /** Alertmanager's fingerprint, the alert's start and the runbook: repeats of one firing share it. */
  readonly dedupKey: string;
  readonly alert: {
    readonly name: string;
    readonly severity: string;
    readonly fingerprint: string;
    readonly startsAt: string;
    readonly labels: Readonly<Record<string, string>>;
  };
  readonly runbook: RunbookName;
  readonly args: Readonly<Record<string, unknown>>;
  readonly mode: Mode;
  readonly page: boolean;
  status: ActionStatus;
  /** Why it was refused or skipped, or what the run saw (the runbook's verification or failure). */
  reason: string;
  plan: string[];
  readonly receivedAt: string;
  /** The service instance that decided it (host and WORKER_ID): only that instance's restart closes it. */
  readonly instance?: string;
  startedAt?: string;
  finishedAt?: string;
  /** When Alertmanager reported the alert resolved. */
  resolvedAt?: string;
  /** Repeat notifications of the same firing that arrived after this action was recorded. */
  repeats: number;
  /** The authenticated principal who approved (a named operator, or `operator`). */
  approvedBy?: string;
  /** What the approver typed with the approval: a note beside the approver, never the approver. */
  approvalNote?: string;
  /** What the resolved notification undid (a forced downshift lifted), or why it left it. */
  lifted?: string;
  /** What paging the people did, when the rule asks for a page. */
  paged?: string;
  auditSeq?: number;
}

export interface Pause {
  readonly by: string;
  readonly at: string;
  readonly reason: string;
}

/** The remediation state: actions (and with them the deduplication keys and budgets) and the kill switch. */
export interface RemediationStore {
  readonly kind: 'disk' | 'redis';
  /**
   * Records `action` unless an action with its dedup key was recorded within `windowSeconds`;
   * answers the earlier action then. Atomic: two deliveries of one notification claim once.
   */
  claim(action: Action, windowSeconds: number): Promise<{ claimed: true } | { claimed: false; existing: Action }>;
  save(action: Action): Promise<void>;
  /**
   * Undoes a claim whose decision failed: the action is forgotten, its dedup key free, so
   * Alertmanager's retry of the notification is decided afresh (never answered `duplicate`).
   */
  release(action: Action): Promise<void>;
  get(id: string): Promise<Action | undefined>;
  /** Every action kept (within the retention), oldest first: `fai remediation ls`. */
  list(): Promise<Action[]>;
  /** The actions recorded under a dedup key, oldest first (a resolved notification finds its firing's). */
  withKey(dedupKey: string): Promise<Action[]>;
  /** A runbook's actions received since `sinceMs` and its open ones of any age (what a budget check reads). */
  ofRunbook(runbook: RunbookName, sinceMs: number): Promise<Action[]>;
  /** The actions in an open status (received, queued, running, awaiting approval). */
  open(): Promise<Action[]>;
  paused(): Promise<Pause | null>;
  setPaused(pause: Pause | null): Promise<void>;
  /**
   * Runs `work` while no other decision on `key` (a runbook) runs, in this process or another sharing
   * the state: the budget check and the status it leads to are one step, as are an approval's check
   * and its `queued`. Two firings cannot both pass a budget of one; two approvals cannot both run.
   */
  exclusive<T>(key: string, work: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}


/** How long a decision waits for the one before it on the same runbook (they take milliseconds). */
export const DECISION_WAIT_MS = 10_000;
/** How long ended actions are kept (at least the policy's dedup window and budget windows: openRemediation makes sure). */
export const DEFAULT_RETENTION_MS = 30 * 86_400_000;

/** Actions in the order they arrived (by receivedAt). */
export function sortByArrival(actions: Action[]): Action[] {
  return actions.sort((a, b) => a.receivedAt.localeCompare(b.receivedAt));
}
