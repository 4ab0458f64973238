import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCodes, FaiError } from '../errors/index.ts';
import type { RunbookName } from '../ops/index.ts';
import { explainStorageError } from '../hub/index.ts';
import { KeyedFileLocks, writeFileAtomic, writeFileSynced } from '../system/index.ts';
import { DECISION_WAIT_MS, DEFAULT_RETENTION_MS, OPEN_STATUSES, sortByArrival, type Action, type Pause, type RemediationStore } from './store.ts';

/** A log shorter than this is never compacted. */
const COMPACT_MIN_LINES = 1_000;

/** A disk tombstone: the claim of this action id was withdrawn (its decision failed). */
interface Released {
  readonly id: string;
  readonly released: true;
}

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
