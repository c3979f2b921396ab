/**
 * A leaderboard over whole UTC days reads a minute or hour view's daily
 * roll-up instead of its finer buckets. Over any other range it must not:
 * the answers over ranges cut at, just before and just after day and hour
 * boundaries must all equal the reference, merged and from the batch alone.
 */
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tandem, type Query } from '../../src/index.ts';
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
/** Range ends at those day boundaries (the roll-up applies), an hour either side, and a millisecond either side (it must not). */
const edge = fc.tuple(fc.integer({ min: 0, max: 4 }), fc.constantFrom(0, HOUR, -HOUR, -1, 1)).map(([day, offset]) => BASE + day * DAY + offset);
const range = fc.tuple(fc.option(edge, { nil: undefined }), fc.option(edge, { nil: undefined }));

test('daily roll-up: wide queries over any range answer like the reference, from the batch alone and merged', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(event, { minLength: 1, maxLength: 150 }), fc.nat(150), fc.array(range, { minLength: 1, maxLength: 8 }), async (events, split, ranges) => {
      await withTempDir(async (dir) => {
        const engine = await Tandem.open({ dataDir: dir, config: shopConfig });
        try {
          const inBatch = new AcceptedEvents();
          inBatch.add(events.slice(0, split));
          const accepted = new AcceptedEvents();
          accepted.add(events);
          await engine.ingest('order', events.slice(0, split).map((e) => e.raw));
          await engine.runBatch();
          await engine.ingest('order', events.slice(split).map((e) => e.raw));
          for (const view of views.filter((v) => v.granularity === 'minute' || v.granularity === 'hour')) {
            for (const [from, to] of ranges) {
              // ISO strings, as the reference reads them.
              const iso = (t: number | undefined) => (t === undefined ? undefined : new Date(t).toISOString());
              for (const [layer, reference] of [['merged', accepted], ['batch', inBatch]] as const) {
                const query: Query = { view: view.name, from: iso(from), to: iso(to), groupBy: [...view.dimensions], granularity: 'all', layer };
                const expected = canonicalRows(referenceQuery(view, reference.events, query));
                const { rows } = await engine.query(query);
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
