import { createHash, randomBytes, randomInt } from 'node:crypto';
import { chmod, link, mkdir, open, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { ErrorCodes, FaiError } from '../errors/index.ts';
import { writeFileSynced } from './atomic-file.ts';
import { isSameProcess, processStart } from './process-identity.ts';

/** Who holds a runbook lock. */
export interface LockOwner {
  readonly pid: number;
  readonly host: string;
  readonly runbook: string;
  readonly startedAt: string;
  /** The holder process's start (boot id and start ticks): a later process with the same pid is not the holder. */
  readonly processStart?: string;
  /** Tells this taking of the lock from every other (release removes the file only while it is still this one). */
  readonly nonce?: string;
}

/** A lock file that does not read yet may be one another process created and is still writing: only an older one is stale. */
const UNREADABLE_STALE_AFTER_MS = 5_000;

/** What a lock file held when it was read: its text and inode, which tell one taking of the lock from the next. */
interface Seen {
  readonly text: string;
  readonly ino: number;
  readonly mtimeMs: number;
}

function identity(seen: Seen): string {
  return `${seen.ino}-${createHash('sha256').update(seen.text).digest('hex').slice(0, 16)}`;
}

/**
 * An exclusive lock file (created with O_EXCL) naming its holder. A lock whose process on this host
 * is gone (a run killed mid-way) is detected and taken over, and the taker learns whose it was
 * (`recovered`), to record it. The runbooks' deployment lock, the audit log's append lock and the
 * remediation decision locks are all this class: one way to lock, one way to recover.
 *
 * Taking over is atomic. Reading the dead holder and unlinking its file are two steps, and between
 * them another caller may have taken the lock: an unlink then removes a live lock. So the right to
 * remove one dead lock file is itself taken with O_EXCL — a marker file named after that file's
 * identity (inode and content) — and the winner reads the file again before it unlinks it. Only the
 * marker's winner removes that file, so it is still the dead holder's between the check and the
 * unlink. A marker whose creator died too is passed over by creating the next generation's marker.
 * Node has no flock(2), and a library for it would be a native addon: hence this.
 *
 * The deployment lock is per deployment, not per runbook: two runbooks changing the same nginx must
 * not interleave. It fails fast naming the holder; the audit lock waits its turn (`waitMs`).
 */
export class FileLock {
  readonly path: string;
  private readonly durable: boolean;

  /**
   * `durable: false` skips the fsync of the lock file: for short locks around work that is itself
   * durable (a hub record's read-modify-write). After a power cut such a lock is absent, or present
   * and recovered like any lock of a dead holder (an unreadable one after 5 s).
   */
  constructor(path: string, options: { durable?: boolean } = {}) {
    this.path = path;
    this.durable = options.durable ?? true;
  }

  async acquire(runbook: string, options: { waitMs?: number } = {}): Promise<{ release: () => Promise<void>; recovered: LockOwner | null }> {
    await mkdir(dirname(this.path), { recursive: true });
    let recovered: LockOwner | null = null;
    const deadline = Date.now() + (options.waitMs ?? 0);
    // Waiting for a live holder is bounded by `waitMs`; taking over stale locks, by a count (another run may keep taking them first).
    let recoveries = 0;
    for (;;) {
      const nonce = randomBytes(8).toString('hex');
      try {
        const owner: LockOwner = { pid: process.pid, host: hostname(), runbook, startedAt: new Date().toISOString(), nonce, ...withStart(process.pid) };
        await this.create(JSON.stringify(owner), nonce);
        return { recovered, release: () => this.release(nonce) };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const seen = await this.read();
        if (seen === null) continue; // released between our create and our read: try again
        const holder = parseOwner(seen.text);
        const held = holder !== null ? !dead(holder) : Date.now() - seen.mtimeMs <= UNREADABLE_STALE_AFTER_MS;
        if (held) {
          if (Date.now() < deadline) {
            await new Promise((resolve) => setTimeout(resolve, 10));
            continue;
          }
          if (holder === null) throw new FaiError(ErrorCodes.RUNBOOK_LOCKED, `${this.path} is being taken by another run`);
          throw new FaiError(ErrorCodes.RUNBOOK_LOCKED, `runbook ${holder.runbook} (pid ${holder.pid} on ${holder.host}, since ${holder.startedAt}) holds ${this.path}`, {
            details: holder,
          });
        }
        if (++recoveries > 50) throw new FaiError(ErrorCodes.RUNBOOK_LOCKED, `could not take ${this.path}: other runs keep taking it first`);
        // The holder is gone (killed mid-run), or the file has not read for a while: remove that file, atomically.
        if (await this.removeDead(seen)) recovered = holder ?? { pid: 0, host: hostname(), runbook: 'unknown (unreadable lock file)', startedAt: 'unknown' };
        // A few ms of jitter, so the callers that lost the takeover do not retry in step.
        else await new Promise((resolve) => setTimeout(resolve, randomInt(1, 6)));
      }
    }
  }

  /**
   * Creates the lock file whole: the owner is written to a file of our own, then hard-linked to the
   * lock's name (link fails with EEXIST when the lock exists, as O_EXCL would). A holder killed at any
   * point leaves either no lock or a complete one naming it — never an empty file nobody can judge.
   */
  private create(text: string, nonce: string): Promise<void> {
    return createWhole(this.path, text, `${this.path}.${nonce}.tmp`, this.durable);
  }

  async holder(): Promise<LockOwner | null> {
    const seen = await this.read();
    return seen === null ? null : parseOwner(seen.text);
  }

  /** The lock file's text and inode, from one open file (never one file's text with another's inode). */
  private async read(): Promise<Seen | null> {
    try {
      const handle = await open(this.path, 'r');
      try {
        const info = await handle.stat();
        return { text: await handle.readFile('utf8'), ino: info.ino, mtimeMs: info.mtimeMs };
      } finally {
        await handle.close();
      }
    } catch {
      return null;
    }
  }

  /**
   * Removes the lock file `seen` read, only if it is still that file: the caller that creates the
   * marker for it (O_EXCL) has the sole right. Resolves true when this caller removed it.
   */
  private async removeDead(seen: Seen): Promise<boolean> {
    const id = identity(seen);
    for (let generation = 1; generation <= 8; generation++) {
      const marker = `${this.path}.takeover-${id}-${generation}`;
      try {
        await this.createMarker(marker);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        // Another caller is taking this file over. If it died doing so, the next generation's marker is free to take.
        const text = await readFile(marker, 'utf8').catch(() => null);
        const info = await stat(marker).catch(() => null);
        const taker = text === null ? null : parseOwner(text);
        const gone = taker !== null ? dead(taker) : info !== null && Date.now() - info.mtimeMs > UNREADABLE_STALE_AFTER_MS;
        if (gone) continue;
        return false;
      }
      try {
        const now = await this.read();
        // Still the dead holder's file (no one else may remove it while our marker stands): remove it.
        const still = now !== null && identity(now) === id;
        if (still) await unlink(this.path).catch(() => undefined);
        return still;
      } finally {
        // Markers of earlier generations were left by takers that died; ours has done its work.
        for (let g = generation; g >= 1; g--) await unlink(`${this.path}.takeover-${id}-${g}`).catch(() => undefined);
      }
    }
    return false;
  }

  private createMarker(marker: string): Promise<void> {
    return createWhole(marker, JSON.stringify({ pid: process.pid, host: hostname(), ...withStart(process.pid) }), `${marker}.${randomBytes(4).toString('hex')}.tmp`, true);
  }

  /** Removes the lock file only while it is still this taking's (a lock wrongly taken over is not removed under its new holder). */
  private async release(nonce: string): Promise<void> {
    const seen = await this.read();
    if (seen === null || parseOwner(seen.text)?.nonce !== nonce) return;
    await unlink(this.path).catch(() => undefined);
  }
}

/**
 * Creates `path` with `text` whole, or fails with EEXIST when it exists: the text goes to
 * `temporary` (fsynced when `durable`, given `mode` when set), which is hard-linked to `path` and
 * then removed. A reader never sees the file empty or half-written, nor with another mode.
 */
export async function createWhole(path: string, text: string, temporary: string, durable: boolean, mode?: number): Promise<void> {
  if (durable) await writeFileSynced(temporary, text, 'wx');
  else await writeFile(temporary, text, { flag: 'wx' });
  try {
    if (mode !== undefined) await chmod(temporary, mode);
    await link(temporary, path);
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
}

function withStart(pid: number): { processStart?: string } {
  const start = processStart(pid);
  return start === undefined ? {} : { processStart: start };
}

function parseOwner(text: string): LockOwner | null {
  try {
    const owner = JSON.parse(text) as LockOwner;
    return typeof owner === 'object' && owner !== null && typeof owner.pid === 'number' ? owner : null;
  } catch {
    return null;
  }
}

/** A holder on this host whose process is gone, or is a later process with its pid. A holder on another host is never judged dead from here. */
function dead(owner: { pid: number; host?: string; processStart?: string }): boolean {
  if (owner.host !== undefined && owner.host !== hostname()) return false;
  return !isSameProcess(owner.pid, owner.processStart);
}

/**
 * Work on one key at a time: in this process by a promise chain per key (no lock-file polling
 * between our own callers), across processes by a FileLock per key (`lockPath(key)`). The hub's
 * per-record changes and the remediation decisions per runbook both go through this.
 */
export class KeyedFileLocks {
  private readonly turns = new Map<string, Promise<unknown>>();
  private readonly lockPath: (key: string) => string;
  private readonly options: { durable?: boolean; waitMs: number; what: string };

  constructor(lockPath: (key: string) => string, options: { durable?: boolean; waitMs: number; what: string }) {
    this.lockPath = lockPath;
    this.options = options;
  }

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const before = this.turns.get(key) ?? Promise.resolve();
    const turn = before.then(async () => {
      const held = await new FileLock(this.lockPath(key), { durable: this.options.durable ?? true }).acquire(`${this.options.what} ${key}`, { waitMs: this.options.waitMs });
      try {
        return await work();
      } finally {
        await held.release();
      }
    });
    const settled = turn.catch(() => undefined);
    this.turns.set(key, settled);
    void settled.then(() => {
      if (this.turns.get(key) === settled) this.turns.delete(key);
    });
    return turn;
  }
}
