import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { histogramQuantile } from '../../src/ops/index.ts';

const b = (pairs: Array<[number, number]>) => pairs.map(([le, count]) => ({ le, count }));

describe('histogramQuantile (Prometheus semantics)', () => {
  it('interpolates linearly inside the bucket that holds the rank', () => {
    // 100 observations: 50 ≤ 1000, 90 ≤ 2000, 100 ≤ 3000. p95 rank 95 lies halfway into (2000, 3000].
    assert.equal(histogramQuantile(0.95, b([[1000, 50], [2000, 90], [3000, 100], [Infinity, 100]])), 2500);
    assert.equal(histogramQuantile(0.5, b([[1000, 50], [2000, 90], [3000, 100], [Infinity, 100]])), 1000);
  });

  it('starts the lowest bucket at 0', () => {
    assert.equal(histogramQuantile(0.5, b([[10, 4], [Infinity, 4]])), 5);
  });

  it('answers the highest finite edge when the rank falls in +Inf', () => {
    assert.equal(histogramQuantile(0.99, b([[1, 1], [2, 2], [Infinity, 10]])), 2);
  });

  it('answers null for an empty histogram and rejects malformed input', () => {
    assert.equal(histogramQuantile(0.95, b([[1, 0], [Infinity, 0]])), null);
    assert.throws(() => histogramQuantile(1.5, b([[Infinity, 1]])), RangeError);
    assert.throws(() => histogramQuantile(0.5, b([[1, 1]])), /\+Inf/);
  });
});
