/**
 * A filter per measure: each measure folds only the events that meet its own
 * filter as well as the view's. For random events and random filters on
 * every kind of measure, the speed layer alone, the batch layer alone and
 * the two split at random log offsets (with an incremental batch run
 * between) must all answer exactly as a plain recomputation does.
 */
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Tandem, type Layer, type Query, type TandemConfig, type ViewJson } from '../src/index.ts';
import { canonicalRows, referenceQuery } from './support/reference.ts';
import { order } from './support/shop-config.ts';
import { AcceptedEvents, shopEvent, type GeneratedEvent } from './support/shop-events.ts';
import { withTempDir } from './support/temp-dir.ts';

const BASE = Date.UTC(2024, 2, 1);
const SPAN = 120 * 86_400_000;

type Condition = { readonly field: string; readonly op: string; readonly value: unknown };

const ORDERING = ['=', '!=', '<', '<=', '>', '>='] as const;

/** One condition over a field of the shop's order, with operands near the generated events' values, so that filters both keep and drop. */
const condition: fc.Arbitrary<Condition> = fc.oneof(
  fc.record({ field: fc.constant('country'), op: fc.constantFrom('=', '!='), value: fc.constantFrom('DE', 'FR', 'US', 'BR') }),
  fc.record({ field: fc.constant('country'), op: fc.constant('in'), value: fc.subarray(['DE', 'FR', 'US', 'BR'], { minLength: 1 }) }),
  fc.record({ field: fc.constant('device'), op: fc.constantFrom('=', '!='), value: fc.constantFrom('ios', 'android', 'web') }),
  fc.record({ field: fc.constant('device'), op: fc.constant('in'), value: fc.subarray(['ios', 'android', 'web'], { minLength: 1 }) }),
  fc.record({ field: fc.constant('mobile'), op: fc.constantFrom('=', '!='), value: fc.boolean() }),
  fc.record({ field: fc.constant('amount'), op: fc.constantFrom(...ORDERING), value: fc.integer({ min: -500, max: 100_000 }).map((c) => c / 100) }),
  fc.record({ field: fc.constant('qty'), op: fc.constantFrom(...ORDERING), value: fc.integer({ min: 0, max: 20 }) }),
  fc.record({ field: fc.constant('qty'), op: fc.constant('in'), value: fc.uniqueArray(fc.integer({ min: 0, max: 20 }), { minLength: 1, maxLength: 4 }) }),
  fc.record({ field: fc.constant('at'), op: fc.constantFrom('<', '<=', '>', '>='), value: fc.integer({ min: 0, max: SPAN }).map((t) => BASE + t) }),
);

/** A measure's filter: none, an empty list, or one to three conditions. */
const measureFilter = fc.option(fc.array(condition, { minLength: 0, maxLength: 3 }), { nil: undefined, freq: 4 });

/** Every kind of measure, each with a random filter of its own. */
const measures = fc.record({
  all: fc.constant({ type: 'count' }),
  n: measureFilter.map((filter) => ({ type: 'count', filter })),
  revenue: measureFilter.map((filter) => ({ type: 'sum', field: 'amount', filter })),
  items: measureFilter.map((filter) => ({ type: 'sum', field: 'qty', filter })),
  smallest: measureFilter.map((filter) => ({ type: 'min', field: 'amount', filter })),
  latest: measureFilter.map((filter) => ({ type: 'max', field: 'at', filter })),
  basket: measureFilter.map((filter) => ({ type: 'avg', field: 'amount', filter })),
  devices: measureFilter.map((filter) => ({ type: 'countDistinct', field: 'device', filter })),
  spread: measureFilter.map((filter) => ({ type: 'quantiles', field: 'qty', quantiles: [0.5, 0.9], filter })),
}).map((m) => Object.fromEntries(Object.entries(m).map(([name, spec]) => [name, withoutUndefined(spec)])));

function withoutUndefined(spec: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(spec).filter(([, v]) => v !== undefined));
}

const view: fc.Arbitrary<ViewJson> = fc.record({
  dimensions: fc.subarray(['country', 'mobile']),
  granularity: fc.constantFrom('hour', 'day', 'none'),
  measures,
  filter: fc.option(fc.array(condition, { minLength: 1, maxLength: 2 }), { nil: undefined, freq: 3 }),
}).map((v) => withoutUndefined({ name: 'filtered', eventType: 'order', ...v }) as unknown as ViewJson);

/** The events put in one layer or the other: all in the speed layer, all in the batch, or in three parts with a batch run after each of the first two. */
async function arrange(engine: Tandem, layer: Layer, raw: readonly unknown[], cuts: readonly [number, number]): Promise<void> {
  if (layer !== 'merged') {
    await engine.ingestUntyped('order', raw);
    if (layer === 'batch') await engine.runBatch();
    return;
  }
  const [a, b] = [Math.min(...cuts), Math.max(...cuts)];
  await engine.ingestUntyped('order', raw.slice(0, a));
  await engine.runBatch();
  await engine.ingestUntyped('order', raw.slice(a, b));
  await engine.runBatch();
  await engine.ingestUntyped('order', raw.slice(b));
}

async function answersLikeTheReference(definition: ViewJson, events: readonly GeneratedEvent[], cuts: [number, number]): Promise<void> {
  const config: TandemConfig = { eventTypes: [order], views: [definition] };
  const accepted = new AcceptedEvents();
  accepted.add(events);
  const queries: Query[] = [
    { view: 'filtered', groupBy: [...definition.dimensions] },
    { view: 'filtered', granularity: 'all' },
  ];
  for (const layer of ['speed', 'batch', 'merged'] as const) {
    await withTempDir(async (dir) => {
      const engine = await Tandem.open({ dataDir: dir, config });
      try {
        await arrange(engine, layer, events.map((e) => e.raw), cuts);
        for (const query of queries) {
          const { rows } = await engine.queryUntyped({ ...query, layer });
          const expected = referenceQuery(definition, accepted.events, query);
          assert.deepEqual(canonicalRows(rows), canonicalRows(expected), `${layer} ${JSON.stringify(query)}`);
        }
      } finally {
        await engine.close();
      }
    });
  }
}

describe('measure filters', () => {
  test('measure filters - speed, batch and split answers equal a recomputation, for every kind of measure', async () => {
    await fc.assert(
      fc.asyncProperty(view, fc.array(shopEvent, { maxLength: 80 }), fc.nat(80), fc.nat(80), async (definition, events, a, b) => {
        await answersLikeTheReference(definition, events, [Math.min(a, events.length), Math.min(b, events.length)]);
      }),
      { numRuns: 20, seed: 32, includeErrorInReport: true },
    );
  });
});
