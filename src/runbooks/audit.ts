import { createHmac, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, truncate } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import type { Redis } from 'ioredis';
import { ErrorCodes, FaiError } from '../errors/index.ts';
import { createWhole, FileLock, writeFileSynced } from '../system/index.ts';
import { deploymentRedis } from './redis-connection.ts';

/** One audited run: who ran what with which plan, and how it ended. */
export interface AuditEntry {
  readonly seq: number;
  readonly time: string;
  readonly actor: string;
  readonly runbook: string;
  readonly args: Readonly<Record<string, unknown>>;
  readonly plan: readonly string[];
  /**
   * `started`: the intent, written before the first step acts (a run killed mid-way leaves it, without
   * an end); `recovered`: a lock a killed run held was taken over, or a torn last line removed.
   */
  readonly outcome: 'planned' | 'refused' | 'started' | 'verified' | 'undone' | 'failed' | 'recovered';
  readonly detail: string;
  /** A note the person who approved or ran it typed: never the actor. */
  readonly note?: string;
  /** Hash of the previous entry ("" for the first). */
  readonly prev: string;
  /** `hmac-sha256`: `hash` is keyed by the audit key. Absent in entries written before the log was keyed (a plain sha-256). */
  readonly alg?: 'hmac-sha256';
  /** HMAC-SHA256 (with the audit key) of this entry without `hash`, chained through `prev`. */
  readonly hash: string;
}

/** The last entry's sequence and hash, recorded away from the log: a removed tail is caught against it. */
export interface AuditHead {
  readonly seq: number;
  readonly hash: string;
}

/** Where the head is recorded besides the service's log line (Redis when the deployment has one). */
export interface AuditHeadStore {
  /** Records the new head; `entry` is the entry that made it (Redis also keeps it in the cluster's audit stream). */
  record(head: AuditHead, entry?: AuditEntry): Promise<void>;
  read(): Promise<AuditHead | null>;
}

/** The entry's HMAC (an unkeyed entry is never verified: it is reported, or archived with its log). */
function digest(entry: Omit<AuditEntry, 'hash'>, key: Uint8Array): string {
  return createHmac('sha256', key).update(JSON.stringify(entry)).digest('hex');
}

export interface AuditLogOptions {
  /**
   * The HMAC key: kept outside the log, so whoever can write the file cannot forge its chain. By
   * default AUDIT_KEY, or else the key file `audit.key` beside the log (see auditKey).
   */
  key?: Uint8Array;
  head?: AuditHeadStore;
  /** Told each new head: the service writes it to its log, a second record outside the file. */
  onHead?: (head: AuditHead) => void;
}

/**
 * The audit key: AUDIT_KEY (at least 32 characters), or else a random key kept in `keyFile` (mode
 * 0600, created on first use) — outside the log, but on its disk: set AUDIT_KEY to keep the key off
 * the machine whose files it protects.
 */
export async function auditKey(keyFile: string, env: Readonly<Record<string, string | undefined>> = process.env): Promise<Uint8Array> {
  const fromEnv = env.AUDIT_KEY?.trim();
  if (fromEnv !== undefined && fromEnv !== '') {
    if (fromEnv.length < 32) throw new FaiError(ErrorCodes.CONFIG, 'env.AUDIT_KEY: at least 32 characters (for example: openssl rand -hex 32)', { field: 'env.AUDIT_KEY' });
    return Buffer.from(fromEnv);
  }
  const existing = await readFile(keyFile, 'utf8').catch(() => null);
  if (existing !== null) return Buffer.from(existing.trim());
  await mkdir(dirname(keyFile), { recursive: true });
  // Created whole (mode 0600 before it has its name): of two processes creating it at once, one wins and both use its key.
  await createWhole(keyFile, randomBytes(32).toString('hex'), `${keyFile}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`, true, 0o600).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  });
  return Buffer.from((await readFile(keyFile, 'utf8')).trim());
}

type NewEntry = Omit<AuditEntry, 'seq' | 'time' | 'prev' | 'hash'>;

