import { DuckDBInstance } from '@duckdb/node-api';
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Query, QueryResult } from '../../src/index.ts';
import { canonicalRows, referenceQuery } from '../support/reference.ts';
import { shopConfig, views } from '../support/shop-config.ts';
import { AcceptedEvents, shopEvent } from '../support/shop-events.ts';
import { shopQueries } from '../support/shop-queries.ts';
import { runCli, startCli } from '../support/spawn-cli.ts';

const SERVING = /serving at (http:\/\/\S+?)"/;
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tandem-cli-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** NDJSON with valid, invalid, duplicate and unparseable lines; Parquet with valid rows only (written by DuckDB). */
/** CSV whose ids are all digits: DuckDB would guess a number; the schema says string. Columns out of the schema's order. */
async function writeCsv(accepted: AcceptedEvents): Promise<string> {
  const events = fc.sample(shopEvent, { numRuns: 300, seed: 9 }).filter((e) => e.valid)
    .map((e, i) => ({ ...e, ref: { ...e.ref, id: String(900_000 + i) } }));
  accepted.add(events);
  const lines = ['country,id,at,amount,qty,mobile,device', ...events.map((e) =>
    [e.ref.country, e.ref.id, new Date(e.ref.at).toISOString(), (e.ref.cents / 100).toFixed(2), e.ref.qty, e.ref.mobile, e.ref.device ?? ''].join(','))];
  const file = join(dir, 'orders.csv');
  await writeFile(file, lines.join('\n') + '\n');
  return file;
}

async function writeInputs(accepted: AcceptedEvents): Promise<{ ndjson: string; parquet: string; invalidLines: number }> {
  const first = fc.sample(shopEvent, { numRuns: 1500, seed: 7 });
  const lines = first.map((e) => JSON.stringify(e.raw));
  lines.splice(100, 0, '{"id": broken');
  accepted.add(first);
  const ndjson = join(dir, 'orders.ndjson');
  await writeFile(ndjson, lines.join('\n') + '\n');

  const second = fc.sample(shopEvent, { numRuns: 800, seed: 8 })
    .filter((e) => e.valid)
    .map((e) => ({ ...e, ref: { ...e.ref, id: `pq${e.ref.id}` }, raw: { ...e.raw, id: `pq${e.ref.id}`, at: new Date(e.ref.at).toISOString(), device: e.ref.device } }));
  accepted.add(second);
  const staged = join(dir, 'staged.ndjson');
  await writeFile(staged, second.map((e) => JSON.stringify(e.raw)).join('\n'));
  const parquet = join(dir, 'orders.parquet');
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  await connection.run(
    `COPY (SELECT id, "at"::TIMESTAMP AS "at", country, device, mobile, amount::DECIMAL(12,2) AS amount, qty::INTEGER AS qty
           FROM read_json($1, columns = {'id': 'VARCHAR', 'at': 'VARCHAR', country: 'VARCHAR', device: 'VARCHAR', mobile: 'BOOLEAN', amount: 'DOUBLE', qty: 'DOUBLE'}))
     TO '${parquet.replaceAll("'", "''")}' (FORMAT parquet)`, [staged]);
  connection.closeSync();
  instance.closeSync();
  return { ndjson, parquet, invalidLines: first.filter((e) => !e.valid).length + 1 };
}

