/**
 * Finds Debian's Chromium for browser tests. Where it is absent the test is
 * skipped with a visible reason, except under TANDEM_REQUIRE_SERVICES=1 (CI),
 * where a missing browser is a failure.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run',
];

/** `false` when the browser can run; otherwise the reason to skip. Throws when CI requires the browser. */
export function chromiumSkipReason(): string | false {
  if (existsSync(CHROMIUM)) return false;
  const reason = `SKIPPED: Chromium is not installed at ${CHROMIUM} (apt-get install -y chromium)`;
  if (process.env.TANDEM_REQUIRE_SERVICES === '1') throw new Error(`${reason}, and TANDEM_REQUIRE_SERVICES=1 requires it.`);
  console.warn(reason);
  return reason;
}

/** A headless Chromium with a fresh profile, its first page, and a close that removes the profile; `timeZone` is the browser's own (else the machine's). */
export async function openBrowser(viewport?: { width: number; height: number }, timeZone?: string): Promise<{ readonly page: Page; close(): Promise<void> }> {
  const profile = await mkdtemp(join(tmpdir(), 'tandem-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, ...(viewport ? { viewport } : {}), ...(timeZone ? { timezoneId: timeZone } : {}),
  });
  const page = context.pages()[0] ?? await context.newPage();
  return {
    page,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
