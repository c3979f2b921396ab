/**
 * The catalog queries BI tools send on connect, list tables with and list
 * columns with (fixtures/bi-catalog-queries.ts names each one's origin),
 * replayed through the PostgreSQL endpoint with node-postgres: every one
 * answers without error, with the views as tables and their columns.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { BI_CATALOG_QUERIES } from './fixtures/bi-catalog-queries.ts';
import { openPgShop, type PgShop } from './pg-shop.ts';

let shop: PgShop;
let db: pg.Client;

before(async () => {
  shop = await openPgShop();
  db = new pg.Client({ host: '127.0.0.1', port: shop.pg.port, user: 'grafana', database: 'tandem' });
  await db.connect();
});
after(async () => {
  await db?.end().catch(() => undefined);
  await shop?.close();
});

const VIEW = 'by_country_hour';

for (const query of BI_CATALOG_QUERIES) {
  test(`pg catalog - ${query.origin} answers${query.lists === 'nothing' ? '' : `, listing the ${query.lists}`}`, async () => {
    const result = await db.query({ text: query.sql.replaceAll('{table}', VIEW), rowMode: 'array' });
    const cells = new Set(result.rows.flat().map(String));
    if (query.lists === 'tables') for (const view of shop.shop.tandem.catalog.views.keys()) assert.ok(cells.has(view), `${view} is listed`);
    if (query.lists === 'columns') for (const column of ['time', 'country', 'orders', 'revenue', 'spread']) assert.ok(cells.has(column), `${column} is listed`);
  });
}

test('pg catalog - Grafana\'s server version query reads 15', async () => {
  const result = await db.query(BI_CATALOG_QUERIES[0]!.sql);
  assert.deepEqual(result.rows, [{ version: 1500 }]);
});

test('pg catalog - a catalog statement reaches no file, setting or other table function, and the connection goes on', async () => {
  const hostile = [
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT relname FROM pg_class, read_text('/etc/hostname') t",
    "SELECT * FROM duckdb_settings()",
    "SELECT * FROM pg_catalog.pg_shadow",
    "SELECT * FROM information_schema.secrets",
    "SELECT * FROM pgcat.pg_class",
    "SELECT 1 FROM pg_class WHERE relname = getenv('HOME')",
  ];
  for (const sql of hostile) {
    await assert.rejects(db.query(sql), (error: { code?: string }) => typeof error.code === 'string' && error.code !== 'XX000', sql);
  }
  assert.deepEqual((await db.query('SELECT 1 AS one')).rows, [{ one: 1 }]);
});