/** Every shop query over HTTP, and the first few through `tandem query` too (each spawn costs half a second). */
async function checkAnswers(url: string, accepted: AcceptedEvents): Promise<void> {
  for (const [i, query] of shopQueries().entries()) {
    let answer: QueryResult;
    if (i < 3) {
      const result = await runCli(['query', JSON.stringify(query), '--json', '--url', url]);
      assert.equal(result.code, 0, result.stderr);
      answer = JSON.parse(result.stdout) as QueryResult;
    } else {
      const response = await fetch(`${url}/v1/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(query) });
      assert.equal(response.status, 200);
      answer = await response.json() as QueryResult;
    }
    const view = views.find((v) => v.name === query.view)!;
    assert.deepEqual(canonicalRows(answer.rows), canonicalRows(referenceQuery(view, accepted.events, query as Query)), JSON.stringify(query));
  }
}

test('end to end: tandem serve, tandem ingest (NDJSON and Parquet), tandem batch, tandem query, graceful restart', { timeout: 120_000 }, async () => {
  const config = join(dir, 'tandem.config.json');
  await writeFile(config, JSON.stringify(shopConfig));
  const data = join(dir, 'data');
  const accepted = new AcceptedEvents();
  const inputs = await writeInputs(accepted);
  const serveArgs = ['serve', '--config', config, '--data', data, '--port', '0', '--batch-every', '1h'];
  let server = await startCli(serveArgs, SERVING);
  try {
    // The input holds bad lines on purpose: their count is the most rejects allowed.
    const ingested = await runCli(['ingest', inputs.ndjson, '--event', 'order', '--url', server.url, '--batch-size', '200', '--max-rejects', '1000']);
    assert.equal(ingested.code, 0, ingested.stderr);
    const counts = /^([\d,]+) events read: ([\d,]+) accepted \(([\d,]+) stored, ([\d,]+) already stored\), ([\d,]+) rejected/.exec(ingested.stdout);
    assert.ok(counts !== null, ingested.stdout);
    const [read, acceptedCount, stored, duplicates, rejected] = counts.slice(1).map((n) => Number(n.replaceAll(',', '')));
    assert.equal(stored, acceptedCount! - duplicates!);
    assert.equal(read, 1501);
    assert.equal(rejected, inputs.invalidLines);
    assert.match(ingested.stdout, /line \d+: Field '\w+'/);

    const parquet = await runCli(['ingest', inputs.parquet, '--event', 'order', '--url', server.url]);
    assert.equal(parquet.code, 0, parquet.stderr);
    assert.match(parquet.stdout, /events read: [\d,]+ accepted \([\d,]+ stored, [\d,]+ already stored\), 0 rejected/);
    const csv = await runCli(['ingest', await writeCsv(accepted), '--event', 'order', '--url', server.url]);
    assert.equal(csv.code, 0, csv.stderr);
    assert.match(csv.stdout, /^[\d,]+ events read: [\d,]+ accepted \([\d,]+ stored, 0 already stored\), 0 rejected/, csv.stdout);
    await checkAnswers(server.url, accepted);

    const locked = await runCli(['ingest', inputs.ndjson, '--event', 'order', '--data', data, '--config', config]);
    assert.equal(locked.code, 1);
    assert.match(locked.stderr, /^tandem: The data directory .* is in use by process \d+; stop it first/);

    const unknown = await runCli(['ingest', inputs.ndjson, '--event', 'refund', '--url', server.url]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^tandem: The server answered 404: Unknown event type 'refund'; 0 events were accepted before the failure\.$/m);

    const batch = await runCli(['batch', '--url', server.url]);
    assert.equal(batch.code, 0, batch.stderr);
    const took = /batch v1 published: .*; the cycle took (\d+\.\d\d) s from seal to publish \(export \d+\.\d\d s, views \d+\.\d\d s\)$/m.exec(batch.stdout);
    assert.ok(took !== null, batch.stdout);
    await checkAnswers(server.url, accepted);

    const table = await runCli(['query', '{"view":"by_country_hour","groupBy":["country"],"granularity":"all"}', '--url', server.url]);
    assert.match(table.stdout, /^country\s+orders\s+revenue/);
    assert.match(table.stdout, /rows · batch v1 below offset \d+/);

    const status = await runCli(['status', '--url', server.url]);
    assert.match(status.stdout, /batch layer\s+v1/);
    assert.match(status.stdout, new RegExp(`its cycle took ${took[1]!.replace('.', '\\.')} s from seal to publish`), 'one run has one duration');

    assert.equal(await server.stop('SIGTERM'), 0, 'graceful shutdown exits 0');
    server = await startCli(serveArgs, SERVING);
    await checkAnswers(server.url, accepted);
  } finally {
    await server.stop('SIGTERM');
  }
});

test('user mistakes print one line and exit 1, without a stack trace', async () => {
  const cases: [string[], RegExp][] = [
    [['query', '{oops'], /^tandem: The query is not valid JSON/],
    [['status', '--url', 'http://127.0.0.1:45679'], /^tandem: Cannot reach a Tandem server at http:\/\/127\.0\.0\.1:45679/],
    [['serve', '--config', join(dir, 'missing.json')], /^tandem: Cannot read the config file/],
    [['ingest', join(dir, 'nothing.ndjson'), '--event', 'order'], /^tandem: Cannot read the input file/],
    [['serve', '--config', join(dir, 'x.json'), '--batch-every', 'soon'], /^tandem: (--batch-every must be|Cannot read)/],
  ];
  for (const [args, message] of cases) {
    const result = await runCli(args);
    assert.equal(result.code, 1, args.join(' '));
    assert.match(result.stderr, message);
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    assert.doesNotMatch(result.stderr, /\n\s+at /);
  }
});

test('--help works on every command', async () => {
  for (const command of ['', 'serve', 'demo', 'ingest', 'batch', 'query', 'status', 'keygen']) {
    const result = await runCli(command === '' ? ['--help'] : [command, '--help']);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /^Usage: tandem/);
  }
});
