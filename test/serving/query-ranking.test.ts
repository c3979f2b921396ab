/**
 * A ranking with a limit picks its rows with a bounded heap; without a limit
 * the answer is fully sorted. The first must always be a prefix of the
 * second, whatever the data, the order and the limit: ties included, since
 * the order falls back to time and dimension values and is therefore total.
 */
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidQueryError, Tandem, UnknownDimensionError, type OrderBy, type Query, type QueryRow } from '../../src/index.ts';
import { shopConfig } from '../support/shop-config.ts';
import { withTempDir } from '../support/temp-dir.ts';

const event = fc.record({
  country: fc.constantFrom('DE', 'FR', 'US', 'JP', 'BR', 'IN', 'ES'),
  qty: fc.integer({ min: 0, max: 4 }),
  minute: fc.integer({ min: 0, max: 180 }),
  cents: fc.integer({ min: 1, max: 500 }),
});

/** Order keys a shape allows: its measures, the dimensions it groups by, and the time unless rolled up to `all`. */
function orderKeys(groupBy: readonly string[], granularity: string): OrderBy[] {
  return [
    { measure: 'orders' }, { measure: 'basket' },
    ...groupBy.map((dimension) => ({ dimension })),
    ...(granularity === 'all' ? [] : [{ time: true as const }]),
  ];
}

const ranking = fc.record({
  granularity: fc.constantFrom('minute', 'hour', 'all'),
  groupBy: fc.constantFrom(['country'], ['qty'], ['country', 'qty'], ['qty', 'country'], []),
}).chain((shape) => fc.record({
  granularity: fc.constant(shape.granularity),
  groupBy: fc.constant(shape.groupBy),
  orderBy: fc.shuffledSubarray(orderKeys(shape.groupBy, shape.granularity)).chain((keys) =>
    fc.tuple(...keys.map((key) => fc.boolean().map((desc): OrderBy => ({ ...key, desc }))))),
  limit: fc.integer({ min: 1, max: 40 }),
}));

/** The column an order key reads in a row. */
const columnOf = (o: OrderBy): string => ('measure' in o ? o.measure : 'dimension' in o ? o.dimension : 'time');

/** Row values in the engine's order: nulls last, numbers by value, text by code unit. */
function compareValues(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return typeof a === 'number' && typeof b === 'number' ? a - b : String(a) < String(b) ? -1 : 1;
}

/** Rows `a` then `b` are in order: by each key, nulls last either way; ties by time, then the grouped dimensions, ascending. */
function inOrder(a: QueryRow, b: QueryRow, orderBy: readonly OrderBy[], groupBy: readonly string[]): boolean {
  for (const o of orderBy) {
    const x = a[columnOf(o)] ?? null;
    const y = b[columnOf(o)] ?? null;
    const c = compareValues(x, y);
    if (c !== 0) return (o.desc === true && x !== null && y !== null ? -c : c) < 0;
  }
  for (const column of ['time', ...groupBy]) {
    const c = compareValues(a[column] ?? null, b[column] ?? null);
    if (c !== 0) return c < 0;
  }
  return true;
}

test('query ranking - the answer is in the order asked (measures, dimensions, time), and a limited one is its prefix', async () => {
  await withTempDir(async (dir) => {
    const engine = await Tandem.open({ dataDir: dir, config: shopConfig });
    try {
      let n = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(event, { minLength: 1, maxLength: 60 }), ranking, async (events, shape) => {
          await engine.ingest('order', events.map((e) => ({
            id: `e${n++}`, at: Date.UTC(2024, 4, 1, 0, e.minute), country: e.country, mobile: true, amount: e.cents / 100, qty: e.qty,
          })));
          const query = { view: 'by_country_minute', ...shape } as Query;
          const { rows: all } = await engine.queryUntyped({ ...query, limit: undefined });
          const { rows: top } = await engine.queryUntyped(query);
          assert.deepEqual(top, all.slice(0, shape.limit));
          for (let i = 1; i < all.length; i++) assert.ok(inOrder(all[i - 1]!, all[i]!, shape.orderBy, shape.groupBy), `rows ${i - 1} and ${i} out of order`);
        }),
        { seed: 20261129, numRuns: 120 },
      );
    } finally {
      await engine.close();
    }
  });
});

test('query shape - repeated or over-long lists and bounds past the years events hold are refused', async () => {
  await withTempDir(async (dir) => {
    const engine = await Tandem.open({ dataDir: dir, config: shopConfig });
    try {
      const cases: [Query, RegExp][] = [
        [{ view: 'by_country_minute', groupBy: ['country', 'country'] }, /groupBy\[1\] names dimension 'country' a second time/],
        [{ view: 'by_country_minute', groupBy: ['qty', 'country', 'qty'] }, /groupBy lists 3 dimensions, but the view has only 2/],
        [{ view: 'by_country_minute', orderBy: [{ measure: 'basket' }, { measure: 'basket', desc: true }] }, /^orderBy\[1\] orders by measure 'basket' a second time; name each at most once\.$/],
        [{ view: 'by_country_minute', groupBy: ['country'], orderBy: [{ dimension: 'country' }, { dimension: 'country', desc: true }] }, /^orderBy\[1\] orders by dimension 'country' a second time/],
        [{ view: 'by_country_minute', orderBy: [{ dimension: 'qty' }] }, /^orderBy\[0\] orders by dimension 'qty', which is not in groupBy; group by it too\.$/],
        [{ view: 'by_country_minute', granularity: 'all', orderBy: [{ time: true }] }, /^orderBy\[0\] orders by the time, but granularity 'all' leaves no time bucket in the rows; pick a granularity\.$/],
        [{ view: 'by_country_minute', orderBy: [{ time: true }, { time: true, desc: true }] }, /^orderBy\[1\] orders by the time a second time/],
        [{ view: 'by_country_minute', orderBy: [{ measure: 'orders', dimension: 'qty' } as unknown as OrderBy] }, /^orderBy\[0\] must be an object naming a measure, a grouped dimension or the time: .*, naming exactly one of them\.$/],
        [{ view: 'by_country_minute', orderBy: [{ time: 'yes' } as unknown as OrderBy] }, /^orderBy\[0\]\.time must be true/],
        [{ view: 'by_country_minute', groupBy: ['qty'], orderBy: [{ dimension: 'qty', quantile: 0.5 } as unknown as OrderBy] }, /^orderBy\[0\]\.quantile must be a number from 0 to 1, on a quantiles measure\.$/],
        [{ view: 'by_country_minute', from: 1e21 }, /from must fall between 1900/],
        [{ view: 'by_country_minute', to: -8.64e15 }, /to must fall between 1900/],
        [{ view: 'by_country_minute', from: Number.POSITIVE_INFINITY }, /from must fall between 1900/],
        [{ view: 'by_country_minute', from: '1899-12-31T23:59:59Z' }, /from must fall between 1900/],
        [{ view: 'by_country_minute', to: '10000-01-01T00:00:00.001Z' }, /to must|to must fall between/],
      ];
      for (const [query, message] of cases) {
        await assert.rejects(engine.queryUntyped(query), (e: unknown) => e instanceof InvalidQueryError && message.test(e.message), JSON.stringify(query));
      }
      await assert.rejects(engine.queryUntyped({ view: 'by_country_minute', orderBy: [{ dimension: 'nope' }] } as Query), (e: unknown) => e instanceof UnknownDimensionError && e.field === 'orderBy[0].dimension');
      // The ends of the range themselves are fine.
      await engine.query({ view: 'by_country_minute', from: '1900-01-01T00:00:00Z', to: 253402300800000 });
    } finally {
      await engine.close();
    }
  });
});
