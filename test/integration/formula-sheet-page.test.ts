import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { useChromium, watchPage } from '../helpers/browser.ts';
import { runFai } from '../helpers/cli.ts';

/** `fai formulate --html` on the shipped models, the page opened in a real headless Chromium. */
const chromium = useChromium('fai-sheet-page-');

describe('the formula sheet page in headless Chromium', () => {
  it('draws the pyramid with its three tiers and lists every line of the formula the command printed', async () => {
    const file = join(chromium.dir(), 'sheet.html');
    const result = await runFai(['formulate', '장미와 라벤더, 로맨틱한 여성 향수', '--html', file, '--json'], { HUB_DIR: join(chromium.dir(), 'hub') });
    assert.equal(result.code, 0, result.stderr);
    const served = JSON.parse(result.stdout);
    const page = await chromium.browser().newPage({ viewport: { width: 1000, height: 1400 } });
    const { problems, requests } = watchPage(page);
    await page.goto(pathToFileURL(file).href);
    const tiers: Array<{ position: string; text: string; width: number }> = await page.evaluate(
      `[...document.querySelectorAll('#pyramid .tier')].map((g) => ({ position: g.dataset.position, text: g.textContent, width: g.getBoundingClientRect().width }))`,
    );
    assert.deepEqual(tiers.map((t) => t.position), ['top', 'heart', 'base']);
    for (const tier of tiers) assert.ok(tier.width > 50, `${tier.position} drawn ${tier.width}px wide`);
    assert.match(tiers[1]!.text, new RegExp(`heart ${served.sheet.pyramid.heart.toFixed(1)} %`));
    const rows: string[][] = await page.evaluate(`[...document.querySelectorAll('#formula tbody tr')].map((tr) => [...tr.cells].map((td) => td.textContent))`);
    assert.deepEqual(rows.map((r) => r[0]), served.formula.map((l: { material: string }) => l.material));
    assert.deepEqual(rows.map((r) => Number(r[1])), served.formula.map((l: { concentrationPct: number }) => l.concentrationPct));
    assert.ok(served.formula.some((l: { material: string }) => /lavender/i.test(l.material)), 'the named lavender is in the formula');
    const screenshot = await page.screenshot({ fullPage: true });
    assert.ok(screenshot.length > 20_000, `screenshot of ${screenshot.length} bytes`);
    assert.deepEqual(problems, []);
    assert.deepEqual(requests, [pathToFileURL(file).href], 'self-contained: nothing fetched');
    assert.match(await readFile(file, 'utf8'), /<svg id="pyramid"/);
  });
});