/**
 * The audit log: JSON lines, appended and fsynced, each entry carrying the HMAC of its content and
 * of the entry before it, keyed outside the file (AUDIT_KEY). An edited, removed or reordered entry
 * breaks the chain at that line, and whoever can write the file but lacks the key cannot compute a
 * new chain. A removed tail leaves a chain that holds: the head (last sequence and hash) is recorded
 * elsewhere — the head store (Redis) and the service's log line — and `verify` checks against it.
 * Only ever appended to, but for cutting off a torn tail (below).
 *
 * Crashes: appends take turns under a FileLock (the deployment lock's class), so a lock left by a
 * killed appender is recovered, and the recovery is recorded as an entry. A last line a crash tore
 * (no newline, not JSON) was never acknowledged: the next append cuts it off and records that it did;
 * until then readers skip it and `verify` reports it as torn, not as a broken chain.
 */
export class AuditLog {
  readonly path: string;
  private readonly lock: FileLock;
  private readonly options: AuditLogOptions;
  private keyed: Promise<Uint8Array> | undefined;

  constructor(path: string, options: AuditLogOptions = {}) {
    this.path = path;
    this.lock = new FileLock(`${path}.lock`);
    this.options = options;
  }

  private key(): Promise<Uint8Array> {
    this.keyed ??= this.options.key !== undefined ? Promise.resolve(this.options.key) : auditKey(join(dirname(this.path), 'audit.key'));
    return this.keyed;
  }

