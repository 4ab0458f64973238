import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { requireBinary } from './servers.ts';

/** Debian's headless Chromium (package `chromium`), as the page tests open pages. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: requireBinary('chromium', 'chromium'), args: ['--no-sandbox'] });
}

/** Collects what a page reports: console errors and warnings, uncaught errors, and every URL it requests. */
export function watchPage(page: Page): { problems: string[]; requests: string[] } {
  const problems: string[] = [];
  const requests: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') problems.push(`${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('request', (request) => requests.push(request.url()));
  return { problems, requests };
}

/**
 * Registers before/after hooks that launch Chromium and make a temp directory, and close and remove
 * them; returns getters (valid inside tests).
 */
export function useChromium(prefix: string): { browser: () => Browser; dir: () => string } {
  let browser: Browser | undefined;
  let dir: string | undefined;
  before(async () => {
    browser = await launchChromium();
    dir = await mkdtemp(join(tmpdir(), prefix));
  });
  after(async () => {
    await browser?.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });
  return { browser: () => browser!, dir: () => dir! };
}
