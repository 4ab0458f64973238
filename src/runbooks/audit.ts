import { createHash } from 'node:crypto';
import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileSynced } from '../system/index.ts';

/** One audited run: who ran what with which plan, and how it ended. */
export interface AuditEntry {
  readonly seq: number;
  readonly time: string;
  readonly actor: string;
  readonly runbook: string;
  readonly args: Readonly<Record<string, unknown>>;
  readonly plan: readonly string[];
  readonly outcome: 'planned' | 'refused' | 'verified' | 'undone' | 'failed';
  readonly detail: string;
  /** Hash of the previous entry ("" for the first). */
  readonly prev: string;
  /** sha-256 of this entry without `hash`, chained through `prev`. */
  readonly hash: string;
}

function digest(entry: Omit<AuditEntry, 'hash'>): string {
  return createHash('sha256').update(JSON.stringify(entry)).digest('hex');
}

/**
 * The audit log: JSON lines, appended and fsynced, each entry hashing the one before it, so an
 * edited, removed or reordered entry breaks the chain at that line. Append-only by construction
 * (the file is only opened for appending).
 */
export class AuditLog {
  readonly path: string;

  constructor(path: string) {
    this.path = path;
  }

  async entries(): Promise<AuditEntry[]> {
    const text = await readFile(this.path, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return '';
      throw error;
    });
    return text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as AuditEntry);
  }

  async append(entry: Omit<AuditEntry, 'seq' | 'time' | 'prev' | 'hash'>): Promise<AuditEntry> {
    await mkdir(dirname(this.path), { recursive: true });
    // Appends from concurrent processes (a refused run beside the running one) take turns, or two
    // entries would claim the same predecessor.
    const lock = `${this.path}.lock`;
    for (let waited = 0; ; waited += 10) {
      try {
        await (await open(lock, 'wx')).close();
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || waited > 5_000) throw error;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
    try {
      return await this.appendLocked(entry);
    } finally {
      await unlink(lock).catch(() => undefined);
    }
  }

  private async appendLocked(entry: Omit<AuditEntry, 'seq' | 'time' | 'prev' | 'hash'>): Promise<AuditEntry> {
    const previous = (await this.entries()).at(-1);
    const body = { seq: (previous?.seq ?? 0) + 1, time: new Date().toISOString(), ...entry, prev: previous?.hash ?? '' };
    const full: AuditEntry = { ...body, hash: digest(body) };
    await writeFileSynced(this.path, `${JSON.stringify(full)}\n`, 'a');
    return full;
  }

  /** null when the chain holds; otherwise the first line that breaks it and why. */
  async verify(): Promise<{ line: number; reason: string } | null> {
    let lines: string[];
    try {
      lines = (await readFile(this.path, 'utf8')).split('\n').filter((line) => line.trim() !== '');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    let prev = '';
    for (let i = 0; i < lines.length; i++) {
      let entry: AuditEntry;
      try {
        entry = JSON.parse(lines[i]!) as AuditEntry;
      } catch {
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