  private async text(): Promise<string> {
    return readFile(this.path, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return '';
      throw error;
    });
  }

  /** The entries, and the torn last line a crash left (undefined when there is none). */
  private static parse(text: string): { entries: AuditEntry[]; torn: string | undefined } {
    const lines = text.split('\n');
    // A complete file ends with a newline: the last element is ''. Anything else is a line cut short.
    const tail = lines.pop() ?? '';
    const entries = lines.flatMap((line, index) => {
      if (line.trim() === '') return [];
      try {
        return [JSON.parse(line) as AuditEntry];
      } catch {
        // Our own file, damaged mid-way: not a request's fault, and not something to append after.
        throw new FaiError(ErrorCodes.INTEGRITY, `the audit log is damaged at line ${index + 1} (not JSON): fai runbook audit --verify`);
      }
    });
    if (tail.trim() === '') return { entries, torn: undefined };
    try {
      // A whole entry whose newline never came is still an entry.
      return { entries: [...entries, JSON.parse(tail) as AuditEntry], torn: undefined };
    } catch {
      return { entries, torn: tail };
    }
  }

  async entries(): Promise<AuditEntry[]> {
    return AuditLog.parse(await this.text()).entries;
  }

  async append(entry: NewEntry): Promise<AuditEntry> {
    await mkdir(dirname(this.path), { recursive: true });
    // Appends from concurrent processes (a refused run beside the running one) take turns, or two
    // entries would claim the same predecessor.
    const held = await this.lock.acquire(`audit: ${entry.runbook}`, { waitMs: 5_000 });
    try {
      if (held.recovered !== null) {
        const { pid, host, startedAt } = held.recovered;
        await this.appendLocked({ actor: entry.actor, runbook: entry.runbook, args: {}, plan: [], outcome: 'recovered', detail: `audit lock left by pid ${pid} on ${host} (since ${startedAt}, gone) recovered` });
      }
      return await this.appendLocked(entry);
    } finally {
      await held.release();
    }
  }

  private async appendLocked(entry: NewEntry): Promise<AuditEntry> {
    const text = await this.text();
    let { entries, torn } = AuditLog.parse(text);
    if (torn === undefined && text !== '' && !text.endsWith('\n')) {
      // A whole last entry without its newline: give it one before the next.
      await writeFileSynced(this.path, '\n', 'a');
    }
    if (entries.some((e) => e.alg === undefined)) {
      // Unkeyed entries where a keyed head was recorded: the log was rewritten. Nothing is appended to it.
      if ((await this.recordedHead()) !== null) throw new FaiError(ErrorCodes.INTEGRITY, 'the audit log holds unkeyed entries though a keyed head was recorded: it was rewritten (fai runbook audit --verify)');
      // A log written before the log was keyed: archived whole, and the keyed log starts by naming it.
      const archive = `${this.path}.unkeyed-${Date.now()}`;
      await rename(this.path, archive);
      const last = entries.at(-1);
      entries = [];
      torn = undefined;
      entries = (await this.write(entries, { actor: entry.actor, runbook: entry.runbook, args: {}, plan: [], outcome: 'recovered', detail: `the unkeyed log before this one (${last?.seq ?? 0} entries, last hash ${last?.hash ?? ''}) was archived as ${basename(archive)}` })).entries;
    }
    if (torn !== undefined) {
      await truncate(this.path, Buffer.byteLength(text) - Buffer.byteLength(torn));
      entries = (await this.write(entries, { actor: entry.actor, runbook: entry.runbook, args: {}, plan: [], outcome: 'recovered', detail: `a torn last line (${Buffer.byteLength(torn)} bytes of an entry a crash cut short, never acknowledged) was removed` })).entries;
    }
    return (await this.write(entries, entry)).entry;
  }

  private async write(entries: AuditEntry[], entry: NewEntry): Promise<{ entry: AuditEntry; entries: AuditEntry[] }> {
    const previous = entries.at(-1);
    const body = { seq: (previous?.seq ?? 0) + 1, time: new Date().toISOString(), ...entry, prev: previous?.hash ?? '', alg: 'hmac-sha256' as const };
    const full: AuditEntry = { ...body, hash: digest(body, await this.key()) };
    await writeFileSynced(this.path, `${JSON.stringify(full)}\n`, 'a');
    await this.recordHead({ seq: full.seq, hash: full.hash }, full);
    return { entry: full, entries: [...entries, full] };
  }

  /** The head goes out of the file: to the service's log line, and to the head store (a failure there is logged, the entry stands). */
  private async recordHead(head: AuditHead, entry: AuditEntry): Promise<void> {
    this.options.onHead?.(head);
    await this.options.head?.record(head, entry).catch(() => undefined);
  }

  /** The head recorded outside the file, if a head store is configured and holds one. */
  async recordedHead(): Promise<AuditHead | null> {
    return (await this.options.head?.read().catch(() => null)) ?? null;
  }

  /**
   * null when the chain holds; otherwise the first entry that breaks it and why (a torn last line says
   * so). `head` (from the service's log line, `--head SEQ:HASH`) or else the head store's record is
   * what the log must still reach: entries removed from its end are reported against it.
   */
  async verify(options: { head?: AuditHead } = {}): Promise<{ line: number; seq?: number; reason: string } | null> {
    const key = await this.key();
    const text = await this.text();
    const lines = text.split('\n').filter((line) => line.trim() !== '');
    let prev = '';
    const entries: AuditEntry[] = [];
    for (let i = 0; i < lines.length; i++) {
      let entry: AuditEntry;
      try {
        entry = JSON.parse(lines[i]!) as AuditEntry;
      } catch {
        if (i === lines.length - 1 && !text.endsWith('\n')) return { line: i + 1, reason: 'torn: a write a crash cut short (never acknowledged); the next entry appended removes it' };
        return { line: i + 1, reason: 'not JSON' };
      }
      const { hash, ...body } = entry;
      const at = { line: i + 1, seq: entry.seq };
      if (entry.prev !== prev) return { ...at, reason: 'does not follow the entry before it (removed or reordered entries)' };
      // An unkeyed entry proves nothing: anyone can compute a plain hash (a log written before it was
      // keyed is archived by the first keyed append, so a current log holds none).
      if (entry.alg !== 'hmac-sha256') return { ...at, reason: entry.alg === undefined ? 'not keyed: a plain hash anyone can recompute (rewritten without the audit key)' : `unknown algorithm ${String(entry.alg)}` };
      if (digest(body, key) !== hash) return { ...at, reason: 'its content does not match its HMAC (edited, or written with another AUDIT_KEY)' };
      if (entry.seq !== i + 1) return { ...at, reason: `sequence ${entry.seq}, expected ${i + 1}` };
      prev = hash;
      entries.push(entry);
    }
    const head = options.head ?? (await this.recordedHead());
    if (head !== null) {
      const last = entries.at(-1);
      if (last === undefined || last.seq < head.seq) {
        return { line: lines.length + 1, seq: (last?.seq ?? 0) + 1, reason: `the log ends at entry ${last?.seq ?? 0}, but its head was recorded at entry ${head.seq}: entries were removed from its end` };
      }
      const atHead = entries[head.seq - 1];
      if (atHead !== undefined && atHead.hash !== head.hash) return { line: head.seq, seq: head.seq, reason: 'not the entry recorded as the head (the log was rewritten from here)' };
    }
    return null;
  }
}

