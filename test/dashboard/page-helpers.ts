/**
 * What the dashboard's browser tests share: polling the page, reading the
 * chart's legend, and pointing at a time on the chart. Checks go through
 * Playwright's locators: the page's CSP forbids evaluating strings in it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { Tandem, type TandemOptions } from '../../src/index.ts';
import { createServer, type ServerOptions } from '../../src/server/index.ts';
import { openBrowser } from '../support/chromium.ts';

/** Polls `check` until it holds; `what` may be a function, to say what was last seen. */
export async function waitUntil(what: string | (() => string), check: () => Promise<boolean>, timeoutMs = 45_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${typeof what === 'string' ? what : what()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export const text = (page: Page, selector: string) => page.locator(selector).innerText();

export async function waitForText(page: Page, selector: string, expected: string): Promise<void> {
  let last: string | null = null;
  await waitUntil(() => `${selector} shows '${expected}' (last seen '${last}')`, async () => (last = (await page.locator(selector).textContent())?.trim() ?? null) === expected);
}

/** How far the document is wider than the window: above 0, the page scrolls sideways. */
export async function sidewaysOverflow(page: Page): Promise<number> {
  return page.evaluate(() => {
    const view = globalThis as unknown as { innerWidth: number; document: { documentElement: { scrollWidth: number } } };
    return view.document.documentElement.scrollWidth - view.innerWidth;
  });
}

/** The chart's legend as label → value, as the user reads it while hovering. */
export async function legend(page: Page): Promise<Record<string, string>> {
  const rows = page.locator('#chart .u-legend tr.u-series');
  const out: Record<string, string> = {};
  for (let i = 0; i < await rows.count(); i++) {
    out[(await rows.nth(i).locator('.u-label').innerText()).trim()] = (await rows.nth(i).locator('.u-value').innerText()).trim();
  }
  return out;
}

/** The page point over time `at` (mid-height of the plot), from the x scale the chart reports; scrolls the plot into view. */
export async function pointAt(page: Page, at: number): Promise<{ x: number; y: number }> {
  await page.locator('#chart .u-over').scrollIntoViewIfNeeded();
  const over = (await page.locator('#chart .u-over').boundingBox())!;
  const min = Date.parse((await page.getAttribute('#chart', 'data-x-min'))!);
  const max = Date.parse((await page.getAttribute('#chart', 'data-x-max'))!);
  return { x: over.x + ((at - min) / (max - min)) * over.width, y: over.y + over.height / 2 };
}

/** The query the query box shows, parsed. */
export async function shownQuery(page: Page): Promise<Record<string, unknown>> {
  return JSON.parse(await page.inputValue('#query-text')) as Record<string, unknown>;
}

/** Whether an element's content is wider than its box and scrolls inside it. */
export async function scrollsInside(locator: Locator): Promise<boolean> {
  return locator.evaluate((el) => {
    const view = globalThis as unknown as { getComputedStyle(element: unknown): { overflowX: string } };
    return el.scrollWidth > el.clientWidth && ['auto', 'scroll'].includes(view.getComputedStyle(el).overflowX);
  });
}

/** The API key the page keeps for this tab, if any. */
export async function keptKey(page: Page): Promise<string | null> {
  return page.evaluate(() => (globalThis as unknown as { sessionStorage: { getItem(key: string): string | null } }).sessionStorage.getItem('tandem-api-key'));
}

export async function forgetStorage(page: Page): Promise<void> {
  await page.evaluate(() => (globalThis as unknown as { sessionStorage: { clear(): void } }).sessionStorage.clear());
}

/** A dashboard test server's options beyond its engine (API keys, a version to show). */
export type DashboardServer = Omit<ServerOptions, 'tandem'>;

/** What a dashboard test works with: the engine, the page, the server's URL, and the page errors seen so far. */
export interface DashboardSession {
  readonly tandem: Tandem;
  readonly page: Page;
  readonly base: string;
  /** Page errors, and what the test adds; a test ends by asserting there are none. */
  readonly problems: string[];
}

/**
 * An engine on `config` in a fresh data directory, filled by `prepare`,
 * served on a free loopback port with `server`'s options, and a headless
 * browser: `body` runs with them, and all of it is stopped and removed
 * afterwards, also when the test fails.
 */
export async function withDashboard(
  options: {
    readonly config: unknown; readonly server?: DashboardServer; readonly viewport?: { width: number; height: number }; readonly prepare?: (tandem: Tandem) => Promise<void>;
    /** The browser's own IANA time zone, as its user's machine would have it (else this machine's). */
    readonly browserTimeZone?: string;
    /** Engine options over the defaults (a slow backfill, say). */
    readonly engine?: Omit<TandemOptions, 'dataDir' | 'config'>;
  },
  body: (session: DashboardSession) => Promise<void>,
): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-dashboard-'));
  const tandem = await Tandem.open({ ...options.engine, dataDir: dir, config: options.config });
  const server = createServer({ ...options.server, tandem });
  let browser: Awaited<ReturnType<typeof openBrowser>> | undefined;
  try {
    await options.prepare?.(tandem);
    const base = await server.app.listen({ host: '127.0.0.1', port: 0 });
    browser = await openBrowser(options.viewport, options.browserTimeZone);
    const problems: string[] = [];
    browser.page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    await body({ tandem, page: browser.page, base, problems });
  } finally {
    await browser?.close();
    await server.app.close();
    await tandem.close();
    await rm(dir, { recursive: true, force: true });
  }
}
