/**
 * Finds Debian's Chromium for browser tests. Where it is absent the test is
 * skipped with a visible reason, except under TANDEM_REQUIRE_SERVICES=1 (CI),
 * where a missing browser is a failure.
 */
import { existsSync } from 'node:fs';

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
