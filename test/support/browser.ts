/**
 * Headless Chromium for the dashboard tests: Debian's /usr/bin/chromium driven by
 * playwright-core (never a downloaded browser). Records the body of every API answer the
 * page receives, so a test can prove a secret never came back to the browser.
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.SLIPWAY_CHROMIUM ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/** Where screenshots and measurements go (committed copies live in docs/screenshots/). */
export function testOutputDir(name: string): string {
  const dir = path.resolve(import.meta.dirname, '../../test-output', name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

export interface RecordedAnswer {
  url: string;
  status: number;
  body: string;
}

export interface BrowserSession {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** Every /api/ answer the page received so far (streams excluded: their items are checked in the DOM). */
  answers: RecordedAnswer[];
  /** Console errors and uncaught exceptions of the page: a test fails on any. */
  pageErrors: string[];
  close(): Promise<void>;
}

export async function openBrowser(baseUrl: string, viewport = { width: 1280, height: 900 }): Promise<BrowserSession> {
  if (!existsSync(CHROMIUM)) throw new Error(`no browser at ${CHROMIUM}: apt-get install chromium (npm test installs it)`);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  const context = await browser.newContext({ baseURL: baseUrl, viewport });
  const page = await context.newPage();
  const answers: RecordedAnswer[] = [];
  const pageErrors: string[] = [];
  const pending: Promise<void>[] = [];
  page.on('response', (res) => {
    if (!new URL(res.url()).pathname.startsWith('/api/')) return;
    if ((res.headers()['content-type'] ?? '').includes('text/event-stream')) return;
    pending.push(
      res
        .text()
        .then((body) => void answers.push({ url: res.url(), status: res.status(), body }))
        .catch(() => undefined),
    );
  });
  page.on('pageerror', (err) => pageErrors.push(`uncaught: ${err.message}`));
  page.on('console', (msg) => {
    // A refused call the test makes on purpose (CSRF) is logged by Chromium as a failed resource.
    if (msg.type() === 'error' && !/Failed to load resource/.test(msg.text())) pageErrors.push(msg.text());
  });
  return {
    browser,
    context,
    page,
    answers,
    pageErrors,
    async close() {
      await Promise.allSettled(pending);
      await browser.close();
    },
  };
}
