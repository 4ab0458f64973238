import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ComparisonLog, type Comparison } from '../../src/shadow/index.ts';

const comparison = (i: number): Comparison => {
  const model = { latencyMs: 1, reward: 10, version: '1.0.0', cid: 'bafk' };
  return { id: `c${String(i).padStart(2, '0')}`, at: '2026-11-28T00:00:00.000Z', stage: 'production', source: 'live', requestId: `r${String(i).padStart(2, '0')}`, briefKey: `b${String(i).padStart(2, '0')}`, first: 'teacher', baseline: 8, production: model, teacher: model, student: model, klDivergence: 0.01, cosineSimilarity: 1, productionCosine: { teacher: 1, student: 1 }, speedup: 1 };
};

describe('comparison log', () => {
  it('rotates by size, keeps the newest files, reads them back oldest first', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fai-shadow-log-'));
    const line = JSON.stringify(comparison(0)).length + 1;
    const log = new ComparisonLog(dir, { maxBytes: line * 4, keep: 2 });
    // Appends issued together still land whole and in order.
    await Promise.all(Array.from({ length: 20 }, (_, i) => log.append(comparison(i))));
    assert.deepEqual((await readdir(dir)).sort(), ['comparisons.1.jsonl', 'comparisons.2.jsonl', 'comparisons.jsonl']);
    const { comparisons, skipped } = await log.readAll();
    assert.equal(skipped, 0);
    // 20 lines, 4 a file: the current file and two rotated ones hold the last 12.
    assert.deepEqual(comparisons.map((c) => c.id), Array.from({ length: 12 }, (_, i) => `c${String(i + 8).padStart(2, '0')}`));
  });

  it('skips a torn last line (a crash mid-write) and lines that are not comparisons, and counts them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fai-shadow-log-'));
    const log = new ComparisonLog(dir);
    await log.append(comparison(1));
    await appendFile(log.file, '{"id":"c02","at":"2026\n{"not":"a comparison"}\n');
    await log.append(comparison(3));
    const { comparisons, skipped } = await log.readAll();
    assert.deepEqual(comparisons.map((c) => c.id), ['c01', 'c03']);
    assert.equal(skipped, 2);
  });
});
