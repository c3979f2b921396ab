/**
 * `tandem query --time-zone` (from dist: `npm run build` first): the flag
 * sets the query's `timeZone` over any the JSON names, the table's note
 * names the zone, and an unknown zone is one line and exit status 1.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { QueryResult } from '../../src/index.ts';
import { runCli, startCli } from '../support/spawn-cli.ts';
import { withTempDir } from '../support/temp-dir.ts';

const SERVING = /serving at (http:\/\/\S+?)"/;
const config = {
  eventTypes: [{ name: 'sale', time: 'at', fields: { at: 'timestamp', city: 'string' } }],
  views: [{ name: 'sales_by_hour', eventType: 'sale', dimensions: ['city'], granularity: 'hour', measures: { n: { type: 'count' } } }],
};

test('tandem query --time-zone - local days of the zone, named under the table; an unknown zone is one line and exit 1', { timeout: 120_000 }, async () => {
  await withTempDir(async (dir) => {
    await writeFile(join(dir, 'config.json'), JSON.stringify(config));
    const server = await startCli(['serve', '--config', join(dir, 'config.json'), '--data', join(dir, 'data'), '--port', '0', '--batch-every', '1h', '--log-format', 'json'], SERVING);
    try {
      // 23:30 UTC on 31 December is 1 January in Berlin, still 31 December in New York.
      const body = ['2025-12-31T23:30:00Z', '2026-01-01T12:00:00Z'].map((at) => JSON.stringify({ at, city: 'Köln' })).join('\n');
      const ingested = await fetch(`${server.url}/v1/events/sale`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body });
      assert.equal(ingested.status, 200, await ingested.text());
      const query = JSON.stringify({ view: 'sales_by_hour', granularity: 'day', timeZone: 'America/New_York' });
      const json = await runCli(['query', query, '--url', server.url, '--time-zone', 'Europe/Berlin', '--format', 'json']);
      assert.equal(json.code, 0, json.stderr);
      const answer = JSON.parse(json.stdout) as QueryResult;
      assert.deepEqual(answer.rows.map((r) => [r.time, r.n]), [['2026-01-01T00:00:00.000+01:00', 2]], 'the flag wins over the JSON');
      assert.equal(answer.meta.timeZone, 'Europe/Berlin');
      const table = await runCli(['query', query, '--url', server.url]);
      assert.equal(table.code, 0, table.stderr);
      assert.match(table.stdout, /2025-12-31T00:00:00\.000-05:00/);
      assert.match(table.stdout, /· time zone America\/New_York\n/);
      const unknown = await runCli(['query', query, '--url', server.url, '--time-zone', 'Moon/Tranquility']);
      assert.equal(unknown.code, 1);
      assert.equal(unknown.stderr.trim().split('\n').length, 1, unknown.stderr);
      assert.match(unknown.stderr, /timeZone 'Moon\/Tranquility' is not an IANA time zone name/);
    } finally {
      await server.stop();
    }
  });
});
