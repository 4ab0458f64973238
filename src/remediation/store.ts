import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { ErrorCodes, FaiError } from '../errors/index.ts';
import { explainStorageError, withRedisLock } from '../hub/index.ts';
import type { RunbookName } from '../ops/index.ts';
import { KeyedFileLocks } from '../system/index.ts';
import { writeFileAtomic, writeFileSynced } from '../system/index.ts';
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

/** A disk tombstone: the claim of this action id was withdrawn (its decision failed). */
interface Released {
  readonly id: string;
  readonly released: true;
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
const DECISION_WAIT_MS = 10_000;
/** How long ended actions are kept (at least the policy's dedup window and budget windows: openRemediation makes sure). */
export const DEFAULT_RETENTION_MS = 30 * 86_400_000;
/** A log shorter than this is never compacted. */
const COMPACT_MIN_LINES = 1_000;

/** Actions by id, dedup key, runbook and open status; each kept in arrival order. */
class ActionIndex {
  private readonly byId = new Map<string, Action>();
  private readonly byKey = new Map<string, Set<string>>();
  private readonly byRunbook = new Map<string, Set<string>>();
  private readonly openIds = new Set<string>();

  get size(): number {
    return this.byId.size;
  }

  put(action: Action): void {
    this.remove(action.id);
    this.byId.set(action.id, action);
    add(this.byKey, action.dedupKey, action.id);
    add(this.byRunbook, action.runbook, action.id);
    if (OPEN_STATUSES.has(action.status)) this.openIds.add(action.id);
  }

  remove(id: string): void {
    const old = this.byId.get(id);
    if (old === undefined) return;
    this.byId.delete(id);
    this.byKey.get(old.dedupKey)?.delete(id);
    if (this.byKey.get(old.dedupKey)?.size === 0) this.byKey.delete(old.dedupKey);
    this.byRunbook.get(old.runbook)?.delete(id);
    this.openIds.delete(id);
  }

  get(id: string): Action | undefined {
    return this.byId.get(id);
  }

  all(): Action[] {
    return sortByArrival([...this.byId.values()]);
  }

  withKey(key: string): Action[] {
    return sortByArrival([...(this.byKey.get(key) ?? [])].map((id) => this.byId.get(id)!));
  }

  ofRunbook(runbook: string): Action[] {
    return sortByArrival([...(this.byRunbook.get(runbook) ?? [])].map((id) => this.byId.get(id)!));
  }

  openActions(): Action[] {
    return sortByArrival([...this.openIds].map((id) => this.byId.get(id)!));
  }
}

function add(map: Map<string, Set<string>>, key: string, id: string): void {
  let set = map.get(key);
  if (set === undefined) map.set(key, (set = new Set()));
  set.add(id);
}

function sortByArrival(actions: Action[]): Action[] {
  return actions.sort((a, b) => a.receivedAt.localeCompare(b.receivedAt));
}

/**
 * On disk (no REDIS_URL): `actions.jsonl`, an append-only log of action snapshots (the last line for
 * an id wins), and `paused.json`, the kill switch. Claims are serialised inside the process: only
 * the service records new actions; the CLI only updates existing ones.
 *
 * Bounded: the log is read once, then only what was appended since (by offset), into an index by id,
 * dedup key, runbook and open status, so a decision reads what it needs, not the whole history. When
 * superseded snapshots outnumber the live actions (a repeat notification appends a whole copy), the
 * log is compacted — rewritten whole (atomically) with the last snapshot of each action — and ended
 * actions older than the retention are dropped then.
 */
export class DiskRemediationStore implements RemediationStore {
  readonly kind = 'disk' as const;
  private readonly dir: string;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly decisionWaitMs: number;
  private readonly retentionMs: number;
  private readonly now: () => number;
  /** The index of the log as read up to `offset` (the log's inode, to see a compaction by another process). */
  private index = new ActionIndex();
  private offset = 0;
  private inode = -1;
  private lines = 0;

  constructor(dir: string, options: { decisionWaitMs?: number; retentionMs?: number; now?: () => number } = {}) {
    this.dir = dir;
    this.decisionWaitMs = options.decisionWaitMs ?? DECISION_WAIT_MS;
    this.deciding = new KeyedFileLocks((key) => join(this.dir, `decide-${key}.lock`), { waitMs: this.decisionWaitMs, what: 'remediation decision on' });
    this.retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
    this.now = options.now ?? Date.now;
  }

