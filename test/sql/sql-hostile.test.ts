/**
 * Hostile SQL through `POST /v1/sql`: huge IN lists, deep nesting, long
 * identifiers, many statements, comments, unicode, DuckDB's own file and
 * settings statements. Each answers within two seconds (most within
 * milliseconds) with a typed error (or, where the statement is valid, its
 * rows), never a 500, and the server keeps answering other requests while
 * they run.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createServer, type TandemServer } from '../../src/server/index.ts';
import { openShopEngine, type ShopEngine } from './shop-engine.ts';

let shop: ShopEngine;
let server: TandemServer;

before(async () => {
  shop = await openShopEngine(100, 50);
  server = createServer({ tandem: shop.tandem });
  // The parser's DuckDB instance starts on the first statement; start it before anything is timed.
  await send('SELECT sum(orders) FROM totals_month');
});
after(async () => {
  await server.app.close();
  await shop.close();
});

async function send(sql: string, params?: unknown[]): Promise<{ status: number; code: string | undefined; message: string; ms: number }> {
  const started = performance.now();
  const response = await server.app.inject({ method: 'POST', url: '/v1/sql', payload: JSON.stringify({ sql, ...(params === undefined ? {} : { params }) }), headers: { 'content-type': 'application/json' } });
  const body = response.json() as { error?: { code: string; message: string } };
  return { status: response.statusCode, code: body.error?.code, message: body.error?.message ?? '', ms: performance.now() - started };
}

const FILE = join(tmpdir(), `tandem-sql-hostile-${process.pid}.csv`);
const inList = (n: number) => Array.from({ length: n }, (_, i) => `'country-${i}'`).join(', ');

/** [what, SQL, the codes it may answer with (empty: 200)] */
const HOSTILE: readonly (readonly [string, string, readonly string[], unknown[]?])[] = [
  ['an IN list over the length limit', `SELECT sum(orders) FROM by_country_hour WHERE country IN (${inList(80_000)})`, ['sql_too_large']],
  ['an IN list of 5,000 values within it', `SELECT sum(orders) FROM by_country_hour WHERE country IN (${inList(5000)})`, []],
  ['90,000 nested parentheses', `SELECT sum(orders) FROM by_country_hour WHERE qty = ${'('.repeat(45_000)}1${')'.repeat(45_000)}`, ['sql_syntax', 'sql_too_large']],
  ['10,000 nested calls', `SELECT sum(orders) FROM by_country_hour WHERE qty = ${'abs('.repeat(10_000)}1${')'.repeat(10_000)}`, ['sql_syntax', 'sql_too_large']],
  ['1,000 nested subqueries', `${'SELECT * FROM ('.repeat(1000)}SELECT 1${') s'.repeat(1000)}`, ['sql_syntax', 'sql_too_large', 'sql_unsupported']],
  ['20,000 NOTs', `SELECT sum(orders) FROM by_country_hour WHERE ${'NOT '.repeat(20_000)}country = 'DE'`, ['sql_syntax', 'sql_too_large', 'sql_unsupported']],
  ['4,000 conditions joined by AND', `SELECT sum(orders) FROM by_country_hour WHERE ${Array.from({ length: 4000 }, () => "country = 'DE'").join(' AND ')}`, []],
  ['a 60,000-character column name', `SELECT sum("${'c'.repeat(60_000)}") FROM by_country_hour`, ['unknown_column']],
  ['a 60,000-character view name', `SELECT sum(orders) FROM ${'v'.repeat(60_000)}`, ['unknown_view']],
  ['1,000 statements', 'SELECT sum(orders) FROM totals_month; '.repeat(1000), ['sql_syntax']],
  ['a SELECT and a DROP', 'SELECT sum(orders) FROM totals_month; DROP TABLE totals_month', ['sql_syntax']],
  ['a DROP hidden after a comment', "SELECT sum(orders) FROM totals_month -- ;\n; DROP TABLE totals_month", ['sql_syntax']],
  ['comments only', '-- nothing here\n/* nor here */', ['sql_syntax']],
  ['an unterminated comment', 'SELECT sum(orders) FROM totals_month /* never ends', ['sql_syntax']],
  ['an unterminated string', "SELECT sum(orders) FROM totals_month WHERE country = 'DE", ['sql_syntax']],
  ['comments around a valid statement', '/* a */ SELECT /* b */ sum(orders) -- c\nFROM totals_month /* d */', []],
  ['unicode values', "SELECT sum(orders) FROM by_country_hour WHERE country IN ('Ü😀', 'ק‎', '\u200b', 'ｄｅ')", []],
  ['a unicode view name', 'SELECT sum(orders) FROM "vüé😀"', ['unknown_view']],
  ['a lone surrogate', "SELECT sum(orders) FROM by_country_hour WHERE country = '\ud800'", ['sql_syntax', 'invalid_sql_value', 'malformed_body', 'bad_request', 'invalid_utf8', '']],
  ['a NUL character', "SELECT sum(orders) FROM by_country_hour WHERE country = 'a\u0000b'", ['sql_syntax', 'invalid_sql_value', '']],
  ['a file read', `SELECT * FROM read_csv('${FILE}')`, ['sql_unsupported']],
  ['a file write', `COPY (SELECT 1) TO '${FILE}'`, ['sql_syntax']],
  ['an ATTACH', `ATTACH '${FILE}.db' AS other`, ['sql_syntax']],
  ['a setting', "SET memory_limit = '1TB'", ['sql_syntax']],
  ['a PRAGMA', 'PRAGMA database_list', ['sql_syntax']],
  ['a macro', 'CREATE MACRO m(x) AS x', ['sql_syntax']],
  ['an extension', 'INSTALL httpfs', ['sql_syntax']],
  ['a function call as a table', 'SELECT * FROM json_serialize_sql(\'SELECT 1\')', ['sql_unsupported']],
  ['70,000 parameters', 'SELECT sum(orders) FROM totals_month', ['sql_parameter'], Array.from({ length: 70_000 }, () => 1)],
  ['a 5 MB parameter', 'SELECT sum(orders) FROM by_country_hour WHERE country = $1', ['invalid_sql_value'], ['x'.repeat(5_000_000)]],
];

