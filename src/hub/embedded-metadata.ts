import { mkdir, readdir, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { KeyedFileLocks, writeFileAtomic } from '../system/index.ts';
import { DATA_TYPES, ObjectRecordSchema, type DataType, type MetadataStore, type ObjectRecord } from './metadata.ts';
import { explainStorageError } from './storage-error.ts';

interface StoredRecord {
  record: ObjectRecord;
  /** Epoch ms, or null for no expiry. */
  expiresAt: number | null;
}

/**
 * Keys (created_at, cid) kept sorted: an insert or removal is a binary search and a splice (a memmove
 * of pointers, fast at the hub's sizes), a listing walks from the end. Written here: a sorted-set
 * library would be a dependency for thirty lines.
 */
class OrderedRecords {
  private readonly keys: Array<{ at: string; cid: string }> = [];

  private position(at: string, cid: string): number {
    let lo = 0;
    let hi = this.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const key = this.keys[mid]!;
      if (key.at < at || (key.at === at && key.cid < cid)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Entries appended out of order since the last sort (a directory read in any order): sorted once, when next needed. */
  private unsorted = false;

  private sorted(): void {
    if (!this.unsorted) return;
    this.keys.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.cid < b.cid ? -1 : a.cid > b.cid ? 1 : 0));
    // Drop duplicates a bulk load may have appended twice.
    let w = 0;
    for (let r = 0; r < this.keys.length; r++) {
      const key = this.keys[r]!;
      const last = this.keys[w - 1];
      if (last === undefined || last.at !== key.at || last.cid !== key.cid) this.keys[w++] = key;
    }
    this.keys.length = w;
    this.unsorted = false;
  }

  add(at: string, cid: string): void {
    const last = this.keys.at(-1);
    // The common case (a new record is the newest): an append.
    if (last === undefined || last.at < at || (last.at === at && last.cid < cid)) {
      this.keys.push({ at, cid });
      return;
    }
    if (this.unsorted || this.keys.length > 64) {
      this.keys.push({ at, cid });
      this.unsorted = true;
      return;
    }
    const i = this.position(at, cid);
    const key = this.keys[i];
    if (key !== undefined && key.at === at && key.cid === cid) return;
    this.keys.splice(i, 0, { at, cid });
  }

  delete(at: string, cid: string): void {
    this.sorted();
    const i = this.position(at, cid);
    const key = this.keys[i];
    if (key !== undefined && key.at === at && key.cid === cid) this.keys.splice(i, 1);
  }

  /** Newest first; safe while entries are deleted during the walk (a removal only shifts entries already passed). */
  *newestFirst(): Generator<string> {
    this.sorted();
    for (let i = this.keys.length - 1; i >= 0; i--) {
      const key = this.keys[i];
      if (key !== undefined) yield key.cid;
    }
  }

  clear(): void {
    this.keys.length = 0;
    this.unsorted = false;
  }
}

/** How long a record change waits for another change of the same record (they take milliseconds). */
const RECORD_LOCK_WAIT_MS = 10_000;

/** A new store of `record` over what is there: the earlier creation, the union of the tags, the pin as it stands. */
function mergeRecord(existing: ObjectRecord | undefined, record: ObjectRecord): ObjectRecord {
  if (existing === undefined) return record;
  return { ...record, created_at: existing.created_at, tags: [...new Set([...existing.tags, ...record.tags])], pinned: existing.pinned };
}

/** How often a busy store looks for records other processes wrote (a listing may lag them by this much). */
const RESCAN_EVERY_MS = 100;

const Stored = z.object({ record: ObjectRecordSchema, expiresAt: z.number().nullable() });

/**
 * The embedded metadata store: one JSON file per record (written to a temporary file, fsynced, then
 * renamed, so a crash leaves the old record or the new one, never half of one), and an index by data
 * type in memory.
 *
 * The directory is the one source of truth for every process sharing it (the service, `fai shadow
 * run`, the scheduled evaluation): before answering, the store compares the directory's modification
 * time with the one its index was built from (at most every 100 ms), and on a change reads the files
 * that are new and drops those gone. A lookup that misses the index reads the file itself. gc (`cids`)
 * always re-reads, changed files included (by their own modification time: a pin written elsewhere).
 *
 * A file that does not read as a record (truncated by a crash or a full disk, edited by hand) is
 * skipped and reported by `problems()` (and so in /health), never taken for a record and never
 * allowed to take the whole hub down. Expired records are dropped when they are read or listed.
 */
export class EmbeddedMetadataStore implements MetadataStore {
  readonly backend = 'embedded' as const;
  private readonly directory: string;
  private readonly now: () => number;
  private readonly records = new Map<string, StoredRecord & { fileMtimeMs: number }>();
  /** Per data type, the records in creation order (created_at, then CID): a listing reads its newest `limit`, never sorts them all. */
  private readonly byType = new Map<DataType, OrderedRecords>(DATA_TYPES.map((t) => [t, new OrderedRecords()]));
  /** File name → why it is not a record. */
  private readonly unreadable = new Map<string, string>();
  private opened: Promise<void> | undefined;
  /** The directory's modification time the index reflects, and when it was read. */
  private seen: { dirMtimeMs: number; at: number } | undefined;
  private refreshing: Promise<void> | undefined;

  constructor(directory: string, now: () => number = Date.now) {
    this.directory = directory;
    this.now = now;
  }

  private open(): Promise<void> {
    this.opened ??= mkdir(this.directory, { recursive: true })
      .then(() => this.refresh(true))
      .catch(async (error: unknown) => {
        this.opened = undefined;
        throw await explainStorageError(error, this.directory, 'cannot open the metadata directory');
      });
    return this.opened;
  }

  /** Files other processes wrote since the index was built: re-read when the directory changed (or `force`). */
  private async current(force = false): Promise<void> {
    await this.open();
    await this.refresh(force);
  }

  private async refresh(force: boolean): Promise<void> {
    // A forced look (gc) must read changed files itself: it waits for a plain refresh in flight, then rescans.
    if (force) {
      await this.refreshing?.catch(() => undefined);
      return this.rescan(true);
    }
    // Plain refreshes run one at a time; callers arriving meanwhile share it.
    this.refreshing ??= this.rescan(false).finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async rescan(force: boolean): Promise<void> {
    // A service answering many requests looks at the directory at most every RESCAN_EVERY_MS: a lookup
    // that misses reads the file anyway, so only a listing may lag another process's write by that much.
    if (!force && this.seen !== undefined && Date.now() - this.seen.at < RESCAN_EVERY_MS) return;
    const dir = await stat(this.directory);
    // File times come from a coarse clock: a change within the same tick as the last look may not move
    // the directory's time, so a directory changed within the last second is re-read either way.
    const settled = this.seen !== undefined && dir.mtimeMs === this.seen.dirMtimeMs && this.seen.at - dir.mtimeMs > 1_000;
    if (settled && !force) {
      this.seen = { dirMtimeMs: dir.mtimeMs, at: Date.now() };
      return;
    }
    const at = Date.now();
    const present = new Set<string>();
    for (const name of await readdir(this.directory)) {
      if (!name.endsWith('.json')) continue;
      const cid = name.slice(0, -'.json'.length);
      present.add(cid);
      const known = this.records.has(cid) || this.unreadable.has(name);
      // New files are read; a known one only when asked to look at everything (gc: a pin another process wrote).
      if (known && !force) continue;
      const info = await stat(join(this.directory, name)).catch(() => undefined);
      if (info === undefined) continue;
      if (this.records.get(cid)?.fileMtimeMs === info.mtimeMs) continue;
      await this.readRecord(name, info.mtimeMs);
    }
    for (const cid of [...this.records.keys()]) if (!present.has(cid)) this.unindex(cid);
    for (const name of [...this.unreadable.keys()]) if (!present.has(name.slice(0, -'.json'.length))) this.unreadable.delete(name);
    this.seen = { dirMtimeMs: dir.mtimeMs, at };
  }

  /** Reads one record file into the index; one that does not read is skipped and reported. */
  private async readRecord(name: string, fileMtimeMs: number): Promise<StoredRecord | null> {
    const cid = name.slice(0, -'.json'.length);
    let text: string;
    try {
      text = await readFile(join(this.directory, name), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    let parsed: ReturnType<typeof Stored.safeParse>;
    try {
      parsed = Stored.safeParse(JSON.parse(text));
    } catch (error) {
      this.report(name, cid, `not JSON (${(error as Error).message}; ${text.length} bytes: truncated?)`);
      return null;
    }
    if (!parsed.success || parsed.data.record.cid !== cid) {
      this.report(name, cid, parsed.success ? `holds the record of ${parsed.data.record.cid}` : `not a record: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`);
      return null;
    }
    this.unreadable.delete(name);
    if (parsed.data.expiresAt !== null && parsed.data.expiresAt <= this.now()) {
      this.unindex(cid);
      return null;
    }
    this.index({ ...parsed.data, fileMtimeMs });
    return parsed.data;
  }

  private report(name: string, cid: string, reason: string): void {
    this.unindex(cid);
    this.unreadable.set(name, reason);
  }

  /** Files in the directory that are not records, with why: /health names them. */
  problems(): string[] {
    // The file's name within the metadata directory: /health is public, the directory is not its business.
    return [...this.unreadable].map(([name, reason]) => `meta/${name}: ${reason}`);
  }

  private index(stored: StoredRecord & { fileMtimeMs: number }): void {
    const previous = this.records.get(stored.record.cid);
    if (previous !== undefined) this.byType.get(previous.record.data_type)!.delete(previous.record.created_at, previous.record.cid);
    this.records.set(stored.record.cid, stored);
    this.byType.get(stored.record.data_type)!.add(stored.record.created_at, stored.record.cid);
  }

  private unindex(cid: string): void {
    const stored = this.records.get(cid);
    if (stored === undefined) return;
    this.records.delete(cid);
    this.byType.get(stored.record.data_type)!.delete(stored.record.created_at, cid);
  }

  private fileOf(cid: string): string {
    return join(this.directory, `${cid}.json`);
  }

  async put(record: ObjectRecord, ttlSeconds: number | null): Promise<void> {
    await this.open();
    const stored: StoredRecord = { record, expiresAt: ttlSeconds === null ? null : this.now() + ttlSeconds * 1000 };
    try {
      await writeFileAtomic(this.fileOf(record.cid), JSON.stringify(stored));
    } catch (error) {
      throw await explainStorageError(error, this.directory, `cannot write the record of ${record.cid}`);
    }
    const info = await stat(this.fileOf(record.cid)).catch(() => undefined);
    this.index({ ...stored, fileMtimeMs: info?.mtimeMs ?? 0 });
  }

  /** Record changes per CID, one at a time: in this process by a promise chain, across processes by a lock file beside the record. */
  private readonly changing = new KeyedFileLocks((cid) => join(this.directory, `${cid}.lock`), { durable: false, waitMs: RECORD_LOCK_WAIT_MS, what: 'hub record' });

  private async locked<T>(cid: string, work: () => Promise<T>): Promise<T> {
    await this.open();
    return this.changing.run(cid, work);
  }

  /** The record as its file holds it now (another process may have changed it since the index was read). */
  private async onDisk(cid: string): Promise<StoredRecord | null> {
    const info = await stat(this.fileOf(cid)).catch(() => undefined);
    return info === undefined ? null : this.readRecord(`${cid}.json`, info.mtimeMs);
  }

  upsert(record: ObjectRecord, ttlSeconds: number): Promise<ObjectRecord> {
    return this.locked(record.cid, async () => {
      const existing = (await this.onDisk(record.cid))?.record;
      const merged = mergeRecord(existing, record);
      await this.put(merged, merged.pinned ? null : ttlSeconds);
      return merged;
    });
  }

  setPinned(cid: string, pinned: boolean, ttlSeconds: (record: ObjectRecord) => number): Promise<ObjectRecord | null> {
    return this.locked(cid, async () => {
      const existing = (await this.onDisk(cid))?.record;
      if (existing === undefined) return null;
      const record = { ...existing, pinned };
      await this.put(record, pinned ? null : ttlSeconds(record));
      return record;
    });
  }

  private live(cid: string): StoredRecord | null {
    const stored = this.records.get(cid);
    if (stored === undefined) return null;
    if (stored.expiresAt !== null && stored.expiresAt <= this.now()) {
      // Gone from the index at once; a file that cannot be removed now is expired on disk too,
      // so the next open skips it again and the next gc retries the removal.
      this.delete(cid).catch(() => undefined);
      return null;
    }
    return stored;
  }

  async get(cid: string): Promise<ObjectRecord | null> {
    await this.current();
    const indexed = this.live(cid);
    if (indexed !== null) return indexed.record;
    // Not in the index: another process may have written it an instant ago; the file decides.
    const info = await stat(this.fileOf(cid)).catch(() => undefined);
    if (info === undefined) return null;
    await this.readRecord(`${cid}.json`, info.mtimeMs);
    return this.live(cid)?.record ?? null;
  }

  async list(dataType: DataType, limit: number): Promise<ObjectRecord[]> {
    await this.current();
    const out: ObjectRecord[] = [];
    // Newest first, in order already; expired ones met on the way are dropped (live() removes them).
    for (const cid of this.byType.get(dataType)!.newestFirst()) {
      if (out.length >= limit) break;
      const stored = this.live(cid);
      if (stored !== null) out.push(stored.record);
    }
    return out;
  }

  async delete(cid: string): Promise<void> {
    await this.open();
    this.unindex(cid);
    await unlink(this.fileOf(cid)).catch(async (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw await explainStorageError(error, this.directory, `cannot delete the record of ${cid}`);
    });
  }

  async *cids(): AsyncGenerator<string> {
    // gc must see every record any process wrote: always from the directory.
    await this.current(true);
    for (const cid of [...this.records.keys()]) if (this.live(cid) !== null) yield cid;
  }

  async ping(): Promise<void> {
    await this.current();
  }

  async close(): Promise<void> {
    await this.refreshing?.catch(() => undefined);
    this.opened = undefined;
    this.seen = undefined;
    this.records.clear();
    this.unreadable.clear();
    for (const ordered of this.byType.values()) ordered.clear();
  }
}
