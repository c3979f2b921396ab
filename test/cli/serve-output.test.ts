/**
 * What `tandem serve` prints: on a terminal (or with --log-format pretty) a
 * short banner with the dashboard's URL and readable log lines; JSON lines
 * for a log collector otherwise (the other tests read those).
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli, startCli } from '../support/spawn-cli.ts';
import { withTempDir } from '../support/temp-dir.ts';
import { shopConfig } from '../support/shop-config.ts';

test('tandem serve --log-format pretty prints a banner with the dashboard URL and readable logs, not JSON', async () => {
  await withTempDir(async (dir) => {
    const config = join(dir, 'shop.json');
    await writeFile(config, JSON.stringify(shopConfig));
    const server = await startCli(['serve', '--config', config, '--data', join(dir, 'data'), '--port', '0', '--batch-every', '5m', '--log-format', 'pretty'], /Dashboard (http:\/\/\S+?)\/\n/);
    try {
      const output = server.output();
      assert.match(output, new RegExp(`Tandem \\d+\\.\\d+\\.\\d+ is serving ${config.replaceAll('.', '\\.')} from ${join(dir, 'data').replaceAll('.', '\\.')}, with a batch cycle every 5 min\\.`));
      assert.match(output, /API {7}http:\/\/\S+\/v1\/status/);
      assert.match(output, /CLI {7}export TANDEM_URL=http:\/\/\S+ {3}then: tandem status/);
      assert.match(output, /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: Server listening at http:\/\//m);
      assert.ok(!output.split('\n').some((line) => line.startsWith('{"level"')), 'no JSON log lines');
    } finally {
      assert.equal(await server.stop('SIGTERM'), 0);
    }
  });
});

test('tandem serve refuses an unknown --log-format in one sentence', async () => {
  const run = await runCli(['serve', '--config', 'missing.json', '--log-format', 'xml']);
  assert.equal(run.code, 1);
  assert.equal(run.stderr.trim(), "tandem: --log-format must be auto, pretty or json, not 'xml'.");
});
