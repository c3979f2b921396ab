/**
 * `tandem view apply|list|cancel|drop` against `tandem serve`, and a reload
 * of the config file on SIGHUP (issue #31): each change is served exactly,
 * and each refusal is one line.
 */
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { QueryResult } from '../../src/index.ts';
import { canonicalRows, referenceQuery } from '../support/reference.ts';
import { shopConfig } from '../support/shop-config.ts';
import { AcceptedEvents, shopEvent } from '../support/shop-events.ts';
import { runCli, startCli } from '../support/spawn-cli.ts';

const SERVING = /serving at (http:\/\/\S+?)"/;
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tandem-view-cli-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const byMobile = { name: 'by_mobile', eventType: 'order', dimensions: ['mobile'], granularity: 'day', measures: { orders: { type: 'count' }, revenue: { type: 'sum', field: 'amount' } } } as const;

async function query(url: string, body: object): Promise<QueryResult> {
  const response = await fetch(`${url}/v1/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal(response.status, 200, await response.clone().text());
  return response.json() as Promise<QueryResult>;
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  assert.fail(`timed out waiting for ${what}`);
}

test('tandem view: apply waits until the view answers, list shows versions, drop and cancel answer in one line, SIGHUP reloads the file', { timeout: 120_000 }, async () => {
  const config = join(dir, 'tandem.config.json');
  await writeFile(config, JSON.stringify(shopConfig));
  const server = await startCli(['serve', '--config', config, '--data', join(dir, 'data'), '--port', '0', '--batch-every', '1h', '--log-format', 'json'], SERVING);
  try {
    const accepted = new AcceptedEvents();
    const events = fc.sample(shopEvent, { numRuns: 300, seed: 11 });
    for (let i = 0; i < events.length; i += 50) {
      const body = events.slice(i, i + 50).map((e) => JSON.stringify(e.raw)).join('\n');
      await fetch(`${server.url}/v1/events/order`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body });
    }
    accepted.add(events);
    assert.equal((await runCli(['batch', '--url', server.url])).code, 0);

    const file = join(dir, 'by-mobile.json');
    await writeFile(file, JSON.stringify(byMobile));
    const applied = await runCli(['view', 'apply', file, '--url', server.url]);
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, /^Added by_mobile as version 1: its batch layer is being backfilled, and it answers once that is done\.\nby_mobile version 1 answers now\.\n$/);
    const q = { view: 'by_mobile', groupBy: ['mobile'], granularity: 'all' } as const;
    assert.deepEqual(canonicalRows((await query(server.url, q)).rows), canonicalRows(referenceQuery(byMobile, accepted.events, q)));

    const listed = await runCli(['view', 'list', '--url', server.url]);
    assert.match(listed.stdout, /^view\s+version\s+eventType\s+granularity/);
    assert.match(listed.stdout, /by_mobile\s+1\s+order\s+day/);

    const again = await runCli(['view', 'apply', file, '--url', server.url]);
    assert.equal(again.stdout, 'by_mobile is unchanged at version 1.\n');
    const cancel = await runCli(['view', 'cancel', 'by_mobile', '--url', server.url]);
    assert.equal(cancel.code, 1);
    assert.equal(cancel.stderr, "tandem: The server answered 409: View 'by_mobile' has no change under way to cancel.\n");
    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ ...byMobile, name: 'bad', dimensions: ['nope'] }));
    const refused = await runCli(['view', 'apply', bad, '--url', server.url]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^tandem: The server answered 400: view\.dimensions\[0\] names field 'nope', which event type 'order' does not declare\.\n$/);

    const dropped = await runCli(['view', 'drop', 'all_time', '--url', server.url]);
    assert.equal(dropped.stdout, 'Dropped all_time.\n');

    // The file now defines by_mobile with another measure and lacks totals_month: a SIGHUP applies both.
    const changed = { ...byMobile, measures: { orders: { type: 'count' } } };
    await writeFile(config, JSON.stringify({ ...shopConfig, views: [...shopConfig.views.filter((v) => v.name !== 'totals_month'), changed] }));
    server.child.kill('SIGHUP');
    await until(async () => {
      const views = await (await fetch(`${server.url}/v1/views`)).json() as { versions: Record<string, number>; changes: unknown[] };
      return views.versions.by_mobile === 2 && views.changes.length === 0 && views.versions.totals_month === undefined;
    }, 'the reload to switch in');
    assert.deepEqual(canonicalRows((await query(server.url, q)).rows), canonicalRows(referenceQuery(changed as never, accepted.events, q)));
    assert.ok((await query(server.url, { view: 'all_time', granularity: 'all' })).rows.length > 0, 'the reloaded file defines all_time again');
    assert.match(server.output(), /reloading the config's views \(SIGHUP\)/);
  } finally {
    assert.equal(await server.stop('SIGTERM'), 0);
  }
});