  private get actionsFile(): string {
    return join(this.dir, 'actions.jsonl');
  }

  private get pauseFile(): string {
    return join(this.dir, 'paused.json');
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private syncing: Promise<void> = Promise.resolve();

  /** Brings the index up to the end of the log: only the bytes appended since the last look (all of it after a compaction). One at a time. */
  private sync(): Promise<void> {
    const next = this.syncing.then(() => this.readAppended());
    this.syncing = next.catch(() => undefined);
    return next;
  }

  private async readAppended(): Promise<void> {
    let handle;
    try {
      handle = await open(this.actionsFile, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      this.index = new ActionIndex();
      this.offset = 0;
      this.lines = 0;
      return;
    }
    try {
      const info = await handle.stat();
      if (info.ino !== this.inode || info.size < this.offset) {
        this.index = new ActionIndex();
        this.offset = 0;
        this.lines = 0;
        this.inode = info.ino;
      }
      if (info.size === this.offset) return;
      const buffer = Buffer.alloc(info.size - this.offset);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, this.offset);
      const text = buffer.subarray(0, bytesRead).toString('utf8');
      // Only whole lines: a line being written (or torn by a crash) is read again once it ends.
      const end = text.lastIndexOf('\n');
      if (end < 0) return;
      for (const line of text.slice(0, end).split('\n')) {
        if (line.trim() === '') continue;
        this.lines++;
        let parsed: unknown;
        try {
          parsed = JSON.parse(line);
        } catch {
          // A line torn by a crash mid-write: the snapshot before it still stands.
          continue;
        }
        if (typeof parsed !== 'object' || parsed === null || typeof (parsed as { id?: unknown }).id !== 'string') continue; // not an action snapshot: skipped like a torn line
        const action = parsed as Action | Released;
        if ('released' in action) this.index.remove(action.id);
        else this.index.put(action);
      }
      this.offset += Buffer.byteLength(text.slice(0, end + 1));
    } finally {
      await handle.close();
    }
  }

  async claim(action: Action, windowSeconds: number): Promise<{ claimed: true } | { claimed: false; existing: Action }> {
    return this.serial(async () => {
      await this.sync();
      const since = Date.parse(action.receivedAt) - windowSeconds * 1000;
      const existing = this.index.withKey(action.dedupKey).find((a) => Date.parse(a.receivedAt) >= since);
      if (existing !== undefined) return { claimed: false as const, existing };
      await this.append(action);
      return { claimed: true as const };
    });
  }

  save(action: Action): Promise<void> {
    return this.serial(() => this.append(action));
  }

  /** A tombstone line: the claim of `action.id` is withdrawn; list() forgets the id. */
  release(action: Action): Promise<void> {
    return this.serial(() => this.append({ id: action.id, released: true }));
  }

  private async append(line: Action | Released): Promise<void> {
    try {
      await mkdir(this.dir, { recursive: true });
      await writeFileSynced(this.actionsFile, `${JSON.stringify(line)}\n`, 'a');
    } catch (error) {
      throw await explainStorageError(error, this.actionsFile, 'remediation state');
    }
    await this.sync();
    if (this.lines > COMPACT_MIN_LINES && this.lines > 2 * this.index.size) await this.compact();
  }

  /** Rewrites the log with the last snapshot of each kept action (atomically); ended actions past the retention go. */
  private async compact(): Promise<void> {
    const cutoff = this.now() - this.retentionMs;
    const kept = this.index.all().filter((a) => OPEN_STATUSES.has(a.status) || Date.parse(a.finishedAt ?? a.receivedAt) >= cutoff);
    try {
      await writeFileAtomic(this.actionsFile, kept.map((a) => `${JSON.stringify(a)}\n`).join(''));
    } catch (error) {
      throw await explainStorageError(error, this.actionsFile, 'remediation state');
    }
    this.inode = -1;
    await this.sync();
  }

  async get(id: string): Promise<Action | undefined> {
    await this.sync();
    return this.index.get(id);
  }

  async list(): Promise<Action[]> {
    await this.sync();
    return this.index.all();
  }

  async withKey(dedupKey: string): Promise<Action[]> {
    await this.sync();
    return this.index.withKey(dedupKey);
  }

  async ofRunbook(runbook: RunbookName, sinceMs: number): Promise<Action[]> {
    await this.sync();
    return this.index.ofRunbook(runbook).filter((a) => OPEN_STATUSES.has(a.status) || Date.parse(a.receivedAt) >= sinceMs);
  }

  async open(): Promise<Action[]> {
    await this.sync();
    return this.index.openActions();
  }

  async paused(): Promise<Pause | null> {
    const text = await readFile(this.pauseFile, 'utf8').catch(() => null);
    if (text === null) return null;
    try {
      return JSON.parse(text) as Pause;
    } catch {
      // Our own file, damaged: a server-side fault (5xx, so Alertmanager retries), never a malformed request.
      throw new FaiError(ErrorCodes.INTEGRITY, 'remediation state: the kill switch file (paused.json) is damaged; fai remediation pause or resume rewrites it');
    }
  }

  async setPaused(pause: Pause | null): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    if (pause === null) await rm(this.pauseFile, { force: true });
    else await writeFileAtomic(this.pauseFile, JSON.stringify(pause));
  }

