import { mkdir, readFile, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { ErrorCodes, FaiError } from '../errors/index.ts';
import { writeFileSynced } from '../system/index.ts';

/** Who holds a runbook lock. */
export interface LockOwner {
  readonly pid: number;
  readonly host: string;
  readonly runbook: string;
  readonly startedAt: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A lock file that does not read yet may be one another process created and is still writing: only an older one is stale. */
const UNREADABLE_STALE_AFTER_MS = 5_000;

/**
 * An exclusive lock file (created with O_EXCL) naming its holder. A lock whose process on this host
 * is gone (a run killed mid-way) is detected, removed and taken over, and the taker learns whose it
 * was (`recovered`), to record it. The runbooks' deployment lock and the audit log's append lock are
 * both this class: one way to lock, one way to recover.
 *
 * The deployment lock is per deployment, not per runbook: two runbooks changing the same nginx must
 * not interleave. It fails fast naming the holder; the audit lock waits its turn (`waitMs`).
 */
export class RunbookLock {
  readonly path: string;

  constructor(path: string) {
    this.path = path;
  }

  async acquire(runbook: string, options: { waitMs?: number } = {}): Promise<{ release: () => Promise<void>; recovered: LockOwner | null }> {
    await mkdir(dirname(this.path), { recursive: true });
    let recovered: LockOwner | null = null;
    const deadline = Date.now() + (options.waitMs ?? 0);
    // Waiting for a live holder is bounded by `waitMs`; taking over stale locks, by a count (another run may keep taking them first).
    let recoveries = 0;
    for (;;) {
      try {
        const owner: LockOwner = { pid: process.pid, host: hostname(), runbook, startedAt: new Date().toISOString() };
        await writeFileSynced(this.path, JSON.stringify(owner), 'wx');
        return {
          recovered,
          release: async () => {
            await unlink(this.path).catch(() => undefined);
          },
        };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const holder = await this.holder();
        const held = holder !== null ? holder.host !== hostname() || alive(holder.pid) : !(await this.unreadableAndOld());
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
        if (++recoveries > 20) throw new FaiError(ErrorCodes.RUNBOOK_LOCKED, `could not take ${this.path}: other runs keep taking it first`);
        // The holder is gone (killed mid-run), or the file has not read for a while: recover the lock.
        recovered = holder ?? { pid: 0, host: hostname(), runbook: 'unknown (unreadable lock file)', startedAt: 'unknown' };
        await unlink(this.path).catch(() => undefined);
      }
    }
  }

  async holder(): Promise<LockOwner | null> {
    try {
      return JSON.parse(await readFile(this.path, 'utf8')) as LockOwner;
    } catch {
      return null;
    }
  }

  private async unreadableAndOld(): Promise<boolean> {
    const info = await stat(this.path).catch(() => undefined);
    return info === undefined || Date.now() - info.mtimeMs > UNREADABLE_STALE_AFTER_MS;
  }
}
