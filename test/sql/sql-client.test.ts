/**
 * `client.sql` of `tandem/client`: the answer as the server gives it, and
 * each SQL refusal thrown as the SQL layer's own class, with the clause at
 * fault and the server's sentence.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  createClient, InvalidSqlValueError, MeasureMisuseError, SqlClauseError, SqlParameterError, SqlSyntaxError, SqlTooLargeError, TimeBucketError, UnknownColumnError,
  UnsupportedSqlError, type TandemClient,
} from '../../src/client/index.ts';
import { createServer, type TandemServer } from '../../src/server/index.ts';
import { openShopEngine, type ShopEngine } from './shop-engine.ts';

let shop: ShopEngine;
let server: TandemServer;
let client: TandemClient;

before(async () => {
  shop = await openShopEngine(100, 50);
  server = createServer({ tandem: shop.tandem });
  client = createClient({ url: await server.app.listen({ host: '127.0.0.1', port: 0 }), retry: false });
});
after(async () => {
  await server.app.close();
  await shop.close();
});

test('sql client - client.sql answers columns, rows and meta', async () => {
  const { columns, rows, meta } = await client.sql({ sql: 'SELECT country, sum(orders) AS orders FROM all_time WHERE country IN ($1, $2) GROUP BY country ORDER BY country', params: ['DE', 'FR'] });
  assert.deepEqual(columns, [{ name: 'country', type: 'text' }, { name: 'orders', type: 'int8' }]);
  assert.deepEqual(rows.map((r) => r[0]), ['DE', 'FR']);
  assert.equal(meta.logEnd, 150);
});

test('sql client - each SQL refusal throws its own class, with the clause and the server\'s sentence', async () => {
  const cases: [string, unknown[], new (...args: never[]) => Error, Record<string, unknown>][] = [
    ['SELEC 1', [], SqlSyntaxError, { field: 'sql' }],
    [`SELECT sum(orders) FROM all_time WHERE country IN (${"'x',".repeat(30_000)}'y')`, [], SqlTooLargeError, { limit: 100_000 }],
    ["SELECT sum(orders) FROM all_time WHERE country LIKE 'D%'", [], UnsupportedSqlError, { field: 'where' }],
    ['SELECT sum(ordrs) FROM all_time', [], UnknownColumnError, { field: 'select[0]', column: 'ordrs', view: 'all_time' }],
    ['SELECT max(revenue) FROM all_time', [], MeasureMisuseError, { field: 'select[0]', measure: 'revenue' }],
    ["SELECT date_trunc('minute', time), sum(orders) FROM by_country_hour GROUP BY 1", [], TimeBucketError, { field: 'select[0]' }],
    ['SELECT sum(orders) FROM all_time LIMIT -1', [], InvalidSqlValueError, { field: 'limit' }],
    ['SELECT sum(orders) FROM all_time WHERE country = $1', [], SqlParameterError, { field: 'params[0]' }],
  ];
  for (const [sql, params, type, fields] of cases) {
    await assert.rejects(client.sql({ sql, params }), (error: Error) => {
      assert.ok(error instanceof type, `${sql.slice(0, 80)}: ${error.constructor.name} ${error.message}`);
      for (const [key, value] of Object.entries(fields)) assert.equal((error as unknown as Record<string, unknown>)[key], value, key);
      assert.match(error.message, /^[^\n]+\.$/);
      return true;
    });
  }
  await assert.rejects(client.sql({ sql: 'SELECT max(revenue) FROM all_time' }), SqlClauseError);
});
