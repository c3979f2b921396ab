/**
 * Hostile SQL through `POST /v1/sql`: huge IN lists, deep nesting, long
 * identifiers, many statements, comments, unicode, DuckDB's own file and
 * settings statements. Each answers within two seconds (most within
 * milliseconds) with a typed error (or, where the statement is valid, its
 * rows), never a 500, and the server keeps answering other requests while
 * they run.
 */
import fc from 'fast-check';
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

const COLUMNS = ['time', 'country', 'device', 'mobile', 'qty', 'orders', 'revenue', 'basket', 'spread', 'devices', 'latest', 'smallest', 'nope', 'r.country'];
const FUNCTIONS = ['sum', 'max', 'min', 'avg', 'count', 'approx_count_distinct', 'approx_quantile', 'median', 'date_trunc', 'time_bucket', 'floor', 'to_timestamp', 'now', 'upper', 'abs', 'date_part'];
/** Well-formed pieces, so that many random statements plan and run. */
const PIECES = ['country', 'time', 'sum(orders)', 'sum(revenue)', 'avg(basket)', 'max(latest)', 'count(DISTINCT devices)', "date_trunc('day', time)", 'floor(extract(epoch from time)/3600)*3600', 'approx_quantile(spread, 0.9)', "time >= '2024-04-01'", "country IN ('DE', 'FR')"];
const CONSTANTS = ["'day'", "'1 hour'", "'5 minutes'", "'DE'", "'2024-05-01'", '0.5', '3600', '1', '-1', '$1', 'NULL', 'true', "interval '7 days'", '1e400', "'\u{1F600}'"];

/** Random expressions over the views' columns: calls, operators, casts, nested a few levels. */
const expression = fc.letrec<{ expr: string }>((tie) => ({
  expr: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(...COLUMNS, ...CONSTANTS),
    fc.constantFrom(...PIECES),
    fc.tuple(fc.constantFrom(...FUNCTIONS), fc.boolean(), fc.array(tie('expr'), { maxLength: 3 })).map(([f, distinct, args]) => `${f}(${distinct ? 'DISTINCT ' : ''}${args.join(', ')})`),
    fc.tuple(tie('expr'), fc.constantFrom('+', '-', '*', '/', '=', '<', '>=', '<>', 'AND', 'OR', 'IN', 'BETWEEN 1 AND'), tie('expr')).map(([a, op, b]) => (op === 'IN' ? `${a} IN (${b})` : `${a} ${op} ${b}`)),
    fc.tuple(tie('expr'), fc.constantFrom('timestamptz', 'interval', 'text', 'int', 'boolean', 'date')).map(([e, t]) => `${e}::${t}`),
    fc.tuple(fc.constantFrom(0.5, 0.99), fc.constantFrom(...COLUMNS)).map(([q, c]) => `percentile_cont(${q}) WITHIN GROUP (ORDER BY ${c})`),
    tie('expr').map((e) => `(${e})`),
  ),
})).expr;

const randomStatement = fc.record({
  select: fc.array(fc.tuple(expression, fc.option(fc.constantFrom('t', 'x', 'time', 'country'), { nil: undefined })), { minLength: 1, maxLength: 4 }),
  distinct: fc.boolean(),
  view: fc.constantFrom('by_country_hour r', 'by_country_hour', 'by_country_hour', 'all_time', 'by_device_week', 'totals_month', 'by_country_minute', 'nope'),
  where: fc.option(expression, { nil: undefined }),
  group: fc.array(fc.oneof(expression, fc.constantFrom('1', '2', 't')), { maxLength: 3 }),
  order: fc.array(fc.tuple(fc.oneof(expression, fc.constantFrom('1', '2', 't')), fc.constantFrom('', ' DESC', ' NULLS FIRST')), { maxLength: 3 }),
  limit: fc.option(fc.constantFrom('10', '0', '-1', "'x'", '$1', 'ALL'), { nil: undefined }),
}).map((r) => [
  `SELECT ${r.distinct ? 'DISTINCT ' : ''}${r.select.map(([e, alias]) => (alias === undefined ? e : `${e} AS ${alias}`)).join(', ')} FROM ${r.view}`,
  r.where === undefined ? '' : ` WHERE ${r.where}`,
  r.group.length === 0 ? '' : ` GROUP BY ${r.group.join(', ')}`,
  r.order.length === 0 ? '' : ` ORDER BY ${r.order.map(([e, d]) => `${e}${d}`).join(', ')}`,
  r.limit === undefined ? '' : ` LIMIT ${r.limit}`,
].join(''));

test('sql hostile - random statements answer 200 or a typed 400, never a 500, each within two seconds', async () => {
  await fc.assert(
    fc.asyncProperty(randomStatement, async (sql) => {
      const answer = await send(sql, sql.includes('$1') ? ['DE'] : undefined);
      assert.ok(answer.status === 200 || (answer.status === 400 && answer.code !== undefined && /^[^\n]+\.$/.test(answer.message)), `${sql} → ${answer.status} ${answer.code}: ${answer.message}`);
      assert.ok(answer.ms < 2000, `${sql}: ${answer.ms.toFixed(0)} ms`);
    }),
    { numRuns: 500, seed: 30_30 },
  );
});
