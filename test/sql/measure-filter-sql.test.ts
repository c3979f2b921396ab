/**
 * A measure with a filter of its own is, to SQL, one more measure column:
 * summed like any count, listed in the catalog (its description says it is
 * filtered), and left out of the hint for count(*), which must count events.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Tandem, type TandemConfig } from '../../src/index.ts';
import { catalogTables } from '../../src/pgwire/catalog-tables.ts';
import { SqlRunner, UnsupportedSqlError } from '../../src/sql/index.ts';
import { makeTempDir } from '../support/temp-dir.ts';

const config: TandemConfig = {
  eventTypes: [{ name: 'request', time: 'at', fields: { at: 'timestamp', path: 'string', status: { type: 'number', scale: 0 } } }],
  views: [{
    name: 'errors_by_path', eventType: 'request', dimensions: ['path'], granularity: 'hour',
    measures: {
      errors: { type: 'count', filter: [{ field: 'status', op: '>=', value: 500 }] },
      requests: { type: 'count' },
    },
  }],
};

let temp: Awaited<ReturnType<typeof makeTempDir>>;
let tandem: Tandem;
let runner: SqlRunner;

before(async () => {
  temp = await makeTempDir('tandem-sql-');
  tandem = await Tandem.open({ dataDir: temp.dir, config });
  const at = '2024-05-01T10:00:00Z';
  // Both layers: the first events in the batch layer, the rest in the speed layer only.
  await tandem.ingestUntyped('request', [{ at, path: '/a', status: 200 }, { at, path: '/a', status: 500 }, { at, path: '/b', status: 200 }]);
  await tandem.runBatch();
  await tandem.ingestUntyped('request', [{ at, path: '/a', status: 502 }, { at, path: '/b', status: 404 }]);
  runner = new SqlRunner(tandem);
});
after(async () => {
  await runner?.close();
  await tandem?.close();
  await temp?.remove();
});

test('sql measure filter - a filtered count is summed like any other, a path without errors as 0', async () => {
  const { rows } = await runner.run({ sql: 'SELECT path, sum(requests) AS requests, sum(errors) AS errors FROM errors_by_path GROUP BY path ORDER BY path' });
  assert.deepEqual(rows, [['/a', 3, 2], ['/b', 2, 0]]);
});

test('sql measure filter - count(*) points to the count of all events, not to the filtered one', async () => {
  await assert.rejects(runner.run({ sql: 'SELECT count(*) FROM errors_by_path' }), (e: unknown) =>
    e instanceof UnsupportedSqlError && /write sum\(requests\) to count events/.test(e.message));
});

test('sql measure filter - the catalog lists the filtered measure as a column and says it is filtered', () => {
  const descriptions = catalogTables(tandem.catalog, 'tandem').find((t) => t.name === 'pg_description')!.rows.map((r) => r.description);
  assert.ok(descriptions.includes('measure: count, of the events its own filter keeps'), JSON.stringify(descriptions));
  assert.ok(descriptions.includes('measure: count'));
  const columns = catalogTables(tandem.catalog, 'tandem').find((t) => t.name === 'columns')!.rows.map((r) => r.column_name);
  assert.deepEqual(columns, ['time', 'path', 'errors', 'requests']);
});
