/**
 * Quarter and year granularities: buckets from 1 January, April, July and
 * October, and from 1 January, the same to the millisecond in JavaScript
 * (the speed layer) and DuckDB (the batch layer), as views of their own and
 * as roll-ups of finer views in queries and SQL.
 */
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bucketStart, compileConfig, MAX_TIME, MIN_TIME, nextBucket, rollsUpInto, SHORTEST_BUCKET_MS } from '../../src/definitions/index.ts';
import { defineConfig, defineEventType, defineView, Tandem } from '../../src/index.ts';
import { planQuery } from '../../src/serving/query-plan.ts';
import { SqlRunner } from '../../src/sql/index.ts';
import { withTempDir } from '../support/temp-dir.ts';

/** The first instant of `t`'s quarter or year, from its calendar fields alone. */
function reference(granularity: 'quarter' | 'year', t: number): number {
  const d = new Date(t);
  const month = granularity === 'year' ? 0 : d.getUTCMonth() - (d.getUTCMonth() % 3);
  return Date.UTC(d.getUTCFullYear(), month, 1);
}

const anyTime = fc.integer({ min: MIN_TIME, max: MAX_TIME });

test('calendar granularities - quarter and year bucket starts match the calendar, and the next bucket starts where the bucket ends', () => {
  fc.assert(fc.property(anyTime, fc.constantFrom('quarter', 'year') as fc.Arbitrary<'quarter' | 'year'>, (t, granularity) => {
    const start = bucketStart(granularity, t);
    assert.equal(start, reference(granularity, t));
    const next = nextBucket(granularity, start);
    assert.ok(next > t, 'the bucket holds t');
    assert.equal(bucketStart(granularity, next), next);
    assert.equal(bucketStart(granularity, next - 1), start, 'nothing between the bucket and the next');
    assert.ok(next - start >= SHORTEST_BUCKET_MS[granularity]);
  }), { seed: 20261204, numRuns: 500 });
});

test('calendar granularities - months roll up into quarters and years, quarters into years; weeks into neither', () => {
  assert.ok(rollsUpInto('month', 'quarter') && rollsUpInto('month', 'year') && rollsUpInto('quarter', 'year') && rollsUpInto('hour', 'quarter'));
  assert.ok(!rollsUpInto('week', 'quarter') && !rollsUpInto('week', 'year') && !rollsUpInto('quarter', 'month') && !rollsUpInto('year', 'quarter'));
  assert.ok(!rollsUpInto('quarter', 'week') && rollsUpInto('year', 'all'));
  const catalog = compileConfig(config);
  assert.throws(() => planQuery(catalog, { view: 'by_quarter', granularity: 'month' }), { code: 'invalid_query', field: 'granularity', message: "View 'by_quarter' has quarter buckets, which do not roll up into month." });
});

const sale = defineEventType({ name: 'sale', time: 'at', idempotencyKey: 'id', fields: { id: 'string', at: 'timestamp', region: 'string', amount: { type: 'number', scale: 2 } } });
const measures = { orders: { type: 'count' }, revenue: { type: 'sum', field: 'amount' } } as const;
const config = defineConfig({
  eventTypes: [sale],
  views: [
    defineView(sale, { name: 'by_month', dimensions: ['region'], granularity: 'month', measures }),
    defineView(sale, { name: 'by_quarter', dimensions: ['region'], granularity: 'quarter', measures }),
    defineView(sale, { name: 'by_year', dimensions: ['region'], granularity: 'year', measures }),
  ],
});

/** Quarter and year edges, a leap day and the ends of the times events can hold. */
const TIMES = [
  '1900-01-01T00:00:00Z', '1969-12-31T23:59:59.999Z', '1970-01-01T00:00:00Z', '2000-02-29T12:00:00Z', '2024-03-31T23:59:59.999Z', '2024-04-01T00:00:00Z',
  '2024-06-30T23:59:59.999Z', '2024-07-01T00:00:00Z', '2024-09-30T23:59:59.999Z', '2024-10-01T00:00:00Z', '2024-12-31T23:59:59.999Z', '2025-01-01T00:00:00Z',
  '9999-12-31T23:59:59.999Z',
];

test('calendar granularities - quarter and year views bucket alike in the speed layer and in DuckDB, and as roll-ups of a month view', async () => {
  await withTempDir(async (dir) => {
    const engine = await Tandem.open({ dataDir: dir, config });
    try {
      await engine.ingest('sale', TIMES.map((at, i) => ({ id: `t${i}`, at, region: i % 2 === 0 ? 'north' : 'south', amount: i + 1 })));
      const answers = (layer: 'speed' | 'batch') => Promise.all([
        engine.query({ view: 'by_quarter', groupBy: ['region'], layer }), engine.query({ view: 'by_year', groupBy: ['region'], layer }),
        engine.query({ view: 'by_month', groupBy: ['region'], granularity: 'quarter', layer }), engine.query({ view: 'by_month', groupBy: ['region'], granularity: 'year', layer }),
        engine.query({ view: 'by_quarter', groupBy: ['region'], granularity: 'year', layer }),
      ]);
      const speed = await answers('speed');
      await engine.runBatch();
      const batch = await answers('batch');
      assert.deepEqual(batch.map((a) => a.rows), speed.map((a) => a.rows));
      const [quarters, years, monthsByQuarter, monthsByYear, quartersByYear] = batch.map((a) => a.rows);
      assert.deepEqual(monthsByQuarter, quarters);
      assert.deepEqual(monthsByYear, years);
      assert.deepEqual(quartersByYear, years);
      for (const [rows, granularity] of [[quarters!, 'quarter'], [years!, 'year']] as const) {
        const expected = new Map<string, number>();
        TIMES.forEach((at, i) => {
          const key = `${i % 2 === 0 ? 'north' : 'south'} ${new Date(reference(granularity, Date.parse(at))).toISOString()}`;
          expected.set(key, (expected.get(key) ?? 0) + 1);
        });
        assert.deepEqual(new Map(rows.map((r) => [`${String(r.region)} ${String(r.time)}`, r.orders])), expected, granularity);
      }
      const sql = new SqlRunner(engine);
      const bySql = await sql.run({ sql: "SELECT date_trunc('quarter', time) AS q, sum(orders) AS orders FROM by_month WHERE time >= '2024-01-01' AND time < '2025-01-01' GROUP BY 1 ORDER BY 1" });
      assert.deepEqual(bySql.rows.map((r) => [String(r[0]).slice(0, 10), r[1]]), [['2024-01-01', 1], ['2024-04-01', 2], ['2024-07-01', 2], ['2024-10-01', 2]]);
      const byBucket = await sql.run({ sql: "SELECT time_bucket('1 year', time) AS y, sum(orders) AS orders FROM by_quarter WHERE time >= '2024-01-01' GROUP BY 1 ORDER BY 1 LIMIT 2" });
      assert.deepEqual(byBucket.rows.map((r) => [String(r[0]).slice(0, 10), r[1]]), [['2024-01-01', 7], ['2025-01-01', 1]]);
      await sql.close();
    } finally {
      await engine.close();
    }
  });
});
