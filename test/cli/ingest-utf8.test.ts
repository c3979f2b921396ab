/**
 * `tandem ingest` reads NDJSON as bytes: a line that is not UTF-8 is rejected
 * alone, by line number, instead of being decoded with U+FFFD, which would
 * merge idempotency keys that differ only in the bad byte and drop an order.
 * Into a data directory and through a server alike.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { shopConfig } from '../support/shop-config.ts';
import { runCli, startCli } from '../support/spawn-cli.ts';
import { withTempDir } from '../support/temp-dir.ts';

const order = (id: string) => `{"id":"${id}","at":"2024-05-01T12:00:00Z","country":"DE","mobile":true,"amount":1,"qty":1}`;

test('ingest - NDJSON lines that are not UTF-8 are rejected by line, never merged', { timeout: 60_000 }, async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, 'orders.ndjson');
    // caf\xe9-1 and caf\xe8-1: Latin-1 bytes; decoded leniently both would read caf\ufffd-1.
    const latin1 = (id: string) => Buffer.from(order(id), 'latin1');
    await writeFile(file, Buffer.concat([latin1('caf\u00e9-1'), Buffer.from('\n'), latin1('caf\u00e8-1'), Buffer.from(`\r\n${order('café-2')}\r\n`)]));
    const config = join(dir, 'tandem.config.json');
    await writeFile(config, JSON.stringify(shopConfig));

    const local = await runCli(['ingest', file, '--event', 'order', '--data', join(dir, 'local'), '--config', config]);
    const expected = /1 accepted.*2 rejected[\s\S]*line 1: This line is not valid UTF-8; save the file as UTF-8\.\n\s*line 2: This line is not valid UTF-8/;
    assert.match(local.stdout, expected, local.stdout + local.stderr);

    const server = await startCli(['serve', '--config', config, '--data', join(dir, 'served'), '--port', '0', '--batch-every', '1h'], /serving at (http:\/\/\S+?)"/);
    try {
      const remote = await runCli(['ingest', file, '--event', 'order', '--url', server.url, '--batch-size', '1']);
      assert.match(remote.stdout, expected, remote.stdout + remote.stderr);
      const query = await runCli(['query', '{"view":"all_time","granularity":"all"}', '--json', '--url', server.url]);
      assert.equal(JSON.parse(query.stdout).rows[0].orders, 1);
    } finally {
      await server.stop('SIGKILL');
    }
  });
});
