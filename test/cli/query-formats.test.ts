/**
 * `tandem query` against `tandem serve` (from dist: `npm run build` first):
 * every `--format` prints the server's rows exactly (quotes, commas, tabs
 * and line breaks in values; a sum past 2^53 kept as its digits), counts
 * read in the right number, an answer before the first batch says so, and a
 * misspelt view is answered with the views and the nearest one.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { QueryResult } from '../../src/index.ts';
import { runCli, startCli, type LongRunning } from '../support/spawn-cli.ts';
import { withTempDir } from '../support/temp-dir.ts';

const SERVING = /serving at (http:\/\/\S+?)"/;
const config = {
  eventTypes: [{ name: 'sale', time: 'at', fields: { at: 'timestamp', city: 'string', amount: { type: 'number', scale: 0 } } }],
  views: [
    { name: 'sales_by_city', eventType: 'sale', dimensions: ['city'], granularity: 'day', measures: { n: { type: 'count' }, total: { type: 'sum', field: 'amount' } } },
    { name: 'sales_total', eventType: 'sale', dimensions: [], granularity: 'none', measures: { n: { type: 'count' } } },
  ],
};
const CITIES = ['Köln', 'Paris, "la ville"', 'tab\there', 'two\nlines', ' edge ', 'back\\slash'];
const BIG = 2 ** 53 - 1;
const byCity = { view: 'sales_by_city', groupBy: ['city'], granularity: 'all' };

async function withServer(fn: (server: LongRunning, dir: string) => Promise<void>): Promise<void> {
  await withTempDir(async (dir) => {
    await writeFile(join(dir, 'config.json'), JSON.stringify(config));
    const server = await startCli(['serve', '--config', join(dir, 'config.json'), '--data', join(dir, 'data'), '--port', '0', '--batch-every', '1h', '--log-format', 'json'], SERVING);
    try {
      await fn(server, dir);
    } finally {
      await server.stop();
    }
  });
}

async function ingest(url: string, events: readonly object[]): Promise<void> {
  const response = await fetch(`${url}/v1/events/sale`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: events.map((e) => JSON.stringify(e)).join('\n') });
  assert.equal(response.status, 200, await response.text());
}

async function queryCli(url: string, query: object, ...flags: string[]): Promise<string> {
  const result = await runCli(['query', JSON.stringify(query), '--url', url, ...flags]);
  assert.equal(result.code, 0, result.stderr);
  return result.stdout;
}

/** Every cell as text, the way CSV and TSV carry it: null as empty, an object as its JSON. */
function textRows(rows: QueryResult['rows']): string[][] {
  return rows.map((row) => ['city', 'n', 'total'].map((c) => (row[c] === null ? '' : String(row[c])))).sort();
}

/** Reads CSV back with DuckDB, every column as text: an independent reader checks the quoting. */
async function readCsv(file: string): Promise<string[][]> {
  const instance = await DuckDBInstance.create(':memory:');
  try {
    const connection = await instance.connect();
    const reader = await connection.runAndReadAll(`SELECT city, n, total FROM read_csv($1, header = true, all_varchar = true, quote = '"', escape = '"', delim = ',', strict_mode = true)`, [file]);
    connection.closeSync();
    return (reader.getRowsJS() as unknown[][]).map((row) => row.map((cell) => (cell === null ? '' : String(cell)))).sort();
  } finally {
    instance.closeSync();
  }
}

function readTsv(text: string): string[][] {
  const unescape = (cell: string) => cell.replace(/\\(.)/g, (_, c: string) => ({ t: '\t', n: '\n', r: '\r', '\\': '\\' })[c] ?? c);
  const [header, ...lines] = text.replace(/\n$/, '').split('\n');
  assert.equal(header, 'city\tn\ttotal');
  return lines.map((line) => line.split('\t').map(unescape)).sort();
}

test('tandem query - "1 row" and "no batch yet" before the first batch, then the batch that answered', { timeout: 120_000 }, async () => {
  await withServer(async (server) => {
    await ingest(server.url, [{ at: '2026-01-01T10:00:00Z', city: 'Köln', amount: 1 }]);
    const before = await queryCli(server.url, { view: 'sales_total', granularity: 'all' });
    assert.match(before, /\n\n1 row · no batch yet · log end 1 · layer \w+\n$/);
    assert.equal((await runCli(['batch', '--url', server.url])).code, 0);
    const after = await queryCli(server.url, { view: 'sales_total', granularity: 'all' });
    assert.match(after, /\n\n1 row · batch v1 below offset 1 · log end 1 · layer \w+\n$/);
    await ingest(server.url, [{ at: '2026-01-01T10:00:00Z', city: 'Paris', amount: 1 }]);
    const two = await queryCli(server.url, { view: 'sales_by_city', groupBy: ['city'], granularity: 'all' });
    assert.match(two, /\n\n2 rows · batch v1 below offset 1 · log end 2 · layer \w+\n$/);
    const none = await queryCli(server.url, { view: 'sales_by_city', where: { city: 'nowhere' }, granularity: 'all' });
    assert.match(none, /^\(no rows\)\n\n0 rows · /);
  });
});

