/**
 * pgcli against the PostgreSQL endpoint, driven through a terminal (tmux):
 * it connects, its completion refresher reads the catalog (schemata,
 * tables, columns, functions, types) without an error in its log, `\dt`
 * lists the views and a grouped query is answered. Skipped with the reason
 * where pgcli or tmux is missing; failed instead under
 * TANDEM_REQUIRE_SERVICES=1.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { makeTempDir } from '../support/temp-dir.ts';
import { toolsInstalled } from '../support/installed-tools.ts';
import { openPgShop } from './pg-shop.ts';

const run = promisify(execFile);

test('pg pgcli - pgcli connects, completes from the catalog without errors, lists the views and answers a query', async (t) => {
  if (!(await toolsInstalled(t, [['pgcli', '--version'], ['tmux', '-V']], 'apt-get install pgcli tmux'))) return;
  const shop = await openPgShop();
  const temp = await makeTempDir('tandem-pgcli-');
  // A tmux server of this test's own, stopped with everything in it at the end.
  const tmux = (...args: string[]) => run('tmux', ['-L', `tandem-pgcli-${process.pid}`, ...args], { timeout: 10_000 });
  const screen = async () => (await tmux('capture-pane', '-p', '-t', 'pgcli')).stdout;
  const waitFor = async (pattern: RegExp, what: string) => {
    for (let i = 0; i < 50; i++) {
      if (pattern.test(await screen())) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.fail(`pgcli never showed ${what}; its screen:\n${await screen()}`);
  };
  try {
    const command = `XDG_CONFIG_HOME=${temp.dir} pgcli -h 127.0.0.1 -p ${shop.pg.port} -U analyst -w -d tandem --less-chatty`;
    await tmux('new-session', '-d', '-s', 'pgcli', '-x', '200', '-y', '50', command);
    await waitFor(/analyst@127:tandem>/, 'its prompt');
    await tmux('send-keys', '-t', 'pgcli', '\\dt', 'Enter');
    await waitFor(/\| public +\| by_country_hour +\| table/, 'the views listed by \\dt');
    await tmux('send-keys', '-t', 'pgcli', 'SELECT country, sum(orders) AS orders FROM all_time GROUP BY country ORDER BY country');
    // An Enter that arrives while pgcli's completer is still busy opens its menu instead of running the line: press again until it runs.
    for (let press = 0; press < 3 && !/SELECT 4/.test(await screen()); press++) {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      await tmux('send-keys', '-t', 'pgcli', 'Enter');
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    await waitFor(/SELECT 4/, 'the grouped answer');
    const answer = await shop.sql('SELECT country, sum(orders) AS orders FROM all_time GROUP BY country ORDER BY country');
    for (const [country, orders] of answer.rows) assert.match(await screen(), new RegExp(`\\| ${String(country)} +\\| ${String(orders)} +\\|`));
    const log = await readFile(join(temp.dir, 'pgcli', 'log'), 'utf8');
    assert.doesNotMatch(log, / ERROR - /, 'pgcli logged no error (its completion refresher read the whole catalog)');
    assert.doesNotMatch(await screen(), /Traceback/);
  } finally {
    await tmux('kill-server').catch(() => undefined);
    await shop.close();
    await temp.remove();
  }
});
