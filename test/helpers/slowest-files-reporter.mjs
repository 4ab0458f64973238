// JavaScript, not TypeScript: node's test runner loads a reporter before tsx's loader hooks apply.
/**
 * A node:test reporter that prints, at the end of the run, the ten test files that took longest.
 * `make test` runs it beside the spec reporter. Files run side by side (--test-concurrency=2), each
 * in its own process: a file's time is from its dequeue (its process starts) to its completion, the
 * runner's file-level events (their name is the file's path), by the clock of this process — its
 * subprocess's start, its hooks (servers started and stopped) and its tests.
 */
import { relative } from 'node:path';

/** @param {AsyncIterable<{ type: string, data?: { file?: string, skip?: unknown, todo?: unknown, details?: { type?: string } } }>} source */
export default async function* slowestFiles(source) {
  const started = performance.now();
  /** @type {Map<string, number>} */
  const startedAt = new Map();
  /** @type {Map<string, number>} */
  const endedAt = new Map();
  const counts = { passed: 0, failed: 0, skipped: 0 };
  for await (const event of source) {
    // Tests, not suites, as the spec reporter's summary counts them.
    if ((event.type === 'test:pass' || event.type === 'test:fail') && event.data?.details?.type !== 'suite') {
      if (event.type === 'test:fail') counts.failed++;
      else if (event.data?.skip || event.data?.todo) counts.skipped++;
      else counts.passed++;
    }
    const file = event.data?.file;
    // The file itself: the runner names its file-level events after the file's path.
    if (file === undefined || event.data?.name !== file) continue;
    if (event.type === 'test:dequeue' && !startedAt.has(file)) startedAt.set(file, performance.now());
    else if (event.type === 'test:complete') endedAt.set(file, performance.now());
  }
  const finished = performance.now();
  const took = [];
  for (const [file, end] of endedAt) took.push({ file: relative(process.cwd(), file), seconds: (end - (startedAt.get(file) ?? started)) / 1000 });
  const slowest = took.sort((a, b) => b.seconds - a.seconds).slice(0, 10);
  yield `\nthe ten slowest test files (of ${endedAt.size}, two at a time; ${((finished - started) / 1000).toFixed(0)} s in all):\n`;
  for (const { file, seconds } of slowest) yield `  ${seconds.toFixed(1).padStart(6)} s  ${file}\n`;
  // The run's result again as the last line, so the list does not stand after it.
  yield `\n${counts.passed} passed, ${counts.failed} failed${counts.skipped > 0 ? `, ${counts.skipped} skipped` : ''}\n`;
}
