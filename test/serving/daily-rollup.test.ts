/**
 * A leaderboard over whole UTC days reads a minute or hour view's daily
 * roll-up instead of its finer buckets (a day or week view's monthly one
 * over whole months). Over any other range it must not: the answers over
 * ranges cut at, just before and just after day, hour, week and month
 * boundaries must all equal the reference, merged and from the batch alone.
 */
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileConfig, Tandem, type Query } from '../../src/index.ts';
import { readsWholeDays } from '../../src/serving/execute-query.ts';
import { planQuery } from '../../src/serving/query-plan.ts';
import { canonicalRows, referenceQuery } from '../support/reference.ts';
import { shopConfig, views } from '../support/shop-config.ts';
import { AcceptedEvents, shopEvent } from '../support/shop-events.ts';
import { withTempDir } from '../support/temp-dir.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const BASE = Date.UTC(2024, 2, 1);
/** Events within two hours of a few day boundaries, where a range cut off a day boundary differs from whole days. */
const nearBoundary = fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: -2 * HOUR, max: 2 * HOUR })).map(([day, offset]) => BASE + day * DAY + offset);
const event = fc.tuple(shopEvent, nearBoundary)
  .filter(([e]) => e.valid)
  .map(([e, at]) => ({ ...e, ref: { ...e.ref, at }, raw: { ...e.raw, at } }));
/**
 * Range ends at those day boundaries (the roll-up applies), an hour either side, and a millisecond either side (it must not);
 * BASE is a month's first day, and BASE + 3 days a Monday.
 */
const edge = fc.tuple(fc.integer({ min: -1, max: 4 }), fc.constantFrom(0, HOUR, -HOUR, -1, 1)).map(([day, offset]) => BASE + day * DAY + offset);
const range = fc.tuple(fc.option(edge, { nil: undefined }), fc.option(edge, { nil: undefined }));

/**
 * Asks for every roll-up and gives the background builds turns of the event
 * loop to finish: these tables are small, so a few steps each, and from then
 * on whole-day queries read the roll-ups.
 */
async function buildRollUps(engine: Tandem): Promise<void> {
  for (const view of views) await engine.query({ view: view.name, granularity: 'all', groupBy: [...view.dimensions] });
  for (let turn = 0; turn < 20; turn++) await new Promise((resolve) => setImmediate(resolve));
}

test('daily roll-up: only wide queries over whole days, or all time, of minute and hour views read it', () => {
  const catalog = compileConfig(shopConfig);
  const reads = (query: Query) => readsWholeDays(planQuery(catalog, query));
  const wide = { view: 'by_country_hour', groupBy: ['country'], granularity: 'all' } as const;
  assert.ok(reads(wide));
  assert.ok(reads({ ...wide, from: '2024-03-02T00:00:00Z', to: '2024-03-09T00:00:00Z' }));
  assert.ok(reads({ ...wide, from: Date.UTC(1969, 11, 30) }), 'a whole day before 1970');
  assert.ok(reads({ view: 'by_country_minute', groupBy: ['qty'], granularity: 'all', to: '2024-03-09T00:00:00Z' }));
  assert.ok(!reads({ ...wide, from: '2024-03-02T01:00:00Z' }), 'starts mid-day');
  assert.ok(!reads({ ...wide, to: Date.UTC(2024, 2, 9) - 1 }), 'ends a millisecond before midnight');
  assert.ok(!reads({ ...wide, from: Date.UTC(2024, 2, 2) + 0.5 }), 'a fraction of a millisecond past midnight');
  assert.ok(!reads({ ...wide, granularity: 'day' }), 'by day: not a roll-up to all');
  assert.ok(!reads({ ...wide, where: { country: 'DE' } }), 'one series, pinned: looked up directly');
  assert.ok(!reads({ view: 'by_device_week', groupBy: ['device'], granularity: 'all' }), 'weeks are no finer than days');
});

test('daily roll-up: a leaderboard of hundreds of groups, batch and speed overlapping, lists each once with its exact total', async () => {
  await withTempDir(async (dir) => {
    const engine = await Tandem.open({ dataDir: dir, config: shopConfig });
    try {
      const event = (i: number, country: string) => ({ id: `m${i}`, at: BASE + (i % 48) * HOUR, country, mobile: true, amount: 1, qty: 1 });
      const first = Array.from({ length: 300 }, (_, i) => event(i, `C${i % 100}`));
      const second = Array.from({ length: 600 }, (_, i) => event(300 + i, `C${50 + (i % 250)}`));
      await engine.ingest('order', first);
      await engine.runBatch();
      await engine.ingest('order', second);
      await buildRollUps(engine);
      // All time and from a midnight (the roll-up), and from an hour past it (the hourly buckets).
      for (const from of [undefined, BASE + DAY, BASE + HOUR]) {
        const { rows } = await engine.query({ view: 'by_country_hour', groupBy: ['country'], granularity: 'all', from: from === undefined ? undefined : new Date(from).toISOString() });
        const expected = new Map<string, number>();
        for (const e of [...first, ...second]) if (from === undefined || e.at >= from) expected.set(e.country, (expected.get(e.country) ?? 0) + 1);
        assert.ok(expected.size > 64, 'more groups than the first capacity');
        assert.deepEqual(new Map(rows.map((r) => [r.country as string, r.orders as number])), expected, `from ${from}`);
      }
    } finally {
      await engine.close();
    }
  });
});

test('daily roll-up: wide queries over any range, on every view with time buckets, answer like the reference, from the batch alone and merged', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(event, { minLength: 1, maxLength: 150 }), fc.nat(150), fc.array(range, { minLength: 1, maxLength: 8 }), async (events, split, ranges) => {
      await withTempDir(async (dir) => {
        const engine = await Tandem.open({ dataDir: dir, config: shopConfig });
        try {
          const inBatch = new AcceptedEvents();
          inBatch.add(events.slice(0, split));
          const accepted = new AcceptedEvents();
          accepted.add(events);
          await engine.ingestUntyped('order', events.slice(0, split).map((e) => e.raw));
          await engine.runBatch();
          await engine.ingestUntyped('order', events.slice(split).map((e) => e.raw));
          await buildRollUps(engine);
          // Every view with time buckets: minute and hour views read a daily roll-up, day and week views a monthly one.
          for (const view of views.filter((v) => v.granularity !== 'none')) {
            for (const [from, to] of ranges) {
              // ISO strings, as the reference reads them.
              const iso = (t: number | undefined) => (t === undefined ? undefined : new Date(t).toISOString());
              for (const [layer, reference] of [['merged', accepted], ['batch', inBatch]] as const) {
                const query: Query = { view: view.name, from: iso(from), to: iso(to), groupBy: [...view.dimensions], granularity: 'all', layer };
                const expected = canonicalRows(referenceQuery(view, reference.events, query));
                const { rows } = await engine.queryUntyped(query);
                assert.deepEqual(canonicalRows(rows), expected, JSON.stringify(query));
              }
            }
          }
        } finally {
          await engine.close();
        }
      });
    }),
    { numRuns: 15, seed: 1126 },
  );
});
