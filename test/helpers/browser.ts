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
