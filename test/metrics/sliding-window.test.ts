import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { catalogue, createMetrics, readSamples, SlidingWindow } from '../../src/metrics/index.ts';

describe('SlidingWindow', () => {
  it('counts events inside the window and forgets them once it has passed', () => {
    let now = 10_000_000;
    const window = new SlidingWindow(60, () => now);
    window.add('a', { k: 'a' }, 5);
    now += 30_000;
    window.add('a', { k: 'a' }, 3);
    assert.equal(window.sum('a'), 8);
    now += 31_000; // the first 5 are now 61 s old
    assert.equal(window.sum('a'), 3);
    now += 30_000;
    assert.equal(window.sum('a'), 0);
    assert.equal(window.sum('never-seen'), 0);
  });

  it('reports the time it covers: less than the window right after start, never less than one slot', () => {
    let now = 5_000_000;
    const window = new SlidingWindow(300, () => now);
    assert.equal(window.coveredSeconds(), 5, 'one 5 s slot');
    now += 100_000;
    assert.equal(window.coveredSeconds(), 100);
    now += 1_000_000;
    assert.equal(window.coveredSeconds(), 300);
  });

  it('survives a long idle gap (every slot is stale, not double counted)', () => {
    let now = 0;
    const window = new SlidingWindow(60, () => now);
    for (let second = 0; second < 60; second++) {
      now = second * 1000;
      window.add('k', {}, 1);
    }
    assert.equal(window.sum('k'), 60);
    now += 3_600_000;
    window.add('k', {}, 1);
    assert.equal(window.sum('k'), 1);
  });

  it('rejects a nonsensical window', () => {
    assert.throws(() => new SlidingWindow(0), RangeError);
    assert.throws(() => new SlidingWindow(60, Date.now, 0), RangeError);
  });
});

describe('sliding-window gauges at scrape time', () => {
  it('drop back to 0 (rate) or disappear (ratio) when the window empties', async () => {
    let now = 50_000_000;
    const metrics = createMetrics({ defaultMetrics: false, now: () => now });
    now += 120_000;
    metrics.ipfsOperationsTotal.inc({ operation: 'store' }, 30);
    metrics.systemOperationsTotal.inc({ component: 'llm' }, 10);
    metrics.systemErrorsTotal.inc({ component: 'llm', error_type: 'server_error' }, 1);
    const value = async (key: 'ipfsStoreRate' | 'ipfsOperationsTotal') => (await readSamples(metrics.registry, catalogue[key]))[0]?.value;
    const errorRates = async () => readSamples(metrics.registry, catalogue.systemErrorRate);
    assert.equal(await value('ipfsStoreRate'), 0.5);
    assert.equal((await errorRates()).find((s) => s.labels.error_type === 'server_error')?.value, 0.1);
    now += 600_000;
    assert.equal(await value('ipfsStoreRate'), 0, 'no operations: 0 ops/s');
    assert.deepEqual(await errorRates(), [], 'no operations: ratio undefined, absent');
    assert.equal(await value('ipfsOperationsTotal'), 30, 'the counter keeps its total');
  });
});