/** The cluster's audit stream: every host's entries, in the order Redis took them. */
export const AUDIT_STREAM = 'fai:audit:entries';
/** Entries the stream keeps (about: trimmed with ~); the files keep every one. */
const AUDIT_STREAM_LENGTH = 100_000;

/** An entry of the cluster's audit stream: which host and log file it is from, and the entry. */
export interface ClusterAuditEntry {
  readonly host: string;
  readonly log: string;
  readonly entry: AuditEntry;
}

/**
 * The audit head in Redis, one key per host and log file. Raised only, never lowered (a script
 * compares sequences), so a removed tail cannot be hidden by re-recording an earlier head through
 * the log. Each entry also goes to the cluster's audit stream (`fai:audit:entries`), where
 * `fai runbook audit --cluster` reads every host's runs in one place; each host's file stays the
 * HMAC-chained record (and the whole record while Redis does not answer). One short connection per
 * call: appends are rare (runbook runs), and the CLI must exit.
 */
export class RedisAuditHead implements AuditHeadStore {
  private readonly url: string;
  readonly key: string;

  private readonly logPath: string;

  constructor(url: string, logPath: string) {
    this.url = url;
    this.logPath = resolve(logPath);
    this.key = `fai:audit:head:${hostname()}:${this.logPath}`;
  }

  private async with<T>(work: (redis: Redis) => Promise<T>): Promise<T> {
    const redis = deploymentRedis(this.url);
    try {
      await redis.connect();
      return await work(redis);
    } finally {
      redis.disconnect();
    }
  }

  async record(head: AuditHead, entry?: AuditEntry): Promise<void> {
    await this.with(async (redis) => {
      await redis.eval(
        "local cur = redis.call('get', KEYS[1]) if cur and cjson.decode(cur).seq >= tonumber(ARGV[1]) then return 0 end redis.call('set', KEYS[1], ARGV[2]) return 1",
        1,
        this.key,
        String(head.seq),
        JSON.stringify(head),
      );
      if (entry !== undefined) await redis.xadd(AUDIT_STREAM, 'MAXLEN', '~', String(AUDIT_STREAM_LENGTH), '*', 'host', hostname(), 'log', this.logPath, 'entry', JSON.stringify(entry));
    });
  }

  /** The last `count` entries of every host, oldest first. */
  async cluster(count: number): Promise<ClusterAuditEntry[]> {
    const rows = await this.with((redis) => redis.xrevrange(AUDIT_STREAM, '+', '-', 'COUNT', count));
    return rows.reverse().map(([, fields]) => {
      const field = (name: string) => fields[fields.indexOf(name) + 1] ?? '';
      return { host: field('host'), log: field('log'), entry: JSON.parse(field('entry')) as AuditEntry };
    });
  }

  async read(): Promise<AuditHead | null> {
    const text = await this.with((redis) => redis.get(this.key));
    return text === null ? null : (JSON.parse(text) as AuditHead);
  }
}
