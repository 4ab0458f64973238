import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { processCpuMicros, processStart } from '../../src/system/index.ts';

describe("another process's start and CPU time, from /proc", () => {
  it("reads this process's CPU time as process.cpuUsage() does, to /proc's tick (10 ms)", { skip: process.platform !== 'linux' && 'no /proc here' }, () => {
    // Burn some CPU so the two readings are well above a tick.
    const until = process.cpuUsage().user + 50_000;
    while (process.cpuUsage().user < until);
    const own = process.cpuUsage();
    const read = processCpuMicros(process.pid);
    assert.ok(read !== undefined);
    assert.ok(Math.abs(read - (own.user + own.system)) <= 30_000, `/proc ${read} µs, process.cpuUsage() ${own.user + own.system} µs`);
  });

  it('is undefined for a process that is not there', () => {
    const gone = 2 ** 22 + 1; // above Linux's pid limit
    assert.equal(processCpuMicros(gone), undefined);
    assert.equal(processStart(gone), undefined);
  });
});
