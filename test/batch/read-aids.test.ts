/**
 * Read aids for every granularity: a batch view with time buckets gets an
 * all-time roll-up, a minute or hour view a daily one and a day or week
 * view a monthly one (a week counts in the month of its Monday), each with
 * an index of slots by bucket. A leaderboard read through them must answer
 * exactly what it answers reading the base table and its deltas whole, for
 * ranges cut anywhere: mid-bucket, mid-week, mid-month, open at either end,
 * around 1970 and a leap day, sketches included (compared as states).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { InMemoryBatchViews, type BatchManifest } from '../../src/batch/index.ts';
import { compileConfig, defineConfig, defineEventType, defineView, type Query } from '../../src/index.ts';
import { GRANULARITIES, type Row } from '../../src/definitions/index.ts';
import { executeQuery, planQuery, QueryBudget } from '../../src/serving/index.ts';
import { fold } from '../support/aggregate-states.ts';

const sale = defineEventType({
  name: 'sale',
  time: 'at',
  fields: { at: 'timestamp', shop: 'string', kind: { type: 'string', optional: true }, amount: { type: 'number', scale: 2, optional: true } },
});
const measures = {
  n: { type: 'count' },
  total: { type: 'sum', field: 'amount' },
  low: { type: 'min', field: 'amount' },
  latest: { type: 'max', field: 'at' },
  mean: { type: 'avg', field: 'amount' },
  kinds: { type: 'countDistinct', field: 'kind' },
  spread: { type: 'quantiles', field: 'amount', quantiles: [0.5, 0.9] },
} as const;
const catalog = compileConfig(defineConfig({
  eventTypes: [sale],
  views: GRANULARITIES.map((granularity) => defineView(sale, { name: `by_${granularity}`, dimensions: ['shop', 'kind'], granularity, measures })),
}));

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Month starts around 1970 and a leap day; 2024-01-01 and 2024-04-01 are Mondays, 1970-01-01 a Thursday. */
const ANCHORS = [Date.UTC(1969, 11, 1), Date.UTC(1970, 0, 1), Date.UTC(2024, 0, 1), Date.UTC(2024, 1, 1), Date.UTC(2024, 2, 1), Date.UTC(2024, 3, 1)];
/** Close to an anchor (many events share a minute or an hour) or weeks from it (ranges cut weeks and months). */
const nearAnchor = fc.tuple(fc.constantFrom(...ANCHORS), fc.oneof(fc.integer({ min: -3 * HOUR, max: 3 * HOUR }), fc.integer({ min: -40 * DAY, max: 40 * DAY })))
  .map(([anchor, offset]) => anchor + offset);
const row = fc.record({
  at: nearAnchor,
  shop: fc.constantFrom('a', 'b', 'c', 'd', ''),
  kind: fc.option(fc.constantFrom('x', 'y'), { nil: null }),
  // Rows hold normalized values: amounts as scaled integers (cents), some near the safe-integer limit so sums turn to bigints.
  amount: fc.oneof(fc.integer({ min: -10_000, max: 10_000 }), fc.constant(null), fc.constant(4e15)),
}).map((r): Row => ({ _offset: null, ...r }));
/** Range ends at an anchor, at the Monday before it, or near either: a millisecond, half of one, an hour, days. */
const edge = fc.tuple(fc.constantFrom(...ANCHORS), fc.boolean(), fc.constantFrom(0, 1, -1, 0.5, HOUR, -HOUR, DAY, -DAY, 3 * DAY, -3 * DAY, 9 * DAY, -17 * DAY))
  .map(([anchor, monday, offset]) => (monday ? anchor - (((new Date(anchor).getUTCDay() + 6) % 7) * DAY) : anchor) + offset);
const range = fc.tuple(fc.option(edge, { nil: undefined }), fc.option(edge, { nil: undefined }));
const grouping = fc.constantFrom(['shop', 'kind'], ['kind', 'shop'], ['shop'], ['kind'], []);
const ranking = fc.record({ measure: fc.constantFrom(...Object.keys(measures)), desc: fc.boolean(), limit: fc.integer({ min: 0, max: 6 }) });

const manifest = { version: 1, cutoff: 50, createdAt: new Date(0).toISOString(), durationMs: 0, views: {} } as BatchManifest;