for (const [what, sql, codes, params] of HOSTILE) {
  test(`sql hostile - ${what}: ${codes.length === 0 ? 'answered' : codes.filter((c) => c !== '').join(' or ')}, within two seconds`, async () => {
    const answer = await send(sql, params);
    if (codes.length === 0) assert.equal(answer.status, 200, answer.message);
    else {
      assert.ok(answer.status === 200 ? codes.includes('') : answer.status === 400 && codes.includes(answer.code!), `${answer.status} ${answer.code}: ${answer.message}`);
      if (answer.status === 400) assert.match(answer.message, /^[^\n]{1,400}\.$/);
    }
    assert.ok(answer.ms < 2000, `${answer.ms.toFixed(0)} ms`);
  });
}

test('sql hostile - nothing DuckDB could have been asked to do happened: no file was written', () => {
  assert.equal(existsSync(FILE), false);
  assert.equal(existsSync(`${FILE}.db`), false);
});

test('sql hostile - while 16 hostile statements run at once, the server answers other requests, and then every statement', async () => {
  const hostile = Array.from({ length: 16 }, (_, i) => send(HOSTILE[i % 8]![1]));
  const started = performance.now();
  const health = await server.app.inject({ url: '/healthz' });
  assert.equal(health.statusCode, 200);
  const valid = await send('SELECT sum(orders) FROM totals_month');
  assert.equal(valid.status, 200);
  assert.ok(performance.now() - started < 5000);
  for (const answer of await Promise.all(hostile)) assert.ok(answer.status === 200 || answer.status === 400, `${answer.status} ${answer.code}`);
});
