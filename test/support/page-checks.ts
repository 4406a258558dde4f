/// <reference lib="dom" />
/**
 * What the dashboard's browser tests share: signing in, and failures that say what the page
 * showed (its main text, toasts and errors, a screenshot, the server log's tail), waiting for
 * an element, and comparing what the page shows with what the API says until they agree.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { Locator } from 'playwright-core';
import type { BrowserSession } from './browser';

export interface PageChecks {
  /** What the page shows (its main element), its toasts and page errors, for failure messages. */
  pageText(): Promise<string>;
  /** Fails with the page's text, a screenshot named `name` and the server log's tail. */
  explain(name: string, err: unknown): Promise<never>;
  /** Waits for an element, or fails with what the page shows instead. */
  shown(locator: Locator, name: string, timeout?: number): Promise<void>;
  /**
   * Reads what the page shows and what the API says until they agree (the page polls, the API
   * moves on: a few rounds absorb that), then asserts they do, with both in the message.
   */
  settle<T>(what: string, read: () => Promise<{ page: T; api: T }>, opts?: { timeoutMs?: number; refresh?: () => Promise<void> }): Promise<T>;
  assertNoPageErrors(): void;
}

export const collapse = (s: string | null | undefined) => (s ?? '').replace(/\s+/g, ' ').trim();

/** `session()`: the test's browser (opened in its `before`); `serverTail()`: the control plane's log tail. */
export function pageChecks(session: () => BrowserSession | undefined, out: string, serverTail: () => string): PageChecks {
  const b = () => {
    const s = session();
    assert.ok(s, 'the browser is open');
    return s;
  };

  async function pageText(): Promise<string> {
    const { page, pageErrors } = b();
    const text = await page
      .locator('main')
      .innerText({ timeout: 2_000 })
      .catch(() => '(no main element)');
    const toasts = await page
      .getByTestId('toast')
      .allInnerTexts()
      .catch(() => []);
    return `page text: ${text.slice(0, 3000)}\ntoasts: ${toasts.join(' | ') || '-'}\npage errors: ${pageErrors.join(' | ') || '-'}`;
  }

  async function explain(name: string, err: unknown): Promise<never> {
    const s = session();
    await s?.page.screenshot({ path: path.join(out, `${name}-failure.png`), fullPage: true }).catch(() => undefined);
    const message = err instanceof Error ? err.message : String(err);
    throw new Error(`${message}\n${s ? await pageText() : '(no browser)'}\nserver log:\n${serverTail()}`);
  }

  async function shown(locator: Locator, name: string, timeout = 15_000): Promise<void> {
    await locator.waitFor({ timeout }).catch((err: unknown) => explain(name, err));
  }

  async function settle<T>(what: string, read: () => Promise<{ page: T; api: T }>, opts: { timeoutMs?: number; refresh?: () => Promise<void> } = {}): Promise<T> {
    const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
    let last = await read();
    while (!isDeepStrictEqual(last.page, last.api) && Date.now() < deadline) {
      await opts.refresh?.();
      await new Promise((r) => setTimeout(r, 500));
      last = await read();
    }
    if (!isDeepStrictEqual(last.page, last.api)) {
      await b().page.screenshot({ path: path.join(out, `${what.replace(/\W+/g, '-')}-failure.png`), fullPage: true }).catch(() => undefined);
      assert.deepEqual(last.page, last.api, `${what}: the page (actual) differs from the API (expected)\npage: ${JSON.stringify(last.page, null, 1).slice(0, 6000)}\napi: ${JSON.stringify(last.api, null, 1).slice(0, 6000)}\n${await pageText()}`);
    }
    return last.page;
  }

  function assertNoPageErrors(): void {
    assert.deepEqual(b().pageErrors, [], `the page logged errors: ${b().pageErrors.join('\n')}`);
  }

  return { pageText, explain, shown, settle, assertNoPageErrors };
}

/** Signs in with a password from the sign-in page; the Overview heading shows it worked. */
export async function signIn(b: BrowserSession, user: string, password: string, checks: Pick<PageChecks, 'explain'>): Promise<void> {
  const { page } = b;
  await page.goto('/');
  await page.getByLabel('User').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page
    .getByRole('heading', { name: 'Overview' })
    .waitFor()
    .catch((err: unknown) => checks.explain('signin', err));
}
