import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LocalBackend, parseDeployment } from '../../src/runbooks/index.ts';
import { processStart } from '../../src/system/index.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fai-backend-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the local backend', () => {
  it('never signals a process that got a stale pidfile\'s pid: the pid and its start time must both match', async () => {
    const deployment = parseDeployment({ stateDir: dir, pinsFile: join(dir, 'pins.json'), processes: [{ name: 'worker-1', role: 'worker', command: ['true'] }] }, dir);
    const backend = new LocalBackend(deployment);
    // An unrelated process now holds the pid the pidfile names (as after a reboot): its start differs.
    const unrelated = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { detached: true, stdio: 'ignore' });
    try {
      await new Promise((resolve) => unrelated.once('spawn', resolve));
      await mkdir(join(dir, 'pids'), { recursive: true });
      await writeFile(join(dir, 'pids', 'worker-1.pid'), `${unrelated.pid}\nanother-boot:12345\n`);
      assert.deepEqual((await backend.status()).map((s) => [s.name, s.running]), [['worker-1', false]], 'not taken for the worker');
      await backend.stop('worker-1');
      assert.doesNotThrow(() => process.kill(unrelated.pid!, 0), 'the unrelated process was not signalled');
      // The pidfile as the backend writes it (pid and start): that process is the worker.
      await writeFile(join(dir, 'pids', 'worker-1.pid'), `${unrelated.pid}\n${processStart(unrelated.pid!)}\n`);
      assert.deepEqual((await backend.status()).map((s) => s.pid), [unrelated.pid]);
    } finally {
      unrelated.kill('SIGKILL');
    }
  });
});
