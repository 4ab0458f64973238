import { mkdir, readFile, unlink } from 'node:fs/promises';
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

/**
 * An exclusive lock file (created with O_EXCL). A second run fails fast naming the holder; a lock
 * whose process on this host is gone (a killed run) is detected, removed and taken over. The lock
 * is per deployment, not per runbook: two runbooks changing the same nginx must not interleave.
 */
export class RunbookLock {
  readonly path: string;

  constructor(path: string) {
    this.path = path;
  }

  async acquire(runbook: string): Promise<{ release: () => Promise<void>; recovered: LockOwner | null }> {
    await mkdir(dirname(this.path), { recursive: true });
    let recovered: LockOwner | null = null;
    for (let attempt = 0; attempt < 2; attempt++) {
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
        if (holder !== null && (holder.host !== hostname() || alive(holder.pid))) {
          throw new FaiError(ErrorCodes.RUNBOOK_LOCKED, `runbook ${holder.runbook} (pid ${holder.pid} on ${holder.host}, since ${holder.startedAt}) holds ${this.path}`, {
            details: holder,
          });
        }
        // The holder is gone (killed mid-run) or the file is unreadable: recover the lock.
        recovered = holder;
        await unlink(this.path).catch(() => undefined);
      }
    }
    throw new FaiError(ErrorCodes.RUNBOOK_LOCKED, `could not take ${this.path}: another run took it first`);
  }

  async holder(): Promise<LockOwner | null> {
    try {
      return JSON.parse(await readFile(this.path, 'utf8')) as LockOwner;
    } catch {
      return null;
    }
  }
}
