/**
 * A ranking with a limit picks its rows with a bounded heap; without a limit
 * the answer is fully sorted. The first must always be a prefix of the
 * second, whatever the data, the order and the limit: ties included, since
 * the order falls back to time and dimension values and is therefore total.
 */
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidQueryError, Tandem, type Query } from '../../src/index.ts';
import { shopConfig } from '../support/shop-config.ts';
import { withTempDir } from '../support/temp-dir.ts';

const event = fc.record({
  country: fc.constantFrom('DE', 'FR', 'US', 'JP', 'BR', 'IN', 'ES'),
  qty: fc.integer({ min: 0, max: 4 }),
  minute: fc.integer({ min: 0, max: 180 }),
  cents: fc.integer({ min: 1, max: 500 }),
});

const ranking = fc.record({
  granularity: fc.constantFrom('minute', 'hour', 'all'),
  groupBy: fc.constantFrom(['country'], ['qty'], ['country', 'qty'], []),
  orderBy: fc.constantFrom(
    [{ measure: 'basket', desc: true }], [{ measure: 'orders' }], [{ measure: 'orders', desc: true }, { measure: 'basket' }], [],
  ),
  limit: fc.integer({ min: 1, max: 40 }),
});

test('query ranking - a limited answer is the prefix of the fully sorted one', async () => {
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
          const { rows: all } = await engine.query({ ...query, limit: undefined });
          const { rows: top } = await engine.query(query);
          assert.deepEqual(top, all.slice(0, shape.limit));
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
        [{ view: 'by_country_minute', orderBy: [{ measure: 'basket' }, { measure: 'basket', desc: true }] }, /orderBy\[1\] names measure 'basket' a second time/],
        [{ view: 'by_country_minute', from: 1e21 }, /from must fall between 1900/],
        [{ view: 'by_country_minute', to: -8.64e15 }, /to must fall between 1900/],
        [{ view: 'by_country_minute', from: Number.POSITIVE_INFINITY }, /from must fall between 1900/],
        [{ view: 'by_country_minute', from: '1899-12-31T23:59:59Z' }, /from must fall between 1900/],
        [{ view: 'by_country_minute', to: '10000-01-01T00:00:00.001Z' }, /to must|to must fall between/],
      ];
      for (const [query, message] of cases) {
        await assert.rejects(engine.query(query), (e: unknown) => e instanceof InvalidQueryError && message.test(e.message), JSON.stringify(query));
      }
      // The ends of the range themselves are fine.
      await engine.query({ view: 'by_country_minute', from: '1900-01-01T00:00:00Z', to: 253402300800000 });
    } finally {
      await engine.close();
    }
  });
});
