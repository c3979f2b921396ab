/**
 * `tandem ingest` into an event type without an idempotencyKey says, when it
 * starts, that loading the same file again would count its events twice (the
 * sentence `--history` prints), into a data directory and over HTTP alike;
 * a type with a key gets no warning. From dist: `npm run build` first.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { keylessWarning } from '../../src/backends/local/index.ts';
import { runCli, startCli } from '../support/spawn-cli.ts';
import { withTempDir } from '../support/temp-dir.ts';

const config = {
  eventTypes: [
    { name: 'visit', time: 'at', idempotencyKey: 'id', fields: { id: 'string', at: 'timestamp', page: 'string' } },
    { name: 'ping', time: 'at', fields: { at: 'timestamp', page: 'string' } },
  ],
  views: [{ name: 'pings', eventType: 'ping', dimensions: [], granularity: 'none', measures: { n: { type: 'count' } } }],
};
const WARNING = `${keylessWarning('ping')}\n`;

async function writeInputs(dir: string): Promise<{ csv: string; ndjson: string; visits: string; config: string }> {
  const files = { csv: join(dir, 'pings.csv'), ndjson: join(dir, 'pings.ndjson'), visits: join(dir, 'visits.ndjson'), config: join(dir, 'config.json') };
  await writeFile(files.csv, 'at,page\n2026-01-01T00:00:00Z,/\n2026-01-01T00:01:00Z,/a\n');
  await writeFile(files.ndjson, `${JSON.stringify({ at: '2026-01-01T00:00:00Z', page: '/' })}\n`);
  await writeFile(files.visits, `${JSON.stringify({ id: 'v1', at: '2026-01-01T00:00:00Z', page: '/' })}\n`);
  await writeFile(files.config, JSON.stringify(config));
  return files;
}

test('tandem ingest - warns once, at the start, that a keyless type would count a second load twice (data directory)', { timeout: 120_000 }, async () => {
  await withTempDir(async (dir) => {
    const files = await writeInputs(dir);
    const local = ['--data', join(dir, 'data'), '--config', files.config];
    const first = await runCli(['ingest', files.csv, '--event', 'ping', ...local]);
    assert.equal(first.code, 0, first.stderr);
    assert.ok(first.stdout.startsWith(WARNING), first.stdout);
    assert.match(first.stdout, /^2 events read: 2 accepted \(2 stored, 0 already stored\)/m);
    assert.equal(first.stdout.split(WARNING).length, 2, 'said once');
    const again = await runCli(['ingest', files.csv, '--event', 'ping', ...local]);
    assert.ok(again.stdout.startsWith(WARNING), again.stdout);
    assert.match(again.stdout, /^2 events read: 2 accepted \(2 stored, 0 already stored\)/m, 'as warned: stored again');
    const ndjson = await runCli(['ingest', files.ndjson, '--event', 'ping', ...local]);
    assert.ok(ndjson.stdout.startsWith(WARNING), ndjson.stdout);
    const keyed = await runCli(['ingest', files.visits, '--event', 'visit', ...local]);
    assert.equal(keyed.code, 0, keyed.stderr);
    assert.match(keyed.stdout, /^1 event read: 1 accepted/, 'a type with a key: no warning');
  });
});

test('tandem ingest - the same warning over HTTP, and none for a type with a key', { timeout: 120_000 }, async () => {
  await withTempDir(async (dir) => {
    const files = await writeInputs(dir);
    const server = await startCli(['serve', '--config', files.config, '--data', join(dir, 'data'), '--port', '0', '--batch-every', '1h', '--log-format', 'json'], /serving at (http:\/\/\S+?)"/);
    try {
      const keyless = await runCli(['ingest', files.ndjson, '--event', 'ping', '--url', server.url]);
      assert.equal(keyless.code, 0, keyless.stderr);
      assert.ok(keyless.stdout.startsWith(WARNING), keyless.stdout);
      const keyed = await runCli(['ingest', files.visits, '--event', 'visit', '--url', server.url]);
      assert.match(keyed.stdout, /^1 event read: 1 accepted/);
      const unknown = await runCli(['ingest', files.visits, '--event', 'refund', '--url', server.url]);
      assert.equal(unknown.stdout, '', 'an unknown type: no warning, the server refuses it');
      assert.match(unknown.stderr, /Unknown event type 'refund'; 0 events were accepted before the failure\.$/m);
    } finally {
      await server.stop();
    }
  });
});
