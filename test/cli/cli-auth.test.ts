import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { shopConfig } from '../support/shop-config.ts';
import { runCli, startCli } from '../support/spawn-cli.ts';
import { makeTempDir } from '../support/temp-dir.ts';

const SERVING = /serving at (http:\/\/\S+?)"/;
let temp: Awaited<ReturnType<typeof makeTempDir>>;
let config: string;

before(async () => {
  temp = await makeTempDir('tandem-cli-auth-');
  config = join(temp.dir, 'tandem.config.json');
  await writeFile(config, JSON.stringify(shopConfig));
});
after(() => temp.remove());

function oneLineError(result: { code: number | null; stderr: string }, message: RegExp): void {
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr.trim(), message);
  assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
}

async function keygen(name: string, scopes: string): Promise<{ key: string; entry: { name: string; scopes: string[]; sha256: string } }> {
  const result = await runCli(['keygen', '--name', name, '--scopes', scopes]);
  assert.equal(result.code, 0, result.stderr);
  const key = /^key {4}(\S+)$/m.exec(result.stdout)?.[1];
  const entry = /^entry {2}(\{.*\})$/m.exec(result.stdout)?.[1];
  assert.ok(key !== undefined && entry !== undefined, result.stdout);
  return { key, entry: JSON.parse(entry) };
}

test('keygen prints a fresh key and a config entry holding only its SHA-256 digest', async () => {
  const { key, entry } = await keygen('loader', 'ingest,query');
  assert.match(key, /^tdk_[\w-]{28}$/);
  assert.deepEqual(entry, { name: 'loader', scopes: ['ingest', 'query'], sha256: createHash('sha256').update(key).digest('hex') });
  assert.notEqual((await keygen('loader', 'ingest')).key, key);
  oneLineError(await runCli(['keygen', '--scopes', 'ingest,everything']), /^tandem: --scopes takes a comma-separated list of ingest, query, admin, not 'everything'\.$/);
});

test('serve refuses a non-loopback address without keys, and a malformed TANDEM_API_KEYS, in one line', async () => {
  const data = join(temp.dir, 'refused');
  oneLineError(await runCli(['serve', '--config', config, '--data', data, '--host', '0.0.0.0']),
    /^tandem: Refusing to listen on 0\.0\.0\.0 without API keys, since anyone who can reach it could write and read data; add keys .+ or pass --allow-unauthenticated\.$/);
  oneLineError(await runCli(['serve', '--config', config, '--data', data], { env: { TANDEM_API_KEYS: '{not json' } }), /^tandem: TANDEM_API_KEYS must be a JSON array/);
  oneLineError(await runCli(['serve', '--config', config, '--data', data], { env: { TANDEM_API_KEYS: '[{"name":"x","scopes":["root"],"key":"0123456789abcdef"}]' } }),
    /^tandem: TANDEM_API_KEYS\[0\]\.scopes\[0\] must be one of ingest, query, admin; got "root"\.$/);
  const open = await startCli(['serve', '--config', config, '--data', join(temp.dir, 'open'), '--host', '0.0.0.0', '--port', '0', '--allow-unauthenticated'], SERVING);
  assert.equal(await open.stop(), 0);
});

test('a keyed server: the CLI clients pass --api-key or TANDEM_API_KEY; a missing key and a missing scope are one clear line each', async () => {
  const full = await keygen('ops', 'ingest,query,admin');
  const loader = await keygen('loader', 'ingest');
  const env = { TANDEM_API_KEYS: JSON.stringify([full.entry, loader.entry]) };
  const server = await startCli(['serve', '--config', config, '--data', join(temp.dir, 'keyed'), '--port', '0', '--batch-every', '1h'], SERVING, undefined, env);
  try {
    const events = join(temp.dir, 'orders.ndjson');
    await writeFile(events, ['DE', 'FR', 'DE'].map((country, i) => JSON.stringify({ id: `k${i}`, at: '2024-05-01T12:00:00Z', country, mobile: false, amount: 10, qty: 1 })).join('\n'));

    oneLineError(await runCli(['status', '--url', server.url]), /^tandem: The server at http:\/\/\S+ needs a valid API key; pass one with --api-key or TANDEM_API_KEY\.$/);
    const ingested = await runCli(['ingest', events, '--event', 'order', '--url', server.url, '--api-key', loader.key]);
    assert.equal(ingested.code, 0, ingested.stderr);
    assert.match(ingested.stdout, /^3 events read: 3 accepted/);
    oneLineError(await runCli(['batch', '--url', server.url, '--api-key', loader.key]), /^tandem: The server answered 403: This API key may not run batches or read status and metrics; that needs a key with the 'admin' scope\.$/);

    const withEnvKey = { env: { TANDEM_API_KEY: full.key } };
    assert.equal((await runCli(['batch', '--url', server.url], withEnvKey)).code, 0);
    const answer = await runCli(['query', '{"view":"all_time","groupBy":["country"],"granularity":"all"}', '--json', '--url', server.url], withEnvKey);
    assert.equal(answer.code, 0, answer.stderr);
    assert.deepEqual(JSON.parse(answer.stdout).rows, [
      { country: 'DE', orders: 2, revenue: 20, sizes: 1, typical: { p50: 1, p90: 1, p99: 1 } },
      { country: 'FR', orders: 1, revenue: 10, sizes: 1, typical: { p50: 1, p90: 1, p99: 1 } },
    ]);
    assert.doesNotMatch(server.output(), new RegExp(`${full.key}|${loader.key}`), 'the server never logs a key');
  } finally {
    assert.equal(await server.stop(), 0);
  }
});
