import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { Random } from '../../src/learning/index.ts';
import { buildReport, writeReports, type Comparison } from '../../src/shadow/index.ts';
import { useChromium, watchPage } from '../helpers/browser.ts';

/** The HTML report opened in a real headless Chromium (Debian package `chromium`), as a person would open it. */
const chromium = useChromium('fai-shadow-page-');

function comparisons(n: number): Comparison[] {
  const random = new Random(4);
  return Array.from({ length: n }, (_, i) => {
    const t = 15 + 8 * random.next();
    const tMs = 1.5 + random.next();
    const sMs = 0.25 + 0.1 * random.next();
    const model = (latencyMs: number, reward: number) => ({ latencyMs, reward, version: '1.0.0', cid: 'bafk' });
    return {
      id: `c${i}`,
      at: '2026-11-28T00:00:00.000Z',
      stage: 'staging' as const,
      source: 'offline' as const,
      briefKey: `brief-${i}`,
      first: i % 2 === 0 ? ('teacher' as const) : ('student' as const),
      baseline: t - 6 - 2 * random.next(),
      production: model(tMs * 0.9, t),
      teacher: model(tMs, t),
      student: model(sMs, t * 0.97 + (random.next() - 0.5)),
      klDivergence: 0.02 * random.next(),
      cosineSimilarity: 0.8 + 0.2 * random.next(),
      productionCosine: { teacher: 1, student: 0.9 },
      speedup: tMs / sMs,
    };
  });
}

describe('the shadow report page in headless Chromium', () => {
  it('renders all four charts with no console error and no request leaving the page', async () => {
    const report = buildReport(comparisons(60));
    const files = await writeReports(report, chromium.dir());
    assert.deepEqual(JSON.parse(await readFile(files.json, 'utf8')), report);
    const page = await chromium.browser().newPage({ viewport: { width: 1280, height: 1400 } });
    const { problems, requests } = watchPage(page);
    await page.goto(pathToFileURL(files.html).href);
    await page.waitForFunction('window.__chartsRendered === 4', undefined, { timeout: 10_000 });
    // Every canvas has drawn something: pixels that are not transparent, in more than one colour.
    // (Run in the page: a string, so this file needs no DOM types.)
    const canvases: Array<{ id: string; painted: number; colours: number }> = await page.evaluate(`[...document.querySelectorAll('canvas')].map((canvas) => {
      const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      let painted = 0;
      const colours = new Set();
      for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3] > 0) {
          painted++;
          colours.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
        }
      }
      return { id: canvas.id, painted, colours: colours.size };
    })`);
    assert.deepEqual(canvases.map((c) => c.id), ['latency', 'rewards', 'kl', 'intervals']);
    for (const canvas of canvases) assert.ok(canvas.painted > 2_000 && canvas.colours > 3, `${canvas.id}: ${canvas.painted} painted pixels in ${canvas.colours} colours`);
    const screenshot = await page.screenshot({ fullPage: true });
    assert.ok(screenshot.length > 40_000, `screenshot of ${screenshot.length} bytes`);
    assert.deepEqual(problems, []);
    assert.deepEqual(requests.filter((url) => !url.startsWith('file:')), [], 'self-contained: nothing fetched');
    assert.match(await page.textContent('.verdict') ?? '', /non-inferiority|Yes|Not shown/);
  });
});
