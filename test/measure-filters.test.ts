/**
 * A filter per measure: each measure folds only the events that meet its own
 * filter as well as the view's. For random events and random filters on
 * every kind of measure, the speed layer alone, the batch layer alone and
 * the two split at random log offsets (with an incremental batch run
 * between) must all answer exactly as a plain recomputation does.
 */
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { defineConfig, defineEventType, defineView, Tandem, type Layer, type Query, type TandemConfig, type ViewJson } from '../src/index.ts';
import { ClusterNode } from '../src/backends/nats/index.ts';
import type { ServedEngine } from '../src/engine/index.ts';
import { NatsCluster, natsSkipReason } from './support/nats-cluster.ts';
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
async function arrange(engine: ServedEngine, layer: Layer, raw: readonly unknown[], cuts: readonly [number, number]): Promise<void> {
  if (layer !== 'merged') {
    await engine.ingest('order', raw);
    if (layer === 'batch') await engine.runBatch();
    return;
  }
  const [a, b] = [Math.min(...cuts), Math.max(...cuts)];
  await engine.ingest('order', raw.slice(0, a));
  await engine.runBatch();
  await engine.ingest('order', raw.slice(a, b));
  await engine.runBatch();
  await engine.ingest('order', raw.slice(b));
}

type Open = (dir: string, config: TandemConfig) => Promise<ServedEngine>;

async function answersLikeTheReference(open: Open, definition: ViewJson, events: readonly GeneratedEvent[], cuts: [number, number]): Promise<void> {
  const config: TandemConfig = { eventTypes: [order], views: [definition] };
  const accepted = new AcceptedEvents();
  accepted.add(events);
  const queries: Query[] = [
    { view: 'filtered', groupBy: [...definition.dimensions] },
    { view: 'filtered', granularity: 'all' },
  ];
  for (const layer of ['speed', 'batch', 'merged'] as const) {
    await withTempDir(async (dir) => {
      const engine = await open(dir, config);
      try {
        await arrange(engine, layer, events.map((e) => e.raw), cuts);
        for (const query of queries) {
          const { rows } = await engine.query({ ...query, layer });
          const expected = referenceQuery(definition, accepted.events, query);
          assert.deepEqual(canonicalRows(rows), canonicalRows(expected), `${layer} ${JSON.stringify(query)}`);
        }
      } finally {
        await engine.close();
      }
    });
  }
}

/** The property on engines that `open` makes; a cluster's failures are reported as found, not shrunk (each run takes seconds there). */
function layersAgree(mode: string, open: Open, numRuns: number, { shrink = true } = {}): void {
  test(`measure filters${mode} - speed, batch and split answers equal a recomputation, for every kind of measure`, async () => {
    await fc.assert(
      fc.asyncProperty(view, fc.array(shopEvent, { maxLength: 80 }), fc.nat(80), fc.nat(80), async (definition, events, a, b) => {
        await answersLikeTheReference(open, definition, events, [Math.min(a, events.length), Math.min(b, events.length)]);
      }),
      { numRuns, seed: 32, endOnFailure: !shrink, includeErrorInReport: true },
    );
  });
}

describe('measure filters', () => {
  layersAgree('', (dir, config) => Tandem.open({ dataDir: dir, config }), 16);
});

describe('measure filters on a one-node cluster', { skip: natsSkipReason(), timeout: 300_000 }, () => {
  let nats: NatsCluster | undefined;
  let clusters = 0;
  before(async () => {
    nats = await NatsCluster.start({ size: 1 });
  });
  after(async () => {
    await nats?.stop();
  });
  layersAgree(' (cluster)', (dir, config) => ClusterNode.open({
    dataDir: dir, servers: nats!.urls, node: 'solo', config: { ...config, cluster: { name: `filters${clusters++}`, partitions: 2, replicas: 1 } },
  }), 4, { shrink: false });
});

/** The README's error rate ("A filter per measure"), as written there. */
const request = defineEventType({
  name: 'request', time: 'at',
  fields: { at: 'timestamp', path: 'string', status: { type: 'number', scale: 0 }, ms: { type: 'number', scale: 0 } },
});

