import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FileLock } from '../../src/system/index.ts';
import { raceForDeadLock } from '../helpers/lock-race.ts';

let dir: string;
/** The pid of a process that has ended: a lock file naming it was left by a run killed mid-way. */
let deadPid: number;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fai-lock-'));
  deadPid = spawnSync(process.execPath, ['-e', '']).pid!;
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('FileLock', () => {
  it('takes over a stale lock atomically: 200 trials of 4 callers racing for a dead holder\'s lock give 0 double holders', async () => {
    let doubles = 0;
    let recoveries = 0;
    for (let trial = 0; trial < 200; trial++) {
      const { most, recoveries: recovered } = await raceForDeadLock(join(dir, `race-${trial}.lock`), deadPid);
      recoveries += recovered;
      if (most > 1) doubles++;
    }
    assert.equal(doubles, 0, 'no trial had two holders at once');
    assert.equal(recoveries, 200, 'the dead holder\'s lock was recovered exactly once per trial');
    assert.deepEqual((await readdir(dir)).filter((f) => f.includes('takeover')), [], 'no takeover marker left behind');
  });

  it('does not take over a lock whose holder is alive, nor one a later process with the dead holder\'s pid holds (start time differs)', async () => {
    const path = join(dir, 'alive.lock');
    const held = await new FileLock(path).acquire('holder');
    await assert.rejects(new FileLock(path).acquire('other'), /holds/);
    await held.release();
    // Our own pid, but a start that is not ours: the pid was reused, the holder is gone.
    await writeFile(path, JSON.stringify({ pid: process.pid, host: hostname(), runbook: 'before the reboot', startedAt: '2026-01-01T00:00:00Z', processStart: 'another-boot:123' }));
    const taken = await new FileLock(path).acquire('after');
    assert.equal(taken.recovered?.runbook, 'before the reboot');
    await taken.release();
  });

  it('a release removes only its own taking of the lock', async () => {
    const path = join(dir, 'own.lock');
    const first = await new FileLock(path).acquire('first');
    // Its file replaced (as a wrong takeover would): first's release must not remove the new holder's lock.
    await rm(path);
    const second = await new FileLock(path).acquire('second');
    await first.release();
    assert.equal((await new FileLock(path).holder())?.runbook, 'second');
    await second.release();
    assert.equal(await new FileLock(path).holder(), null);
  });
});
