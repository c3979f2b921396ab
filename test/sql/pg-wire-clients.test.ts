/**
 * Real PostgreSQL clients against the endpoint: psql (`\dt`, `\d view`, a
 * grouped query, a refused write, with an API key as its password) and
 * Python's psycopg2 with SQLAlchemy's inspector (what Superset reads on
 * connect), psycopg 3 in binary format, and pgjdbc (Metabase's and
 * DBeaver's driver) from a single-file Java program. A client that is not installed skips its test with the reason,
 * and fails it instead under TANDEM_REQUIRE_SERVICES=1 (as in CI, whose
 * .ci/run installs them from Debian).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test, type TestContext } from 'node:test';
import { timestamptzText } from '../../src/pgwire/pg-types.ts';
import { openPgShop, QUERY_KEY, type PgShop } from './pg-shop.ts';

interface Run {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** Runs a program to its end (at most 30 s), with the key as libpq's password. */
function run(program: string, args: readonly string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(program, args, { timeout: 30_000, env: { ...process.env, PGPASSWORD: QUERY_KEY, PGCONNECT_TIMEOUT: '5', PSQLRC: '/dev/null', PAGER: '' } }, (error, out, err) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, out, err });
    });
  });
}

/** The path of a client, or undefined after skipping `t` with the reason (a failure under TANDEM_REQUIRE_SERVICES=1). */
async function client(t: TestContext, candidates: readonly string[], probe: readonly string[], what: string): Promise<string | undefined> {
  for (const path of candidates) {
    if (path.startsWith('/') && !existsSync(path)) continue;
    if ((await run(path, probe)).code === 0) return path;
  }
  const packages: Readonly<Record<string, string>> = { psql: 'postgresql-client', 'psycopg 3': 'python3-psycopg', pgjdbc: 'default-jdk-headless libpostgresql-jdbc-java' };
  const reason = `SKIPPED: ${what} is not installed (apt-get install ${packages[what] ?? 'python3-psycopg2 python3-sqlalchemy'})`;
  if (process.env.TANDEM_REQUIRE_SERVICES === '1') throw new Error(`${reason}, and TANDEM_REQUIRE_SERVICES=1 requires it.`);
  t.skip(reason);
  return undefined;
}