/** Every view's base table (the first rows) and one delta (the rest), with their read aids built. */
async function withAids(rows: readonly Row[], split: number): Promise<InMemoryBatchViews> {
  const tables = new Map([...catalog.views.values()].map((view) => [view.name, [fold(view, rows.slice(0, split)), fold(view, rows.slice(split))]]));
  const views = new InMemoryBatchViews(manifest, tables);
  await views.settled();
  return views;
}

test('read aids: a leaderboard read through them answers what the base table and deltas read whole answer, for every granularity and any range', async () => {
  await fc.assert(fc.asyncProperty(
    fc.array(row, { maxLength: 150 }), fc.nat(150), fc.array(fc.tuple(range, grouping, ranking, fc.boolean()), { minLength: 1, maxLength: 12 }),
    async (rows, split, queries) => {
      const views = await withAids(rows, split);
      for (const view of catalog.views.values()) {
        for (const [[from, to], groupBy, { measure, desc, limit }, states] of queries) {
          const timed = view.granularity === 'none' ? {} : { from, to };
          const query: Query = { view: view.name, ...timed, groupBy, granularity: 'all', orderBy: [{ measure, desc }], limit, states };
          const plan = planQuery(catalog, query);
          const aided = executeQuery(plan, views.spans(view.name, plan.from, plan.to), new QueryBudget());
          assert.deepEqual(aided, executeQuery(plan, views.tables(view.name), new QueryBudget()), JSON.stringify(query));
        }
      }
    },
  ), { seed: 20261203, numRuns: 150 });
});

test('read aids: all time reads the all-time roll-up; whole months of a day or week view, and whole days of an hour view, read only the coarser roll-up', async () => {
  const rows = Array.from({ length: 2_000 }, (_, i): Row => ({ _offset: null, at: Date.UTC(2024, 0, 1) + i * 2 * HOUR, shop: `s${i % 7}`, kind: null, amount: i }));
  const views = await withAids(rows, rows.length);
  const read = (view: string, from: number, to: number) => views.spans(view, from, to).filter((s) => s.from < s.to);
  for (const granularity of ['minute', 'hour', 'day', 'week', 'month'] as const) {
    const [base] = views.tables(`by_${granularity}`);
    const [total, delta] = read(`by_${granularity}`, -Infinity, Infinity);
    assert.equal(total!.table.size, 7, `${granularity}: one slot per series`);
    assert.equal(delta!.table.size, 0, 'the empty delta, read whole');
    assert.notEqual(total!.table, base);
  }
  assert.equal(views.coarseTable('by_month'), undefined, 'a month view has no coarser roll-up');
  assert.equal(views.coarseTable('by_none'), undefined);
  for (const [view, coarse, from, to] of [
    ['by_day', 'month', Date.UTC(2024, 1, 1), Date.UTC(2024, 3, 1)],
    ['by_week', 'month', Date.UTC(2024, 1, 1), Date.UTC(2024, 3, 1)],
    ['by_hour', 'day', Date.UTC(2024, 1, 1), Date.UTC(2024, 1, 9)],
    ['by_minute', 'day', Date.UTC(2024, 1, 1), Date.UTC(2024, 1, 9)],
  ] as const) {
    const spans = read(view, from, to);
    assert.equal(spans[0]!.table, views.coarseTable(view), view);
    assert.equal(spans[0]!.table.view.granularity, coarse);
    assert.deepEqual(spans.slice(1).map((s) => s.table.size), [0], `${view}: nothing but the coarser roll-up and the empty delta`);
  }
  // Cut mid-month: the whole month from the roll-up, the days at each end from the day view's own slots.
  const cut = read('by_day', Date.UTC(2024, 0, 20), Date.UTC(2024, 2, 3));
  assert.deepEqual(cut.map((s) => [s.table === views.coarseTable('by_day'), new Date(s.from).toISOString(), new Date(s.to).toISOString()]), [
    [true, '2024-02-01T00:00:00.000Z', '2024-03-01T00:00:00.000Z'],
    [false, '2024-01-20T00:00:00.000Z', '2024-02-01T00:00:00.000Z'],
    [false, '2024-03-01T00:00:00.000Z', '2024-03-03T00:00:00.000Z'],
    [false, '2024-01-20T00:00:00.000Z', '2024-03-03T00:00:00.000Z'],
  ]);
});
