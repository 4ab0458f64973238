import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { startTsWorker } from '../../src/system/index.ts';

const niceOf = (statFile: string) => {
  const stat = readFileSync(statFile, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
};

describe('lowerThreadPriority', () => {
  it('lowers only the calling thread (Linux: its own nice value), not the request path', async () => {
    const worker = startTsWorker(new URL('./fixtures/nice-thread.ts', import.meta.url), { nice: 10 });
    const reply = await new Promise<{ set: number | null; nice: number }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    assert.deepEqual(reply, { set: 10, nice: 10 });
    assert.equal(niceOf('/proc/thread-self/stat'), 0, 'the main thread keeps its priority');
  });
});
