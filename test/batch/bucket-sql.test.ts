/** The batch layer buckets times in SQL and the speed layer in JavaScript: the two must agree to the millisecond for every time a field accepts. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import fc from 'fast-check';
import { bucketSql, bucketStart, GRANULARITIES, MAX_TIME, MIN_TIME } from '../../src/definitions/index.ts';

const DAY = 86_400_000;
// Bucket edges are where a wrong floor shows: times at, just before and just after multiples of a day, around 1970 and across the whole range.
const time = fc.oneof(
  fc.integer({ min: MIN_TIME, max: MAX_TIME }),
  fc.tuple(fc.integer({ min: -30_000, max: 30_000 }), fc.constantFrom(-1, 0, 1)).map(([days, ms]) => days * DAY + ms),
  fc.integer({ min: -14 * DAY, max: 14 * DAY }),
);

test('bucketSql and bucketStart agree for every granularity, before and after 1970', async () => {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    await fc.assert(
      fc.asyncProperty(fc.array(time, { minLength: 1, maxLength: 200 }), async (times) => {
        const columns = GRANULARITIES.map((g) => `${bucketSql(g, 't')} AS "${g}"`).join(', ');
        const values = times.map((_, i) => `(make_timestamp($${i + 1}::BIGINT * 1000))`).join(', ');
        const result = await connection.runAndReadAll(`SELECT ${columns} FROM (VALUES ${values}) v(t)`, times.map(String));
        const rows = result.getRows();
        times.forEach((t, i) => GRANULARITIES.forEach((g, k) => assert.equal(Number(rows[i]![k]), bucketStart(g, t), `${g} of ${new Date(t).toISOString()}`)));
      }),
      { seed: 1126, numRuns: 100 },
    );
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
});