const errors = defineView(request, {
  name: 'errors_by_path',
  dimensions: ['path'],
  granularity: 'minute',
  measures: {
    requests: { type: 'count' },
    errors: { type: 'count', filter: [{ field: 'status', op: '>=', value: 500 }] },
    slowest_ok: { type: 'max', field: 'ms', filter: [{ field: 'status', op: '<', value: 400 }] },
  },
  filter: [{ field: 'path', op: '!=', value: '/health' }],
});

test('measure filters - the README error rate: a path without errors reads 0, without a fast answer null, in every layer', async () => {
  const at = '2024-05-01T10:00:30Z';
  const events = [
    { at, path: '/pay', status: 200, ms: 120 }, { at, path: '/pay', status: 503, ms: 900 }, { at, path: '/pay', status: 201, ms: 840 },
    { at, path: '/cart', status: 200, ms: 40 }, { at, path: '/cart', status: 404, ms: 15 },
    { at, path: '/search', status: 500, ms: 30 }, { at, path: '/health', status: 500, ms: 1 },
  ];
  const expected = [
    { path: '/cart', time: '2024-05-01T10:00:00.000Z', requests: 2, errors: 0, slowest_ok: 40 },
    { path: '/pay', time: '2024-05-01T10:00:00.000Z', requests: 3, errors: 1, slowest_ok: 840 },
    { path: '/search', time: '2024-05-01T10:00:00.000Z', requests: 1, errors: 1, slowest_ok: null },
  ];
  await withTempDir(async (dir) => {
    const engine = await Tandem.open({ dataDir: dir, config: defineConfig({ eventTypes: [request], views: [errors] }) });
    try {
      const answer = async (layer: Layer) => {
        const { rows } = await engine.query({ view: 'errors_by_path', groupBy: ['path'], layer });
        return [...rows].sort((x, y) => x.path!.localeCompare(y.path!));
      };
      await engine.ingest('request', events.slice(0, 4));
      await engine.runBatch();
      await engine.ingest('request', events.slice(4));
      assert.deepEqual(await answer('merged'), expected);
      await engine.runBatch();
      assert.deepEqual(await answer('batch'), expected);
    } finally {
      await engine.close();
    }
  });
  await withTempDir(async (dir) => {
    const engine = await Tandem.open({ dataDir: dir, config: defineConfig({ eventTypes: [request], views: [errors] }) });
    try {
      await engine.ingest('request', events);
      const { rows } = await engine.query({ view: 'errors_by_path', groupBy: ['path'], layer: 'speed' });
      assert.deepEqual([...rows].sort((x, y) => x.path!.localeCompare(y.path!)), expected);
    } finally {
      await engine.close();
    }
  });
});

test('measure filters - changing only a measure\'s filter on a running engine recomputes the view, and answers follow the new filter', async () => {
  const first = { ...errors, measures: { ...errors.measures, errors: { type: 'count', filter: [{ field: 'status', op: '>=', value: 500 }] } } } as const;
  const second = { ...errors, measures: { ...errors.measures, errors: { type: 'count', filter: [{ field: 'status', op: '>=', value: 400 }] } } } as const;
  await withTempDir(async (dir) => {
    const engine = await Tandem.open({ dataDir: dir, config: { eventTypes: [request], views: [first] } });
    try {
      const at = '2024-05-01T10:00:30Z';
      await engine.ingestUntyped('request', [{ at, path: '/a', status: 404, ms: 1 }, { at, path: '/a', status: 500, ms: 2 }, { at, path: '/a', status: 200, ms: 3 }]);
      await engine.runBatch();
      const errorsNow = async () => (await engine.queryUntyped({ view: 'errors_by_path', granularity: 'all' })).rows[0]!.errors;
      assert.equal(await errorsNow(), 1);
      const hash = engine.catalog.views.get('errors_by_path')!.hash;
      const change = await engine.applyView(second);
      assert.equal(change.action, 'change');
      const deadline = Date.now() + 30_000;
      while (engine.status().viewChanges.length > 0) {
        assert.ok(Date.now() < deadline, `the change settled: ${JSON.stringify(engine.status().viewChanges)}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      assert.notEqual(engine.catalog.views.get('errors_by_path')!.hash, hash);
      assert.equal(await errorsNow(), 2, 'the 404 counts now, in the recomputed batch view');
      await engine.ingestUntyped('request', [{ at, path: '/a', status: 403, ms: 4 }]);
      assert.equal(await errorsNow(), 3, 'and in the speed layer');
    } finally {
      await engine.close();
    }
  });
});
