/**
 * Whether the command-line tools a test drives (pgcli, tmux) are installed:
 * a test without them says it skips, and fails instead under
 * `TANDEM_REQUIRE_SERVICES=1`, as CI runs.
 */
import { execFile } from 'node:child_process';
import type { TestContext } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Runs each `[command, ...args]` (a version check); resolves false, having skipped `t`, when one fails. */
export async function toolsInstalled(t: TestContext, checks: readonly (readonly string[])[], install: string): Promise<boolean> {
  try {
    for (const [command, ...args] of checks) await run(command!, args, { timeout: 30_000 });
    return true;
  } catch (error) {
    const reason = `SKIPPED: ${checks.map(([c]) => c).join(' or ')} ${checks.length > 1 ? 'are' : 'is'} not installed (${install})`;
    if (process.env.TANDEM_REQUIRE_SERVICES === '1') throw new Error(`${reason}, and TANDEM_REQUIRE_SERVICES=1 requires it.`, { cause: error });
    t.skip(reason);
    return false;
  }
}
