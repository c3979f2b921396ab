/**
 * `tandem ingest` as a script sees it: a JSON array imports like NDJSON,
 * the exit status says whether every row was stored, an event type that
 * ignores undeclared fields stores the rows and names the fields once, and
 * client commands find the server from `--url host:port` or `TANDEM_URL`.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Tandem } from '../../src/index.ts';
import { runCli, startCli, type LongRunning } from '../support/spawn-cli.ts';
import { makeTempDir } from '../support/temp-dir.ts';

const payment = (undeclaredFields: 'reject' | 'ignore') => ({
  name: 'payment',
  time: 'at',
  idempotencyKey: 'id',
  undeclaredFields,
  fields: { id: 'string', at: 'timestamp', currency: 'string', amount: { type: 'number', scale: 2 } },
});
const config = (undeclaredFields: 'reject' | 'ignore') => ({
  eventTypes: [payment(undeclaredFields)],
  views: [{ name: 'by_currency', eventType: 'payment', dimensions: ['currency'], granularity: 'none', measures: { n: { type: 'count' }, total: { type: 'sum', field: 'amount' } } }],
});

const rows = [
  { id: 'p1', at: '2025-03-01T10:00:00Z', currency: 'EUR', amount: 12.5 },
  { id: 'p2', at: '2025-03-01T11:00:00Z', currency: 'EUR', amount: 7.25 },
  { id: 'p3', at: '2025-03-02T09:30:00Z', currency: 'JPY', amount: 1200 },
];

let temp: Awaited<ReturnType<typeof makeTempDir>>;
let rejectConfig: string;
let ignoreConfig: string;
before(async () => {
  temp = await makeTempDir();
  rejectConfig = join(temp.dir, 'reject.json');
  ignoreConfig = join(temp.dir, 'ignore.json');
  await writeFile(rejectConfig, JSON.stringify(config('reject')));
  await writeFile(ignoreConfig, JSON.stringify(config('ignore')));
});
after(() => temp.remove());

async function totals(data: string, configFile: string): Promise<Record<string, unknown>[]> {
  const { default: parsed } = await import(configFile, { with: { type: 'json' } }) as { default: unknown };
  const engine = await Tandem.open({ dataDir: data, config: parsed });
  try {
    return [...(await engine.query({ view: 'by_currency', groupBy: ['currency'], granularity: 'all' })).rows];
  } finally {
    await engine.close();
  }
}

test('tandem ingest: a .json file holding one array imports like NDJSON, and exits 0 when every row was stored', async () => {
  const file = join(temp.dir, 'payments.json');
  await writeFile(file, `\uFEFF  [\n${rows.map((r) => JSON.stringify(r)).join(',\n')}\n]\n`);
  const data = join(temp.dir, 'array');
  const run = await runCli(['ingest', file, '--event', 'payment', '--data', data, '--config', rejectConfig]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^3 events read: 3 accepted \(3 stored, 0 already stored\), 0 rejected/);
  assert.deepEqual(await totals(data, rejectConfig), [{ currency: 'EUR', n: 2, total: 19.75 }, { currency: 'JPY', n: 1, total: 1200 }]);
});

test('tandem ingest: rejected rows make the exit status 1 unless --max-rejects allows them; the rest are stored either way', async () => {
  const file = join(temp.dir, 'mixed.json');
  await writeFile(file, JSON.stringify([rows[0], { ...rows[1], amount: 'lots' }, [1, 2], rows[2]]));
  const data = join(temp.dir, 'mixed');
  const strict = await runCli(['ingest', file, '--event', 'payment', '--data', data, '--config', rejectConfig]);
  assert.equal(strict.code, 1);
  assert.match(strict.stdout, /4 events read: 2 accepted \(2 stored, 0 already stored\), 2 rejected/);
  assert.match(strict.stdout, /element 2: Field 'amount' must be a number/);
  assert.match(strict.stdout, /element 3: An event must be a JSON object, not an array\./);
  assert.equal(strict.stderr.trim(), 'tandem: 2 rows were rejected and not stored (see above); pass --max-rejects to accept some rejects.');
  const allowed = await runCli(['ingest', file, '--event', 'payment', '--data', data, '--config', rejectConfig, '--max-rejects', '2']);
  assert.equal(allowed.code, 0, allowed.stderr);
  assert.match(allowed.stdout, /2 accepted \(0 stored, 2 already stored\), 2 rejected/);
  const tooFew = await runCli(['ingest', file, '--event', 'payment', '--data', data, '--config', rejectConfig, '--max-rejects', '1']);
  assert.equal(tooFew.code, 1);
  assert.equal(tooFew.stderr.trim(), 'tandem: 2 rows were rejected, more than the 1 --max-rejects allows (see above).');
  assert.deepEqual(await totals(data, rejectConfig), [{ currency: 'EUR', n: 1, total: 12.5 }, { currency: 'JPY', n: 1, total: 1200 }]);
});

test('tandem ingest: a file whose every row is rejected exits 1', async () => {
  const file = join(temp.dir, 'bad.ndjson');
  await writeFile(file, `${JSON.stringify({ ...rows[0], amount: '12.505' })}\n{"id":\n`);
  const run = await runCli(['ingest', file, '--event', 'payment', '--data', join(temp.dir, 'bad'), '--config', rejectConfig]);
  assert.equal(run.code, 1);
  assert.match(run.stdout, /2 events read: 0 accepted \(0 stored, 0 already stored\), 2 rejected/);
});

test('tandem ingest: a CSV with columns the type does not declare is rejected row by row, or stored with them named once when the type ignores them', async () => {
  const file = join(temp.dir, 'extra.csv');
  await writeFile(file, 'id,at,currency,amount,customer_email,note\n' + rows.map((r) => `${r.id},${r.at},${r.currency},${r.amount},a@b.c,x`).join('\n') + '\n');
  const rejected = await runCli(['ingest', file, '--event', 'payment', '--data', join(temp.dir, 'extra-reject'), '--config', rejectConfig]);
  assert.equal(rejected.code, 1);
  assert.match(rejected.stdout, /line 2: Field 'customer_email' is not declared by event type 'payment'\./);
  const data = join(temp.dir, 'extra-ignore');
  const ignored = await runCli(['ingest', file, '--event', 'payment', '--data', data, '--config', ignoreConfig]);
  assert.equal(ignored.code, 0, ignored.stderr);
  const lines = ignored.stdout.trim().split('\n');
  assert.match(lines[0]!, /^3 events read: 3 accepted/);
  assert.equal(lines[1], "Ignored fields the event type does not declare, left out of every event: 'customer_email', 'note'.");
  assert.equal(lines.length, 2);
  assert.deepEqual(await totals(data, ignoreConfig), [{ currency: 'EUR', n: 2, total: 19.75 }, { currency: 'JPY', n: 1, total: 1200 }]);
});

test('client commands: --url takes host:port without a scheme, TANDEM_URL stands in for --url, and a wrong URL gets one sentence', async (t) => {
  let server: LongRunning | undefined;
  try {
    server = await startCli(['serve', '--config', ignoreConfig, '--data', join(temp.dir, 'served'), '--port', '0', '--batch-every', '1h', '--log-format', 'json'], /serving at (http:\/\/\S+?)"/);
    const hostPort = new URL(server.url).host;
    const bare = await runCli(['status', '--url', hostPort, '--json']);
    assert.equal(bare.code, 0, bare.stderr);
    assert.equal(typeof JSON.parse(bare.stdout).logEnd, 'number');
    const fromEnv = await runCli(['status', '--json'], { env: { TANDEM_URL: hostPort } });
    assert.equal(fromEnv.code, 0, fromEnv.stderr);
    const file = join(temp.dir, 'live.json');
    await writeFile(file, JSON.stringify([{ ...rows[0], extra: 1 }]));
    const sent = await runCli(['ingest', file, '--event', 'payment', '--no-progress'], { env: { TANDEM_URL: server.url } });
    assert.equal(sent.code, 0, sent.stderr);
    assert.match(sent.stdout, /Ignored fields the event type does not declare, left out of every event: 'extra'\./);
    const wrong = await runCli(['status', '--url', 'ftp://example.com']);
    assert.equal(wrong.code, 1);
    assert.equal(wrong.stderr.trim(), "tandem: --url (or TANDEM_URL) must use http or https, not ftp: 'ftp://example.com'.");
    const garbage = await runCli(['status', '--url', 'http://']);
    assert.equal(garbage.stderr.trim(), "tandem: --url (or TANDEM_URL) must be a server address such as http://127.0.0.1:7070 or 127.0.0.1:7070, not 'http://'.");
  } finally {
    const code = await server?.stop();
    t.diagnostic(`server exited with ${code}`);
  }
});
