/**
 * `tandem erase` against `tandem serve` (issue #31): it asks on a terminal
 * (driven through tmux) and erases on "y", erases at once with `--yes`,
 * refuses in one line without a terminal to ask on, and `--list` prints the
 * audit log without values. (The CLI runs from dist: `npm run build` first.)
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { ERASED_CUSTOMER, erasureConfig, usageEvents } from '../support/erasure-fixture.ts';
import { BIN, runCli, startCli, type LongRunning } from '../support/spawn-cli.ts';
import { makeTempDir } from '../support/temp-dir.ts';
import { toolsInstalled } from '../support/installed-tools.ts';

const run = promisify(execFile);
const SERVING = /serving at (http:\/\/\S+?)"/;
let temp: { dir: string; remove(): Promise<void> };
let server: LongRunning;

before(async () => {
  temp = await makeTempDir('tandem-erase-cli-');
  const config = join(temp.dir, 'tandem.config.json');
  await writeFile(config, JSON.stringify(erasureConfig));
  server = await startCli(['serve', '--config', config, '--data', join(temp.dir, 'data'), '--port', '0', '--batch-every', '1h', '--log-format', 'json'], SERVING);
  const body = usageEvents(0, 700).map((e) => JSON.stringify(e)).join('\n');
  const response = await fetch(`${server.url}/v1/events/usage`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body });
  assert.equal(response.status, 200);
});
after(async () => {
  await server.stop();
  await temp.remove();
});

async function count(customer: string): Promise<number> {
  const response = await fetch(`${server.url}/v1/query`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ view: 'by_customer', granularity: 'all', where: { customer } }),
  });
  const { rows } = await response.json() as { rows: { events: number }[] };
  return rows[0]?.events ?? 0;
}

test('tandem erase: refused in one line without --yes or a terminal, or with a malformed --where', async () => {
  const asked = await runCli(['erase', '--event', 'usage', '--where', `customer=${ERASED_CUSTOMER}`, '--url', server.url]);
  assert.equal(asked.code, 1);
  assert.equal(asked.stderr, 'tandem: Erasing cannot be undone: pass --yes to erase without a terminal to confirm on.\n');
  const malformed = await runCli(['erase', '--event', 'usage', '--where', 'customer', '--yes', '--url', server.url]);
  assert.equal(malformed.stderr, 'tandem: --where customer must be field=value, such as customer=c-123.\n');
  const unknown = await runCli(['erase', '--event', 'usage', '--where', 'nobody=1', '--yes', '--url', server.url]);
  assert.equal(unknown.stderr, "tandem: Event type 'usage' has no field 'nobody'; its fields are id, at, customer, plan, units.\n");
  const value = await runCli(['erase', '--event', 'usage', '--where', 'units=many', '--yes', '--url', server.url]);
  assert.match(value.stderr, /\ntandem: The server answered 400: where\.units: Field 'units' must be a number, or a decimal string such as "12\.50"; got "many"\.\n$/);
  assert.equal(await count(ERASED_CUSTOMER), 100, 'nothing was erased');
});

test('tandem erase --yes erases, and --list prints the audit log without the values', async () => {
  const erased = await runCli(['erase', '--event', 'usage', '--where', 'customer=cust-1', '--where', 'customer=cust-2', '--where', 'plan=pro', '--yes', '--url', server.url]);
  assert.equal(erased.code, 0, erased.stderr);
  assert.match(erased.stdout, /^Erased \d+ events of usage \(\d+ files? written again\); audit record [0-9a-z]+\.\n$/);
  assert.equal(await count('cust-1') + await count('cust-2') > 0, true, 'events of other plans stay');
  const listed = await runCli(['erase', '--list', '--url', server.url]);
  assert.match(listed.stdout, /\n[0-9a-z]+ +\S+ +anonymous +usage +customer, plan +\d+ +\d+\n$/);
  assert.ok(!listed.stdout.includes('cust-1'));
});

test('tandem erase in a terminal asks first, and erases on y', { timeout: 60_000 }, async (t) => {
  if (!(await toolsInstalled(t, [['tmux', '-V']], 'apt-get install tmux'))) return;
  const tmux = (...args: string[]) => run('tmux', ['-L', `tandem-erase-${process.pid}`, ...args], { timeout: 10_000 });
  const screen = async () => (await tmux('capture-pane', '-p', '-t', 'erase')).stdout;
  const waitFor = async (pattern: RegExp, what: string) => {
    for (let i = 0; i < 100; i++) {
      if (pattern.test(await screen())) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.fail(`tandem erase never showed ${what}; its screen:\n${await screen()}`);
  };
  try {
    await tmux('new-session', '-d', '-s', 'erase', '-x', '200', '-y', '20', `${process.execPath} ${BIN} erase --event usage --where customer=${ERASED_CUSTOMER} --url ${server.url}; sleep 30`);
    await waitFor(/Erase every usage event where customer is "cust-erase-me-7f3a91"\? This cannot be undone\. \[y\/N\]/, 'its question');
    await tmux('send-keys', '-t', 'erase', 'y', 'Enter');
    await waitFor(/Erased 100 events of usage/, 'what it erased');
    assert.equal(await count(ERASED_CUSTOMER), 0);
  } finally {
    await tmux('kill-server').catch(() => undefined);
  }
});