  /** Decisions per key, in this process, in turn; and across processes by a lock file (the project's lock class, recovered when its holder is gone). */
  private readonly deciding: KeyedFileLocks;

  exclusive<T>(key: string, work: () => Promise<T>): Promise<T> {
    return this.deciding.run(key, work);
  }

  async close(): Promise<void> {
    await this.queue;
  }
}

/**
 * In Redis (REDIS_URL): the dedup key is taken with `SET NX EX` (atomic across service instances and
 * restarts), actions are a hash by id with a sorted set by arrival, the kill switch is one key.
 */
export class RedisRemediationStore implements RemediationStore {
  readonly kind = 'redis' as const;
  private readonly redis: Redis;
  private readonly prefix: string;

  private readonly retentionMs: number;
  private readonly now: () => number;
  private prunedAt = 0;

  constructor(url: string, prefix = 'fai:remediation:', options: { retentionMs?: number; now?: () => number } = {}) {
    this.retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
    this.now = options.now ?? Date.now;
    // A stalled Redis answers 503 within the command timeout (Alertmanager retries), not after the stall.
    this.redis = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 1, enableOfflineQueue: true, commandTimeout: 2_000 });
    this.redis.on('error', () => undefined);
    this.prefix = prefix;
  }

  /** Redis down or refusing: FAI_ERR_UNAVAILABLE (503, so Alertmanager retries the notification), never a bare 500. */
  private async guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof FaiError) throw error;
      throw new FaiError(ErrorCodes.UNAVAILABLE, `remediation state in Redis: ${(error as Error).message}`, { cause: error });
    }
  }

  async claim(action: Action, windowSeconds: number): Promise<{ claimed: true } | { claimed: false; existing: Action }> {
    return this.guard(async () => {
      const taken = await this.redis.set(`${this.prefix}dedup:${action.dedupKey}`, action.id, 'EX', windowSeconds, 'NX');
      if (taken === null) {
        const id = await this.redis.get(`${this.prefix}dedup:${action.dedupKey}`);
        const existing = id === null ? undefined : await this.get(id);
        if (existing !== undefined) return { claimed: false, existing };
      }
      await this.save(action);
      return { claimed: true };
    });
  }

  async save(action: Action): Promise<void> {
    return this.guard(async () => {
      const multi = this.redis
        .multi()
        .hset(`${this.prefix}actions`, action.id, JSON.stringify(action))
        .zadd(`${this.prefix}order`, Date.parse(action.receivedAt), action.id);
      if (OPEN_STATUSES.has(action.status)) multi.sadd(`${this.prefix}open`, action.id);
      else multi.srem(`${this.prefix}open`, action.id);
      await multi.exec();
    });
    // Bounded: ended actions past the retention go, in batches, at most once a minute.
    if (this.now() - this.prunedAt > 60_000) {
      this.prunedAt = this.now();
      await this.prune().catch(() => undefined);
    }
  }

  /** Removes ended actions received before the retention, 500 at a time (open ones stay, whatever their age). */
  async prune(): Promise<number> {
    return this.guard(async () => {
      let removed = 0;
      for (;;) {
        const ids = await this.redis.zrangebyscore(`${this.prefix}order`, '-inf', this.now() - this.retentionMs, 'LIMIT', 0, 500);
        if (ids.length === 0) return removed;
        const open = await this.redis.smismember(`${this.prefix}open`, ...ids);
        const ended = ids.filter((_, i) => open[i] !== 1);
        const multi = this.redis.multi();
        if (ended.length > 0) multi.hdel(`${this.prefix}actions`, ...ended);
        // Every id of the batch leaves the order: an open one too old to prune is still in the open set.
        multi.zrem(`${this.prefix}order`, ...ids);
        await multi.exec();
        removed += ended.length;
        if (ids.length < 500) return removed;
      }
    });
  }

  async withKey(dedupKey: string): Promise<Action[]> {
    return this.guard(async () => {
      const id = await this.redis.get(`${this.prefix}dedup:${dedupKey}`);
      const action = id === null ? undefined : await this.get(id);
      return action === undefined ? [] : [action];
    });
  }

  async ofRunbook(runbook: RunbookName, sinceMs: number): Promise<Action[]> {
    return this.guard(async () => {
      const recent = await this.redis.zrangebyscore(`${this.prefix}order`, sinceMs, '+inf');
      const open = await this.redis.smembers(`${this.prefix}open`);
      return (await this.many([...new Set([...recent, ...open])])).filter((a) => a.runbook === runbook);
    });
  }

  async open(): Promise<Action[]> {
    return this.guard(async () => this.many(await this.redis.smembers(`${this.prefix}open`)));
  }

  private async many(ids: string[]): Promise<Action[]> {
    if (ids.length === 0) return [];
    const texts = await this.redis.hmget(`${this.prefix}actions`, ...ids);
    return sortByArrival(texts.flatMap((text) => (text === null ? [] : [JSON.parse(text) as Action])));
  }

  /** Withdraws the claim: the dedup key (only while it still names this action) and the record, in one script. */
  async release(action: Action): Promise<void> {
    return this.guard(async () => {
      await this.redis.eval(
        "if redis.call('get', KEYS[1]) == ARGV[1] then redis.call('del', KEYS[1]) end redis.call('hdel', KEYS[2], ARGV[1]) redis.call('zrem', KEYS[3], ARGV[1]) return 1",
        3,
        `${this.prefix}dedup:${action.dedupKey}`,
        `${this.prefix}actions`,
        `${this.prefix}order`,
        action.id,
      );
    });
  }

  async get(id: string): Promise<Action | undefined> {
    return this.guard(async () => {
      const text = await this.redis.hget(`${this.prefix}actions`, id);
      return text === null ? undefined : (JSON.parse(text) as Action);
    });
  }

  async list(): Promise<Action[]> {
    return this.guard(async () => {
      return this.many(await this.redis.zrange(`${this.prefix}order`, 0, -1));
    });
  }

  async paused(): Promise<Pause | null> {
    return this.guard(async () => {
      const text = await this.redis.get(`${this.prefix}paused`);
      return text === null ? null : (JSON.parse(text) as Pause);
    });
  }

  async setPaused(pause: Pause | null): Promise<void> {
    return this.guard(async () => {
      if (pause === null) await this.redis.del(`${this.prefix}paused`);
      else await this.redis.set(`${this.prefix}paused`, JSON.stringify(pause));
    });
  }

  /** A Redis lock per key, released only by its holder: atomic across service instances; expires if its holder dies. */
  async exclusive<T>(key: string, work: () => Promise<T>): Promise<T> {
    const lock = `${this.prefix}decide:${key}`;
    const busy = () => new FaiError(ErrorCodes.UNAVAILABLE, `another remediation decision on ${key} holds ${lock}`);
    let working = false;
    try {
      return await withRedisLock(this.redis, lock, { ttlMs: 30_000, waitMs: DECISION_WAIT_MS, busy }, () => ((working = true), work()));
    } catch (error) {
      // What `work` throws is its own error, passed on as it is; only taking the lock is Redis's failure.
      if (working || error instanceof FaiError) throw error;
      throw new FaiError(ErrorCodes.UNAVAILABLE, `remediation state in Redis: ${(error as Error).message}`, { cause: error });
    }
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}

export function openRemediationStore(options: { redisUrl: string | undefined; stateDir: string; retentionMs?: number }): RemediationStore {
  const retention = options.retentionMs === undefined ? {} : { retentionMs: options.retentionMs };
  return options.redisUrl === undefined ? new DiskRemediationStore(join(options.stateDir, 'remediation'), retention) : new RedisRemediationStore(options.redisUrl, undefined, retention);
}
