/**
 * A cluster node holds the partitions it owns merged into one store, and
 * each other partition it reads apart (`partition-batch.ts`). Whatever
 * partitions an answer reads, and whichever the node has let go, the tables
 * it reads must hold exactly the states of those partitions' events: never
 * one of a partition it was not asked for, never one missing.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { BatchManifest, BatchViewStore } from '../../../src/batch/index.ts';
import type { BatchDelta, BatchPart } from '../../../src/batch/batch-manifest.ts';
import { compileConfig, defineConfig, defineEventType, defineView } from '../../../src/index.ts';
import type { Row } from '../../../src/definitions/index.ts';
import { fold } from '../../support/aggregate-states.ts';
import { AggregateTable } from '../../../src/aggregates/index.ts';
import { loadPartitionBatch } from '../../../src/backends/nats/partition-batch.ts';
import { viewFileFixture } from '../../support/view-file-fixture.ts';

const sale = defineEventType({ name: 'sale', time: 'at', fields: { at: 'timestamp', shop: 'string', buyer: 'string', amount: 'number' } });
const catalog = compileConfig(defineConfig({
  eventTypes: [sale],
  views: [defineView(sale, {
    name: 'hourly',
    dimensions: ['shop'],
    granularity: 'hour',
    measures: { n: { type: 'count' }, total: { type: 'sum', field: 'amount' }, high: { type: 'max', field: 'amount' }, buyers: { type: 'countDistinct', field: 'buyer' } },
  })],
}));
const hourly = catalog.views.get('hourly')!;
const schema = catalog.eventTypes.get('sale')!;
const PARTITIONS = 4;
const HOUR = 3_600_000;

type Event = { at: number; shop: string; buyer: string; amount: number };
const event = fc.record({
  at: fc.integer({ min: 0, max: 3 * HOUR }).map((offset) => Date.UTC(2024, 2, 1) + offset),
  shop: fc.constantFrom('a', 'b'),
  buyer: fc.constantFrom('x', 'y', 'z'),
  amount: fc.integer({ min: -100, max: 100 }),
});
/** Per partition, the events of the base, then of one incremental cycle. */
const history = fc.array(fc.tuple(fc.array(event, { maxLength: 12 }), fc.array(event, { maxLength: 6 })), { minLength: PARTITIONS, maxLength: PARTITIONS });

const files = viewFileFixture('tandem-partition-batch-');

/** A partitioned version's manifest naming one base file and one delta per partition that has rows, each computed in one scan. */
async function manifestOf(partitions: readonly (readonly [Event[], Event[]])[]): Promise<BatchManifest> {
  const parts: BatchPart[] = [...await files.compute(schema, hourly, partitions.map(([base]) => base))].map(([partition, f]) => ({ file: f.file, sha256: f.sha256, rows: f.rows, partition }));
  const deltas: BatchDelta[] = [...await files.compute(schema, hourly, partitions.map(([, delta]) => delta))].map(([partition, f]) => ({ file: f.file, sha256: f.sha256, rows: f.rows, partition, from: 10, to: 20 }));
  return {
    version: 2, cutoff: 20, cutoffs: new Array<number>(PARTITIONS).fill(5), createdAt: new Date(0).toISOString(), durationMs: 0, mode: 'incremental',
    views: { hourly: { hash: hourly.hash, file: null, rows: 0, inputEvents: 0, durationMs: 0, parts, deltas } },
  };
}

/** The states a store's tables hold together, merged by each measure's monoid. */
function merged(store: BatchViewStore): AggregateTable {
  const into = new AggregateTable(hourly);
  for (const table of store.tables('hourly')) {
    for (let slot = 0; slot < table.size; slot++) {
      const at = into.internSlot(into.internSeries(table.dims(table.seriesAt(slot))), table.bucketAt(slot));
      table.columns.forEach((column, m) => into.columns[m]!.merge(at, hourly.measures[m]!.monoid.merge(hourly.measures[m]!.monoid.empty(), column.get(slot))));
    }
  }
  return into;
}

/** `actual` holds the states of exactly `events`, compared by each measure's result (merged states may differ in form, never in value). */
function assertStatesOf(actual: AggregateTable, events: readonly Event[]): void {
  const expected = fold(hourly, events.map((e): Row => ({ _offset: null, ...e })));
  assert.equal(actual.size, expected.size);
  for (let slot = 0; slot < expected.size; slot++) {
    const at = actual.findSlot(actual.findSeries(expected.dims(expected.seriesAt(slot))), expected.bucketAt(slot));
    assert.notEqual(at, -1);
    expected.columns.forEach((column, m) => assert.deepEqual(hourly.measures[m]!.monoid.result(actual.columns[m]!.get(at)), hourly.measures[m]!.monoid.result(column.get(slot))));
  }
}

