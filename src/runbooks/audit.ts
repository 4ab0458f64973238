import { createHash } from 'node:crypto';
import { mkdir, readFile, truncate } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileSynced } from '../system/index.ts';
import { RunbookLock } from './lock.ts';

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
  /** Hash of the previous entry ("" for the first). */
  readonly prev: string;
  /** sha-256 of this entry without `hash`, chained through `prev`. */
  readonly hash: string;
}

function digest(entry: Omit<AuditEntry, 'hash'>): string {
  return createHash('sha256').update(JSON.stringify(entry)).digest('hex');
}

type NewEntry = Omit<AuditEntry, 'seq' | 'time' | 'prev' | 'hash'>;

/**
 * The audit log: JSON lines, appended and fsynced, each entry hashing the one before it, so an
 * edited, removed or reordered entry breaks the chain at that line. Only ever appended to, but for
 * cutting off a torn tail (below).
 *
 * Crashes: appends take turns under a RunbookLock (the deployment lock's class), so a lock left by a
 * killed appender is recovered, and the recovery is recorded as an entry. A last line a crash tore
 * (no newline, not JSON) was never acknowledged: the next append cuts it off and records that it did;
 * until then readers skip it and `verify` reports it as torn, not as a broken chain.
 */
export class AuditLog {
  readonly path: string;
  private readonly lock: RunbookLock;

  constructor(path: string) {
    this.path = path;
    this.lock = new RunbookLock(`${path}.lock`);
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
    const entries = lines.filter((line) => line.trim() !== '').map((line) => JSON.parse(line) as AuditEntry);
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
    if (torn !== undefined) {
      await truncate(this.path, Buffer.byteLength(text) - Buffer.byteLength(torn));
      entries = (await this.write(entries, { actor: entry.actor, runbook: entry.runbook, args: {}, plan: [], outcome: 'recovered', detail: `a torn last line (${Buffer.byteLength(torn)} bytes of an entry a crash cut short, never acknowledged) was removed` })).entries;
    }
    return (await this.write(entries, entry)).entry;
  }

  private async write(entries: AuditEntry[], entry: NewEntry): Promise<{ entry: AuditEntry; entries: AuditEntry[] }> {
    const previous = entries.at(-1);
    const body = { seq: (previous?.seq ?? 0) + 1, time: new Date().toISOString(), ...entry, prev: previous?.hash ?? '' };
    const full: AuditEntry = { ...body, hash: digest(body) };
    await writeFileSynced(this.path, `${JSON.stringify(full)}\n`, 'a');
    return { entry: full, entries: [...entries, full] };
  }

  /** null when the chain holds; otherwise the first line that breaks it and why (a torn last line says so). */
  async verify(): Promise<{ line: number; reason: string } | null> {
    const text = await this.text();
    const lines = text.split('\n').filter((line) => line.trim() !== '');
    let prev = '';
    for (let i = 0; i < lines.length; i++) {
      let entry: AuditEntry;
      try {
        entry = JSON.parse(lines[i]!) as AuditEntry;
      } catch {
        if (i === lines.length - 1 && !text.endsWith('\n')) return { line: i + 1, reason: 'torn: a write a crash cut short (never acknowledged); the next entry appended removes it' };
        return { line: i + 1, reason: 'not JSON' };
      }
      const { hash, ...body } = entry;
      if (entry.prev !== prev) return { line: i + 1, reason: 'does not follow the entry before it (removed or reordered entries)' };
      if (digest(body) !== hash) return { line: i + 1, reason: 'its content does not match its hash (edited)' };
      if (entry.seq !== i + 1) return { line: i + 1, reason: `sequence ${entry.seq}, expected ${i + 1}` };
      prev = hash;
    }
    return null;
  }
}
