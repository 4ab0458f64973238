import { writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { FileLock } from '../../src/system/index.ts';

/**
 * One trial of the stale-lock race: a lock file left by `deadPid` (a run killed mid-way), and
 * `racers` callers taking it at once, each holding it for a few ms. Resolves with the most holders
 * seen at one moment (1 when the takeover is atomic) and how many callers recovered the dead lock.
 */
export async function raceForDeadLock(path: string, deadPid: number, options: { racers?: number; waitMs?: number; label?: string } = {}): Promise<{ most: number; recoveries: number }> {
  await writeFile(path, JSON.stringify({ pid: deadPid, host: hostname(), runbook: 'killed run', startedAt: new Date().toISOString() }));
  let inside = 0;
  let most = 0;
  let recoveries = 0;
  await Promise.all(
    Array.from({ length: options.racers ?? 4 }, async () => {
      const held = await new FileLock(path).acquire(options.label ?? 'racer', { waitMs: options.waitMs ?? 5_000 });
      if (held.recovered !== null) recoveries++;
      most = Math.max(most, ++inside);
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 3));
      inside--;
      await held.release();
    }),
  );
  return { most, recoveries };
}
