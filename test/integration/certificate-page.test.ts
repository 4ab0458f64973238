import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { certificateHtml, ifraCertificate, loadSourceTitles, RegulatoryCatalogue } from '../../src/regulation/index.ts';
import { useChromium, watchPage } from '../helpers/browser.ts';

/** The IFRA certificate page opened and printed to PDF in a real headless Chromium (Debian package `chromium`). */
const chromium = useChromium('fai-certificate-page-');

describe('the IFRA certificate page in headless Chromium', () => {
  it('shows the name, date, amendment, 18 categories and the sources, fits A4, and prints to one or two A4 pages', async () => {
    const example = JSON.parse(await readFile(new URL('../../examples/edp-fresh-citrus.json', import.meta.url), 'utf8'));
    const certificate = ifraCertificate(RegulatoryCatalogue.load(), { formula: example.formula, name: 'EDP <Fresh> Citrus', date: new Date('2026-12-03T00:00:00Z') });
    const file = join(chromium.dir(), 'certificate.html');
    await writeFile(file, certificateHtml(certificate, loadSourceTitles()));
    const page = await chromium.browser().newPage();
    const { problems, requests } = watchPage(page);
    await page.goto(pathToFileURL(file).href);
    assert.equal(await page.textContent('#name'), 'EDP <Fresh> Citrus', 'the name is shown as text, escaped');
    assert.equal(await page.textContent('#date'), '2026-12-03');
    assert.equal(await page.textContent('#amendment'), '51st Amendment');
    const rows: string[][] = await page.evaluate(`[...document.querySelectorAll('#categories tbody tr')].map((tr) => [...tr.cells].map((td) => td.textContent))`);
    assert.equal(rows.length, 18);
    assert.deepEqual(rows.find((r) => r[0] === '4')!.slice(2), ['3.174 %', 'Furocoumarin-containing oils (phototoxicity sum rule)']);
    assert.deepEqual(rows.find((r) => r[0] === '12')!.slice(2), ['100 %', 'nothing in the formula']);
    const body = (await page.textContent('body'))!;
    assert.match(body, /IFRA51_OVW_SMX — "IFRA 51st Amendment – IFRA Standards overview"/);
    assert.match(body, /peroxide value < 20 mmol\/L/);
    // Printed: A4, no content wider than the printable width, one or two pages.
    await page.emulateMedia({ media: 'print' });
    const overflow: number = await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    assert.ok(overflow <= 0, `content wider than the page by ${overflow}px`);
    const pdf = await page.pdf({ format: 'A4', preferCSSPageSize: true });
    const pages = (pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g) ?? []).length;
    assert.ok(pages >= 1 && pages <= 2, `${pages} pages`);
    const box = /\/MediaBox\s*\[0 0 ([\d.]+) ([\d.]+)\]/.exec(pdf.toString('latin1'));
    assert.ok(box !== null, 'the PDF names its page size');
    assert.deepEqual([Math.round(Number(box[1])), Math.round(Number(box[2]))], [595, 842], 'A4 is 595 × 842 pt');
    assert.deepEqual(problems, []);
    assert.deepEqual(requests, [pathToFileURL(file).href], 'no request leaves the page');
  });
});
