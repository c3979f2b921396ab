/**
 * The PostgreSQL endpoint through node-postgres (`pg`): the simple and the
 * extended protocol with parameters, answers equal to `POST /v1/sql`'s,
 * column types, SQLSTATE codes and the same one-sentence refusals, session
 * commands, the catalog, API keys as passwords with their scopes, a
 * cancelled query, and porsager's `postgres` as a second client where it is
 * installed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import postgres from 'postgres';
import { INGEST_KEY, openPgShop, QUERY_KEY, type PgShop } from './pg-shop.ts';

/** Type OIDs as PostgreSQL numbers them. */
const OIDS: Record<string, number> = { text: 25, int8: 20, numeric: 1700, float8: 701, timestamptz: 1184, json: 114, bool: 16, date: 1082 };

function client(port: number, password?: string): pg.Client {
  return new pg.Client({ host: '127.0.0.1', port, user: 'analyst', database: 'tandem', ...(password === undefined ? {} : { password }) });
}

/** A pg answer's rows as `/v1/sql` gives them: timestamps as ISO text, numbers and json as the server printed them. */
function asJson(result: pg.QueryResult, types: readonly string[]): unknown[][] {
  return result.rows.map((row: Record<string, unknown>) => result.fields.map((f, i) => {
    const value = row[f.name];
    if (value === null) return null;
    if (types[i] === 'timestamptz') return (value as Date).toISOString();
    return value;
  }));
}

/** `/v1/sql`'s cells in the form pg reads them: int8 and numeric as text, json parsed. */
function asPg(rows: unknown[][], types: readonly string[]): unknown[][] {
  return rows.map((row) => row.map((cell, i) => {
    if (cell === null) return null;
    if (types[i] === 'int8' || types[i] === 'numeric' || types[i] === 'float8') return types[i] === 'float8' ? Number(cell) : String(cell);
    return cell;
  }));
}

const STATEMENTS: [string, unknown[]][] = [
  ['SELECT country, sum(revenue) AS revenue, sum(orders), avg(basket), count(DISTINCT devices) FROM by_country_hour GROUP BY country ORDER BY revenue DESC LIMIT 3', []],
  ["SELECT date_trunc('day', time) AS day, sum(orders) AS orders, min(smallest), max(latest) FROM by_country_hour WHERE time >= $1 AND country = $2 GROUP BY 1 ORDER BY 1", ['2024-03-01T00:00:00Z', 'DE']],
  ['SELECT approx_quantile(spread, 0.9) AS p90, sum(orders) FROM by_country_hour WHERE country IN ($1, $2)', ['DE', 'FR']],
  ['SELECT * FROM all_time ORDER BY country', []],
  ['SELECT country, sum(orders) AS orders FROM all_time GROUP BY country ORDER BY orders DESC LIMIT $1', [2]],
];