const eventsOf = (partitions: readonly (readonly [Event[], Event[]])[], ps: readonly number[]): Event[] => ps.flatMap((p) => [...partitions[p]![0], ...partitions[p]![1]]);

test('partition batch: an answer over any partitions reads exactly their states, merged or apart, before and after one is let go', async () => {
  const subset = fc.subarray([0, 1, 2, 3], { minLength: 1 });
  await fc.assert(fc.asyncProperty(history, fc.subarray([0, 1, 2, 3]), subset, fc.constantFrom(0, 1, 2, 3), async (partitions, owned, asked, letGo) => {
    const manifest = await manifestOf(partitions);
    const batch = await loadPartitionBatch(files.connection, catalog, manifest, files.dir, { serving: [0, 1, 2, 3], together: new Set(owned) });
    assert.deepEqual(batch.served(), [0, 1, 2, 3]);
    // Every partition at once: no load apart is needed.
    assertStatesOf(merged(batch.storeFor([0, 1, 2, 3])!), eventsOf(partitions, [0, 1, 2, 3]));
    // Some: loaded apart where they are merged with others, once, then kept.
    await batch.prepare(asked);
    const store = batch.storeFor(asked)!;
    assertStatesOf(merged(store), eventsOf(partitions, asked));
    // One let go: never read again, and its tables go once the rest is loaded apart.
    const without = batch.without(letGo);
    assert.equal(without.has(letGo), false);
    assert.equal(without.storeFor([letGo]), undefined);
    const rest = [0, 1, 2, 3].filter((p) => p !== letGo);
    await without.prepare(rest);
    const compacted = without.compacted();
    assert.equal(compacted.holdsLetGo, false);
    assertStatesOf(merged(compacted.storeFor(rest)!), eventsOf(partitions, rest));
    assertStatesOf(merged(compacted), eventsOf(partitions, rest));
  }), { seed: 2026_12_03, numRuns: 12 });
});

test('partition batch: a store merged with a partition the answer lacks is not read until loaded apart', async () => {
  const partitions = [0, 1, 2, 3].map((p): [Event[], Event[]] => [[{ at: Date.UTC(2024, 2, 1), shop: 'a', buyer: `b${p}`, amount: p }], []]);
  const batch = await loadPartitionBatch(files.connection, catalog, await manifestOf(partitions), files.dir, { serving: [0, 1, 2, 3], together: new Set([0, 1]) });
  assert.equal(batch.storeFor([0, 2]), undefined, 'partition 0 is merged with 1');
  assert.notEqual(batch.storeFor([0, 1, 2]), undefined);
  await batch.prepare([0, 2]);
  assertStatesOf(merged(batch.storeFor([0, 2])!), eventsOf(partitions, [0, 2]));
});

test('partition batch: a partition without rows under a changed definition is not given the served version\'s empty table of the old one', async () => {
  // The view changed: fewer measures, so another hash. A table of the old definition read with the new plan has a column too many.
  const changed = compileConfig(defineConfig({
    eventTypes: [sale],
    views: [defineView(sale, { name: 'hourly', dimensions: ['shop'], granularity: 'hour', measures: { n: { type: 'count' } } })],
  }));
  const view = changed.views.get('hourly')!;
  assert.notEqual(view.hash, hourly.hash);
  // Partition 0 has rows, partition 1 none: its base table has no file under either definition.
  const one: Event = { at: Date.UTC(2024, 2, 1), shop: 'a', buyer: 'x', amount: 5 };
  const old = await manifestOf([[[one], []], [[], []], [[], []], [[], []]]);
  const served = await loadPartitionBatch(files.connection, catalog, old, files.dir, { serving: [1], together: new Set([1]) });
  assert.equal(served.storeFor([1])!.tables('hourly')[0]!.view, hourly);
  const computed = await files.compute(schema, view, [[one]]);
  const manifest: BatchManifest = {
    ...old, version: 3,
    views: { hourly: { hash: view.hash, file: null, rows: 0, inputEvents: 0, durationMs: 0, parts: [...computed].map(([partition, f]) => ({ file: f.file, sha256: f.sha256, rows: f.rows, partition })) } },
  };
  const next = await loadPartitionBatch(files.connection, changed, manifest, files.dir, { serving: [1], together: new Set([1]), served });
  for (const table of next.storeFor([1])!.tables('hourly')) {
    assert.equal(table.view, view, 'every table is of the definition the version was computed with');
    assert.equal(table.columns.length, 1);
  }
});
