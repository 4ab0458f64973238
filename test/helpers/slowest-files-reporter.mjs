// JavaScript, not TypeScript: node's test runner loads a reporter before tsx's loader hooks apply.
/**
 * A node:test reporter that prints, at the end of the run, the ten test files that took longest.
 * `make test` runs it beside the spec reporter. Files run one after another (--test-concurrency=1),
 * so a file's time is from the last event of the file before it to its own last event, by the clock
 * of this process: its subprocess's start, its hooks (servers started and stopped) and its tests.
 */
import { relative } from 'node:path';

/** @param {AsyncIterable<{ type: string, data?: { file?: string, skip?: unknown, todo?: unknown, details?: { type?: string } } }>} source */
export default async function* slowestFiles(source) {
  const started = performance.now();
  /** @type {Map<string, number>} */
  const lastEventAt = new Map();
  const counts = { passed: 0, failed: 0, skipped: 0 };
  for await (const event of source) {
    // Tests, not suites, as the spec reporter's summary counts them.
    if ((event.type === 'test:pass' || event.type === 'test:fail') && event.data?.details?.type !== 'suite') {
      if (event.type === 'test:fail') counts.failed++;
      else if (event.data?.skip || event.data?.todo) counts.skipped++;
      else counts.passed++;
    }
    const file = event.data?.file;
    if (file === undefined || !event.type.startsWith('test:')) continue;
    lastEventAt.set(file, performance.now());
  }
  const took = [];
  let previous = started;
  for (const [file, end] of [...lastEventAt].sort((a, b) => a[1] - b[1])) {
    took.push({ file: relative(process.cwd(), file), seconds: (end - previous) / 1000 });
    previous = end;
  }
  const slowest = took.sort((a, b) => b.seconds - a.seconds).slice(0, 10);
  yield `\nthe ten slowest test files (of ${lastEventAt.size}; ${((previous - started) / 1000).toFixed(0)} s in all):\n`;
  for (const { file, seconds } of slowest) yield `  ${seconds.toFixed(1).padStart(6)} s  ${file}\n`;
  // The run's result again as the last line, so the list does not stand after it.
  yield `\n${counts.passed} passed, ${counts.failed} failed${counts.skipped > 0 ? `, ${counts.skipped} skipped` : ''}\n`;
}