describe('pg wire - node-postgres', () => {
  let shop: PgShop;
  let db: pg.Client;
  before(async () => {
    shop = await openPgShop();
    db = client(shop.pg.port);
    await db.connect();
  });
  after(async () => {
    await db?.end().catch(() => undefined);
    await shop?.close();
  });

  test('pg wire - every statement answers what POST /v1/sql answers, with the types it declares, simple and extended', async () => {
    for (const [sql, params] of STATEMENTS) {
      const expected = await shop.sql(sql, params);
      const types = expected.columns.map((c) => c.type);
      const literal = params.reduceRight<string>((text, p, i) => text.replaceAll(`$${i + 1}`, typeof p === 'number' ? String(p) : `'${String(p)}'`), sql);
      for (const result of [await db.query(sql, params), await db.query(literal)]) {
        assert.deepEqual(result.fields.map((f) => f.name), expected.columns.map((c) => c.name), sql);
        assert.deepEqual(result.fields.map((f) => f.dataTypeID), types.map((t) => OIDS[t]), sql);
        const pgRows = asJson(result, types);
        assert.deepEqual(pgRows.map((row) => row.map((c, i) => (types[i] === 'json' ? c : c))), asPg(expected.rows, types), sql);
        assert.equal(result.command, 'SELECT');
        assert.equal(result.rowCount, expected.rows.length);
      }
    }
  });

  test('pg wire - a named prepared statement runs again with other values', async () => {
    const sql = 'SELECT sum(orders) AS orders FROM by_country_hour WHERE country = $1';
    for (const country of ['DE', 'US', 'nowhere']) {
      const result = await db.query({ name: 'by-country', text: sql, values: [country] });
      const expected = await shop.sql(sql, [country]);
      assert.deepEqual(result.rows.map((r: Record<string, unknown>) => r.orders), expected.rows.map((r) => (r[0] === null ? null : String(r[0]))));
    }
  });

  test('pg wire - refusals carry SQLSTATE codes and the sentences /v1/sql answers with', async () => {
    const cases: [string, string][] = [
      ['SELECT sum(revenu) FROM by_country_hour', '42703'],
      ['SELECT max(revenue) FROM by_country_hour', '42803'],
      ['SELECT sum(orders) FROM nowhere', '42P01'],
      ['SELEC 1', '42601'],
      ["SELECT time_bucket('5 minutes', time), sum(orders) FROM by_country_hour GROUP BY 1", '0A000'],
    ];
    for (const [sql, code] of cases) {
      const expected = await shop.sql(sql) as unknown as { error: { message: string } };
      await assert.rejects(db.query(sql), (error: { code?: string; message: string }) => {
        assert.equal(error.code, code, sql);
        assert.equal(error.message, expected.error.message, sql);
        return true;
      });
    }
    const after = await db.query('SELECT 1 AS one');
    assert.deepEqual(after.rows, [{ one: 1 }], 'the connection answers after a refusal');
  });

  test('pg wire - writes and DDL are refused as in a read-only transaction (25006)', async () => {
    for (const sql of ['INSERT INTO by_country_hour VALUES (1)', 'CREATE TABLE t (a int)', 'DROP TABLE all_time', 'UPDATE all_time SET orders = 1']) {
      await assert.rejects(db.query(sql), (error: { code?: string; message: string }) => error.code === '25006' && /read-only/.test(error.message));
    }
  });

  test('pg wire - SET, SHOW, transaction control and DISCARD ALL are answered as PostgreSQL does', async () => {
    await db.query('BEGIN');
    await db.query("SET application_name = 'report'");
    assert.deepEqual((await db.query('SHOW application_name')).rows, [{ application_name: 'report' }]);
    assert.deepEqual((await db.query("SELECT current_setting('application_name') AS name")).rows, [{ name: 'report' }]);
    assert.equal((await db.query('COMMIT')).command, 'COMMIT');
    await db.query('SET TIME ZONE UTC');
    assert.deepEqual((await db.query('SHOW timezone')).rows, [{ timezone: 'UTC' }]);
    assert.equal((await db.query('DISCARD ALL')).command, 'DISCARD');
    const version = (await db.query('SELECT version()')).rows[0] as { version: string };
    assert.match(version.version, /^PostgreSQL 15\.0 \(Tandem/);
    assert.deepEqual((await db.query('SELECT current_schema(), current_database()')).rows, [{ current_schema: 'public', current_database: 'tandem' }]);
  });

  test('pg wire - a failed statement in a transaction block fails the block until ROLLBACK', async () => {
    await db.query('BEGIN');
    await assert.rejects(db.query('SELECT sum(nothing) FROM all_time'));
    await assert.rejects(db.query('SELECT 1'), /current transaction is aborted/);
    await db.query('ROLLBACK');
    assert.deepEqual((await db.query('SELECT 1 AS one')).rows, [{ one: 1 }]);
  });

  test('pg wire - the catalog lists the views as tables and their columns with PostgreSQL types', async () => {
    const tables = await db.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1");
    assert.deepEqual(tables.rows.map((r: { table_name: string }) => r.table_name), [...shop.shop.tandem.catalog.views.keys()].sort());
    const columns = await db.query("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position", ['by_country_hour']);
    assert.deepEqual(columns.rows.slice(0, 4), [
      { column_name: 'time', data_type: 'timestamp with time zone' }, { column_name: 'country', data_type: 'text' },
      { column_name: 'orders', data_type: 'bigint' }, { column_name: 'revenue', data_type: 'numeric' },
    ]);
    const pgClass = await db.query("SELECT c.relname, n.nspname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND c.relname ~ '^by_' ORDER BY 1");
    assert.deepEqual(pgClass.rows.map((r: { relname: string }) => r.relname), ['by_country_hour', 'by_country_minute', 'by_device_week']);
    // A list bound as one parameter, as pgcli's psycopg 3 binds the kinds of relations it lists.
    const kinds = await db.query('SELECT count(*) AS n FROM pg_catalog.pg_class c WHERE c.relkind = ANY($1) AND c.relname = ANY($2)', [['r', 'p', ''], ['all_time', 'x"y']]);
    assert.deepEqual(kinds.rows, [{ n: '1' }]);
    const types = await db.query("SELECT t.oid::regtype::text AS name, ARRAY[t.typname]::regtype[] AS names FROM pg_type t WHERE t.typname = 'int8'");
    assert.equal(types.rows.length, 1);
  });

  test('pg wire - a script of several statements answers each, and an empty one answers EmptyQueryResponse', async () => {
    const results = await db.query("SET extra_float_digits = 3; SELECT sum(orders) AS n FROM all_time; SELECT 2 AS two") as unknown as pg.QueryResult[];
    assert.equal(results.length, 3);
    assert.deepEqual(results[2]!.rows, [{ two: 2 }]);
    const empty = await db.query('-- nothing\n');
    assert.equal(empty.rows.length, 0);
  });

  test('pg wire - answers under the row limit of JSON queries; a larger one is refused with 54000', async () => {
    const small = await openPgShopWithRows(1);
    try {
      await assert.rejects(small.db.query('SELECT * FROM all_time'), (error: { code?: string }) => error.code === '54000');
    } finally {
      await small.close();
    }
  });
});

/** A second shop whose JSON-query row limit is `rows`. */
async function openPgShopWithRows(rows: number): Promise<{ db: pg.Client; close(): Promise<void> }> {
  const { PgWireServer } = await import('../../src/pgwire/index.ts');
  const { openShopEngine } = await import('./shop-engine.ts');
  const shop = await openShopEngine(20, 10);
  const server = await PgWireServer.start({ tandem: shop.tandem, port: 0, limits: { queryRows: rows } }).catch(async (error: unknown) => {
    await shop.close();
    throw error;
  });
  const db = client(server.port);
  await db.connect();
  return {
    db,
    async close() {
      await db.end().catch(() => undefined);
      await server.close();
      await shop.close();
    },
  };
}

describe('pg wire - API keys', () => {
  let shop: PgShop;
  before(async () => {
    shop = await openPgShop({ keys: true });
  });
  after(async () => {
    await shop?.close();
  });

  test('pg wire - with keys the password is an API key; a wrong one fails with 28P01', async () => {
    const wrong = client(shop.pg.port, 'not-a-key-0123456789');
    await assert.rejects(wrong.connect(), (error: { code?: string }) => error.code === '28P01');
    await wrong.end().catch(() => undefined);
    const right = client(shop.pg.port, QUERY_KEY);
    await right.connect();
    try {
      assert.equal((await right.query('SELECT sum(orders) AS n FROM all_time')).rows.length, 1);
    } finally {
      await right.end();
    }
  });

  test('pg wire - a key without the query scope reads the catalog but no view (42501)', async () => {
    const loader = client(shop.pg.port, INGEST_KEY);
    await loader.connect();
    try {
      assert.ok((await loader.query('SELECT relname FROM pg_class')).rows.length > 0);
      await assert.rejects(loader.query('SELECT sum(orders) FROM all_time'), (error: { code?: string; message: string }) => error.code === '42501' && /'query' scope/.test(error.message));
    } finally {
      await loader.end();
    }
  });
});

describe('pg wire - cancel and timeouts', () => {
  test('pg wire - a cancel request with the connection\'s key stops the statement with 57014, and the connection goes on', async () => {
    const shop = await openPgShop();
    const db = client(shop.pg.port);
    try {
      await db.connect();
      const { tandem } = shop.shop;
      // A query held back until released: the cancel must arrive while it runs.
      const original = tandem.query.bind(tandem);
      let release!: () => void;
      const held = new Promise<void>((resolve) => { release = resolve; });
      tandem.query = (async (...args: Parameters<typeof original>) => {
        await held;
        return original(...args);
      }) as typeof tandem.query;
      const running = db.query('SELECT sum(orders) FROM all_time');
      await new Promise((resolve) => setTimeout(resolve, 100));
      // node-postgres sends a CancelRequest on a new connection with the key its connection was given.
      const { Connection } = pg as unknown as { Connection: new () => { connect(port: number, host: string): void; on(event: string, fn: () => void): void; cancel(pid: number, key: number): void; end(): void } };
      const cancel = new Connection();
      cancel.on('connect', () => cancel.cancel((db as unknown as { processID: number }).processID, (db as unknown as { secretKey: number }).secretKey));
      cancel.connect(shop.pg.port, '127.0.0.1');
      await assert.rejects(running, (error: { code?: string }) => error.code === '57014');
      cancel.end();
      release();
      tandem.query = original;
      assert.deepEqual((await db.query('SELECT 1 AS one')).rows, [{ one: 1 }]);
    } finally {
      await db.end().catch(() => undefined);
      await shop.close();
    }
  });
});

describe('pg wire - porsager postgres', () => {
  test('pg wire - postgres.js describes each statement, then binds its parameters, and answers as /v1/sql does', async () => {
    const shop = await openPgShop();
    const sql = postgres({ host: '127.0.0.1', port: shop.pg.port, user: 'analyst', database: 'tandem', max: 1, idle_timeout: 1, connect_timeout: 5 });
    try {
      const rows = await sql`SELECT country, sum(orders) AS orders, sum(revenue) AS revenue FROM by_country_hour WHERE country IN (${'DE'}, ${'FR'}) GROUP BY country ORDER BY country`;
      const expected = await shop.sql("SELECT country, sum(orders) AS orders, sum(revenue) AS revenue FROM by_country_hour WHERE country IN ('DE', 'FR') GROUP BY country ORDER BY country");
      assert.deepEqual(rows.map((r) => [r.country, String(r.orders), r.revenue]), expected.rows.map((r) => [r[0], String(r[1]), String(r[2])]));
      assert.deepEqual(rows.columns.map((c) => c.type), [25, 20, 1700]);
      const times = await sql`SELECT date_trunc('day', time) AS day, sum(orders) AS orders FROM by_country_hour WHERE time >= ${new Date('2024-06-01T00:00:00Z')} GROUP BY 1 ORDER BY 1 LIMIT 3`;
      assert.ok(times[0]!.day instanceof Date);
      await assert.rejects(sql`SELECT sum(revenu) FROM by_country_hour`, (error: { code?: string }) => error.code === '42703');
    } finally {
      await sql.end({ timeout: 1 });
      await shop.close();
    }
  });
});

describe('pg wire - Grafana', () => {
  test('pg wire - a time-series panel and a table panel with Grafana\'s expanded macros answer as /v1/sql does', async () => {
    const shop = await openPgShop();
    const db = client(shop.pg.port);
    try {
      await db.connect();
      // $__timeGroupAlias(time, 1h), $__timeFilter(time) and $__unixEpochFilter as Grafana expands them for a PostgreSQL data source.
      const panels = [
        "SELECT floor(extract(epoch from time)/3600)*3600 AS \"time\", sum(orders) AS orders FROM by_country_hour WHERE time BETWEEN '2024-06-01T00:00:00Z' AND '2024-06-29T00:00:00Z' GROUP BY 1 ORDER BY 1",
        "SELECT country, sum(revenue) AS revenue FROM by_country_hour WHERE time >= to_timestamp(1717200000) AND time <= to_timestamp(1719619200) GROUP BY country ORDER BY 2 DESC",
      ];
      for (const sql of panels) {
        const expected = await shop.sql(sql);
        const result = await db.query({ text: sql, rowMode: 'array' });
        assert.deepEqual(result.rows.map((r: unknown[]) => r.map(String)), expected.rows.map((r) => r.map(String)), sql);
      }
    } finally {
      await db.end().catch(() => undefined);
      await shop.close();
    }
  });
});

describe('pg wire - tandem serve --pg-port', () => {
  test('pg wire - runServer with pgPort answers over both ports, counts its queries in the metrics, and stop closes both', async () => {
    const { runServer } = await import('../../src/cli/run-server.ts');
    const { shopConfig } = await import('../support/shop-config.ts');
    const { makeTempDir } = await import('../support/temp-dir.ts');
    const temp = await makeTempDir('tandem-pgport-');
    const running = await runServer({ config: shopConfig, dataDir: temp.dir, host: '127.0.0.1', port: 0, pgPort: 0, batchEveryMs: 3_600_000, logLevel: 'silent' });
    const db = client(running.pgPort!);
    try {
      await db.connect();
      assert.deepEqual((await db.query('SELECT sum(orders) AS n FROM all_time')).rows, [{ n: null }]);
      // Statements over the PostgreSQL port count in the server's query metrics, as /v1/sql's do.
      assert.match(await running.server.metrics.registry.metrics(), /tandem_query_duration_seconds_count\{view="all_time"\} 1\n/);
    } finally {
      await db.end().catch(() => undefined);
      await running.stop();
      await temp.remove();
    }
    const refused = client(running.pgPort!);
    await assert.rejects(refused.connect());
  });
});