test('tandem query --format - csv, tsv, ndjson and json carry every value exactly, a sum past 2^53 too', { timeout: 120_000 }, async () => {
  await withServer(async (server, dir) => {
    await ingest(server.url, CITIES.map((city, i) => ({ at: '2026-01-01T10:00:00Z', city, amount: i + 1 })));
    await ingest(server.url, [{ at: '2026-01-02T10:00:00Z', city: 'Köln', amount: BIG }, { at: '2026-01-02T11:00:00Z', city: 'Köln', amount: BIG }]);
    const reference = JSON.parse(await queryCli(server.url, byCity, '--json')) as QueryResult;
    assert.equal(reference.rows.length, CITIES.length);
    const koeln = reference.rows.find((r) => r.city === 'Köln')!;
    assert.equal(String(koeln.total), (2n * BigInt(BIG) + 1n).toString(), 'the server sends the big sum exactly');
    assert.deepEqual(JSON.parse(await queryCli(server.url, byCity, '--format', 'json')), reference, '--json is --format json');

    const csv = await queryCli(server.url, byCity, '--format', 'csv');
    assert.match(csv, /^city,n,total\n/);
    assert.ok(csv.includes('"Paris, ""la ville""",1,2\n'), csv);
    assert.ok(csv.includes(`Köln,3,${2n * BigInt(BIG) + 1n}`), csv);
    await writeFile(join(dir, 'answer.csv'), csv);
    assert.deepEqual(await readCsv(join(dir, 'answer.csv')), textRows(reference.rows));

    const tsv = await queryCli(server.url, byCity, '--format', 'tsv');
    assert.equal(tsv.split('\n').length, CITIES.length + 2, 'one line per row, a header and the final line break');
    assert.ok(tsv.includes('tab\\there\t1\t3\n') && tsv.includes('two\\nlines\t1\t4\n') && tsv.includes('back\\\\slash\t1\t6\n'), tsv);
    assert.deepEqual(readTsv(tsv), textRows(reference.rows));

    const ndjson = (await queryCli(server.url, byCity, '--format', 'ndjson')).split('\n');
    assert.equal(ndjson.pop(), '', 'a final line break');
    assert.deepEqual(ndjson.map((line) => JSON.parse(line) as unknown), reference.rows);

    const empty = { ...byCity, where: { city: 'nowhere' } };
    for (const format of ['csv', 'tsv', 'ndjson']) assert.equal(await queryCli(server.url, empty, '--format', format), '', `${format}: no rows, nothing printed`);
    const clash = await runCli(['query', JSON.stringify(byCity), '--url', server.url, '--json', '--format', 'csv']);
    assert.equal(clash.code, 1);
    assert.match(clash.stderr, /--json.* cannot be used with .*--format/);
    const wrong = await runCli(['query', JSON.stringify(byCity), '--url', server.url, '--format', 'xml']);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /Allowed choices are table, json, csv, tsv, ndjson/);
  });
});

test('tandem query - an unknown view lists the views and the nearest name', { timeout: 120_000 }, async () => {
  await withServer(async (server) => {
    const typo = await runCli(['query', '{"view":"sales_by_ctiy"}', '--url', server.url]);
    assert.equal(typo.code, 1);
    assert.equal(typo.stderr, "tandem: There is no view 'sales_by_ctiy' (did you mean 'sales_by_city'?); the views are sales_by_city and sales_total.\n");
    const far = await runCli(['query', '{"view":"pizza"}', '--url', server.url]);
    assert.equal(far.stderr, "tandem: There is no view 'pizza'; the views are sales_by_city and sales_total.\n");
    const other = await runCli(['query', '{"view":"sales_by_city","groupBy":["town"]}', '--url', server.url]);
    assert.match(other.stderr, /^tandem: The server answered 400: .*'town'.*\n$/, 'other refusals stay as the server put them');
  });
});
