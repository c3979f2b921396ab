/**
 * The daily roll-up of a minute or hour batch view (and the monthly one of
 * a day view) is built in the background, in steps, and must hold exactly
 * the states a view with day (month) buckets would have folded from the
 * same events.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { InMemoryBatchViews, type BatchManifest } from '../../src/batch/index.ts';
import { compileConfig, defineConfig, defineEventType, defineView } from '../../src/index.ts';
import type { Row } from '../../src/definitions/index.ts';
import { assertSameStates, fold } from '../support/aggregate-states.ts';
import { eventually } from '../support/eventually.ts';

const sale = defineEventType({
  name: 'sale',
  time: 'at',
  fields: { at: 'timestamp', shop: 'string', amount: { type: 'number', scale: 2, optional: true } },
});
const measures = { n: { type: 'count' }, total: { type: 'sum', field: 'amount' }, low: { type: 'min', field: 'amount' }, high: { type: 'max', field: 'at' }, mean: { type: 'avg', field: 'amount' } } as const;
const catalog = compileConfig(defineConfig({
  eventTypes: [sale],
  views: [
    defineView(sale, { name: 'hourly', dimensions: ['shop'], granularity: 'hour', measures }),
    defineView(sale, { name: 'daily', dimensions: ['shop'], granularity: 'day', measures }),
    defineView(sale, { name: 'monthly', dimensions: ['shop'], granularity: 'month', measures }),
  ],
}));
const hourly = catalog.views.get('hourly')!;
const daily = catalog.views.get('daily')!;
const monthly = catalog.views.get('monthly')!;

const HOUR = 3_600_000;
// Times around midnight on both sides of 1970, amounts near the safe-integer limit so sums cross into bigints.
const row = fc.record({
  at: fc.tuple(fc.constantFrom(Date.UTC(1969, 11, 31), Date.UTC(2024, 2, 1), Date.UTC(2024, 2, 2)), fc.integer({ min: -3 * HOUR, max: 3 * HOUR })).map(([day, offset]) => day + offset),
  shop: fc.constantFrom('a', 'b', 'c', ''),
  // Rows hold normalized values: amounts as scaled integers (cents).
  amount: fc.oneof(fc.integer({ min: -10_000, max: 10_000 }), fc.constant(null), fc.constant(4e15)),
}).map((r): Row => ({ _offset: null, ...r }));

test('daily table: rolling up in steps of any size gives the states a day view folds from the same events', () => {
  fc.assert(fc.property(fc.array(row, { maxLength: 200 }), fc.integer({ min: 1, max: 50 }), (rows, stepSlots) => {
    const steps = fold(hourly, rows).rollingUp('day', stepSlots);
    let step = steps.next();
    while (step.done !== true) step = steps.next();
    assertSameStates(step.value, fold(daily, rows));
  }), { seed: 1126, numRuns: 200 });
});

test('daily table: loading a version starts a background build, and until it is done there is no roll-up; once built, it is served and kept', async () => {
  // Enough hours (200,000 slots) for the build to take several steps of the store's size.
  const rows = Array.from({ length: 200_000 }, (_, i): Row => ({ _offset: null, at: Date.UTC(2000, 0, 1) + i * HOUR, shop: `s${i % 7}`, amount: i % 1000 }));
  const manifest = { version: 1, cutoff: 50, createdAt: new Date(0).toISOString(), durationMs: 0, views: {} } as BatchManifest;
  const views = new InMemoryBatchViews(manifest, new Map([['hourly', [fold(hourly, rows)]], ['daily', [fold(daily, rows)]]]));
  assert.equal(views.coarseTable('daily'), undefined, 'nor the day view\'s monthly roll-up');
  assert.equal(views.coarseTable('missing'), undefined);
  assert.equal(views.coarseTable('hourly'), undefined, 'not built yet');
  // Waiting on timers, with nothing else to do: the build's steps must keep the loop turning by themselves.
  await eventually(() => views.coarseTable('hourly') !== undefined, 'the daily roll-up to be built while the process waits on timers');
  const built = views.coarseTable('hourly')!;
  assertSameStates(built, fold(daily, rows));
  assert.equal(views.coarseTable('hourly'), built, 'kept');
});

test('daily table: settled() resolves once every view\'s read aids are built, and resolves for a version without any', async () => {
  const rows = Array.from({ length: 100_000 }, (_, i): Row => ({ _offset: null, at: Date.UTC(2000, 0, 1) + i * HOUR, shop: `s${i % 5}`, amount: i % 100 }));
  const manifest = { version: 1, cutoff: 50, createdAt: new Date(0).toISOString(), durationMs: 0, views: {} } as BatchManifest;
  const views = new InMemoryBatchViews(manifest, new Map([['hourly', [fold(hourly, rows)]], ['daily', [fold(daily, rows)]]]));
  assert.equal(views.coarseTable('hourly'), undefined, 'not built synchronously');
  await views.settled();
  assertSameStates(views.coarseTable('hourly')!, fold(daily, rows));
  assertSameStates(views.coarseTable('daily')!, fold(monthly, rows));
  await new InMemoryBatchViews(manifest, new Map()).settled();
});
