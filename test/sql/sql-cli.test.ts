/**
 * `tandem sql` against a listening server, run in-process through the CLI's
 * own `main` (the binary runs the compiled package, which these tests do
 * not build): a table with the answer's meta, each `--format` (json, csv,
 * tsv, ndjson: the formatter `tandem query` uses), parameters, and a refusal as one line and exit status 1.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { main } from '../../src/cli/main.ts';
import { formatCsv } from '../../src/cli/print-csv.ts';
import { parameterValue } from '../../src/cli/commands/sql.ts';
import { createServer, type TandemServer } from '../../src/server/index.ts';
import { openShopEngine, type ShopEngine } from './shop-engine.ts';

let shop: ShopEngine;
let server: TandemServer;
let url: string;

before(async () => {
  shop = await openShopEngine(100, 50);
  server = createServer({ tandem: shop.tandem });
  url = await server.app.listen({ host: '127.0.0.1', port: 0 });
});
after(async () => {
  await server.app.close();
  await shop.close();
});

/** Runs `tandem <args>` in this process; what it printed, and its exit status. */
async function tandem(...args: string[]): Promise<{ out: string; err: string; code: number }> {
  let out = '';
  let err = '';
  // Only console is captured: the test runner reports on process.stdout meanwhile.
  const saved = { log: console.log, error: console.error, exitCode: process.exitCode };
  console.log = (...parts: unknown[]) => void (out += `${parts.join(' ')}\n`);
  console.error = (...parts: unknown[]) => void (err += `${parts.join(' ')}\n`);
  try {
    await main(['node', 'tandem', ...args, '--url', url]);
    return { out, err, code: Number(process.exitCode ?? 0) };
  } finally {
    Object.assign(console, { log: saved.log, error: saved.error });
    process.exitCode = saved.exitCode;
  }
}

const GROUPED = 'SELECT country, sum(orders) AS orders, sum(revenue) AS revenue FROM all_time GROUP BY country ORDER BY country';

test('sql cli - a table with the column names, right-aligned numbers, and the answer\'s meta', async () => {
  const { out, code } = await tandem('sql', GROUPED);
  assert.equal(code, 0);
  const lines = out.split('\n');
  assert.match(lines[0]!, /^country\s+orders\s+revenue$/);
  assert.match(lines[1]!, /^-+\s+-+\s+-+$/);
  assert.deepEqual(lines.slice(2, 6).map((l) => l.split(/\s+/)[0]), ['BR', 'DE', 'FR', 'US']);
  assert.match(out, /\n4 rows · batch v1 below offset 100 · log end 150 · layer merged\n/);
});

test('sql cli - --format json prints the answer as the server gave it, --format csv a header and the rows', async () => {
  const json = await tandem('sql', GROUPED, '--format', 'json');
  const answer = JSON.parse(json.out) as { columns: { name: string }[]; rows: unknown[][] };
  assert.deepEqual(answer.columns.map((c) => c.name), ['country', 'orders', 'revenue']);
  const csv = await tandem('sql', GROUPED, '--format', 'csv');
  assert.equal(csv.out, `${formatCsv(['country', 'orders', 'revenue'], answer.rows)}\n`);
  assert.match(csv.out, /^country,orders,revenue\nBR,\d+,[\d.]+\n/);
});

test('sql cli - --format tsv and ndjson print the rows alone, as the json answer holds them', async () => {
  const answer = JSON.parse((await tandem('sql', GROUPED, '--format', 'json')).out) as { rows: unknown[][] };
  const tsv = await tandem('sql', GROUPED, '--format', 'tsv');
  assert.equal(tsv.code, 0, tsv.err);
  assert.equal(tsv.out, `${['country\torders\trevenue', ...answer.rows.map((row) => row.join('\t'))].join('\n')}\n`);
  const ndjson = await tandem('sql', GROUPED, '--format', 'ndjson');
  const lines = ndjson.out.split('\n');
  assert.equal(lines.pop(), '', 'a final line break');
  assert.deepEqual(lines.map((line) => JSON.parse(line) as unknown), answer.rows.map(([country, orders, revenue]) => ({ country, orders, revenue })));
  assert.doesNotMatch(ndjson.out + tsv.out, /rows ·/, 'no note for programs');
});

test('sql cli - no rows: csv and tsv print the header a SQL answer knows, ndjson nothing, the table says so', async () => {
  const none = `${GROUPED.replace(' GROUP BY', " WHERE country = 'nowhere' GROUP BY")}`;
  assert.equal((await tandem('sql', none, '--format', 'csv')).out, 'country,orders,revenue\n');
  assert.equal((await tandem('sql', none, '--format', 'tsv')).out, 'country\torders\trevenue\n');
  assert.equal((await tandem('sql', none, '--format', 'ndjson')).out, '');
  assert.match((await tandem('sql', none)).out, /^\(no rows\)\n\n0 rows · /);
});

test('sql cli - a column name that repeats keeps both columns in ndjson', async () => {
  const { out, err, code } = await tandem('sql', 'SELECT country, sum(orders) AS country FROM all_time GROUP BY 1 ORDER BY 1', '--format', 'ndjson');
  assert.equal(code, 0, err);
  const first = JSON.parse(out.split('\n')[0]!) as Record<string, unknown>;
  assert.deepEqual(Object.keys(first), ['country', 'country_2']);
  assert.equal(first.country, 'BR');
  assert.equal(typeof first.country_2, 'number');
});

test('sql cli - -p gives $1, $2, … as JSON values or as text', async () => {
  const { out, code } = await tandem('sql', 'SELECT sum(orders) FROM by_country_minute WHERE country = $1 AND qty IN ($2, $3)', '-p', 'DE', '-p', '3', '--param', '"4"', '--format', 'json');
  assert.equal(code, 0, out);
  assert.equal((JSON.parse(out) as { rows: unknown[][] }).rows.length, 1);
  assert.deepEqual(['DE', '3', 'true', 'null', '"x"', '[1]', '2024-05-01'].map(parameterValue), ['DE', 3, true, null, 'x', '[1]', '2024-05-01']);
});

test('sql cli - a refused statement prints the server\'s sentence on one line and exits 1', async () => {
  const { err, code } = await tandem('sql', 'SELECT max(revenue) FROM all_time');
  assert.equal(code, 1);
  assert.equal(err, "tandem: The server answered 400: select[0]: max(revenue) cannot be answered from the view's rows, since 'revenue' is a sum measure, merged by adding; write sum(revenue).\n");
});

test('sql cli - CSV quotes cells with commas, quotes and line breaks, and writes objects as JSON', () => {
  assert.equal(formatCsv(['a', 'b'], [['x,y', 'say "hi"'], ['line\nbreak', { p50: 1 }], [null, ' edge']]), 'a,b\n"x,y","say ""hi"""\n"line\nbreak","{""p50"":1}"\n," edge"');
});