describe('pg clients', () => {
  let shop: PgShop;
  before(async () => {
    shop = await openPgShop({ keys: true });
  });
  after(async () => {
    await shop?.close();
  });

  const psql = (path: string, ...args: string[]) => run(path, ['-h', '127.0.0.1', '-p', String(shop.pg.port), '-U', 'analyst', '-d', 'tandem', '-X', ...args]);

  test('pg clients - psql lists the views with \\dt and describes one with \\d', async (t) => {
    const path = await client(t, ['psql'], ['--version'], 'psql');
    if (path === undefined) return;
    const tables = await psql(path, '-c', '\\dt');
    assert.equal(tables.code, 0, tables.err);
    for (const view of shop.shop.tandem.catalog.views.keys()) assert.match(tables.out, new RegExp(`public \\| ${view} +\\| table`));
    const described = await psql(path, '-c', '\\d by_country_hour');
    assert.equal(described.code, 0, described.err);
    assert.match(described.out, /Table "public\.by_country_hour"/);
    assert.match(described.out, / time +\| timestamp with time zone \|/);
    assert.match(described.out, / revenue +\| numeric +\|/);
    assert.match(described.out, / orders +\| bigint +\|/);
  });

  test('pg clients - psql answers a grouped query as /v1/sql does, and refuses a write', async (t) => {
    const path = await client(t, ['psql'], ['--version'], 'psql');
    if (path === undefined) return;
    const sql = 'SELECT country, sum(orders) AS orders, sum(revenue) AS revenue, max(latest) AS latest FROM by_country_hour GROUP BY country ORDER BY revenue DESC';
    const grouped = await psql(path, '-A', '-t', '-F', '|', '-c', sql);
    assert.equal(grouped.code, 0, grouped.err);
    const expected = await shop.sql(sql);
    const lines = expected.rows.map((r) => [r[0], r[1], r[2], timestamptzText(String(r[3]))].join('|'));
    assert.deepEqual(grouped.out.trim().split('\n'), lines);
    const write = await psql(path, '-c', 'DELETE FROM all_time');
    assert.notEqual(write.code, 0);
    assert.match(write.err, /ERROR: {2}DELETE is not answered: Tandem's views are read-only/);
  });

  test('pg clients - psycopg2 answers as /v1/sql does, and SQLAlchemy\'s inspector lists the views and their columns', async (t) => {
    const path = await client(t, ['/usr/bin/python3', 'python3'], ['-c', 'import psycopg2, sqlalchemy'], 'psycopg2 and SQLAlchemy');
    if (path === undefined) return;
    const script = fileURLToPath(new URL('fixtures/python-clients.py', import.meta.url));
    const result = await run(path, [script, String(shop.pg.port), QUERY_KEY]);
    assert.equal(result.code, 0, result.err);
    const seen = JSON.parse(result.out) as { grouped: { columns: string[]; types: number[]; rows: string[][] }; schemas: string[]; tables: string[]; columns: Record<string, string[][]>; pk: string[]; indexes: unknown[]; sqlalchemy: number[][] };
    const expected = await shop.sql("SELECT country, sum(orders) AS orders, sum(revenue) AS revenue FROM all_time WHERE country IN ('DE', 'FR') GROUP BY country ORDER BY country");
    assert.deepEqual(seen.grouped.columns, ['country', 'orders', 'revenue']);
    assert.deepEqual(seen.grouped.types, [25, 20, 1700]);
    assert.deepEqual(seen.grouped.rows, expected.rows.map((r) => r.map(String)));
    assert.deepEqual(seen.tables, [...shop.shop.tandem.catalog.views.keys()].sort());
    assert.ok(seen.schemas.includes('public'));
    assert.deepEqual(seen.columns.all_time, [['country', 'TEXT'], ['orders', 'BIGINT'], ['revenue', 'NUMERIC'], ['sizes', 'BIGINT'], ['typical', 'JSON']]);
    assert.deepEqual(seen.columns.by_country_hour!.slice(0, 2), [['time', 'TIMESTAMP'], ['country', 'TEXT']]);
    assert.deepEqual(seen.pk, []);
    assert.deepEqual(seen.indexes, []);
    const total = await shop.sql('SELECT sum(orders) FROM all_time');
    assert.deepEqual(seen.sqlalchemy, total.rows);
  });

  test('pg clients - pgjdbc (Metabase\'s driver) lists the views and their columns, runs a prepared statement past its prepare threshold, and gets 25006 for a write', async (t) => {
    const jar = '/usr/share/java/postgresql.jar';
    const path = await client(t, existsSync(jar) ? ['java'] : [], ['-version'], 'pgjdbc');
    if (path === undefined) return;
    const source = fileURLToPath(new URL('fixtures/JdbcClient.java', import.meta.url));
    const result = await run(path, ['-cp', jar, source, String(shop.pg.port), QUERY_KEY]);
    assert.equal(result.code, 0, result.err);
    const facts = new Map(result.out.trim().split('\n').map((line) => line.split('\t') as [string, string]));
    assert.match(facts.get('product')!, /^PostgreSQL 15\.0/);
    assert.equal(facts.get('tables'), [...shop.shop.tandem.catalog.views.keys()].sort().join(','));
    assert.match(facts.get('columns')!, /^time:timestamptz,country:text,orders:int8,revenue:numeric,/);
    assert.equal(facts.get('primary keys'), 'none');
    assert.equal(facts.get('schemas'), 'information_schema,pg_catalog,public');
    const expected = await shop.sql("SELECT country, sum(orders) AS orders, sum(revenue) AS revenue, max(latest) AS latest FROM by_country_hour WHERE country IN ('DE', 'FR') AND time >= '2024-03-01T00:00:00Z' GROUP BY country ORDER BY country");
    const rows = expected.rows.map((r) => [r[0], r[1], r[2], String(r[3]).replace(/\.000Z$/, 'Z')].join('|')).join(';');
    // Runs 1 and 2 are prepared anew; from run 3 pgjdbc uses its statement prepared on the server, with binary results.
    for (const run of [1, 2, 3, 4]) assert.equal(facts.get(`grouped ${run}`), rows, `run ${run}`);
    assert.equal(facts.get('write'), '25006');
  });

  test('pg clients - psycopg 3 reads every answer in binary format (and sends parameters in it) as it reads it in text', async (t) => {
    const path = await client(t, ['/usr/bin/python3', 'python3'], ['-c', 'import psycopg'], 'psycopg 3');
    if (path === undefined) return;
    const script = fileURLToPath(new URL('fixtures/python-binary.py', import.meta.url));
    const result = await run(path, [script, String(shop.pg.port)]);
    assert.equal(result.code, 0, result.err);
    for (const [sql, equal, text, binary] of JSON.parse(result.out) as [string, boolean, string, string][]) assert.ok(equal, `${sql}\ntext:   ${text}\nbinary: ${binary}`);
  });
});
