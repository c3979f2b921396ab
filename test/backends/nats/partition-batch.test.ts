/**
 * A cluster node holds the partitions it owns merged into one store, and
 * each other partition it reads apart (`partition-batch.ts`). Whatever
 * partitions an answer reads, and whichever the node has let go, the tables
 * it reads must hold exactly the states of those partitions' events: never
 * one of a partition it was not asked for, never one missing.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import fc from 'fast-check';
import { computeViewFiles, type BatchManifest, type BatchViewStore } from '../../../src/batch/index.ts';
import type { BatchDelta, BatchPart } from '../../../src/batch/batch-manifest.ts';
import { compileConfig, defineConfig, defineEventType, defineView } from '../../../src/index.ts';
import { toColumns, type Row } from '../../../src/definitions/index.ts';
import { AggregateTable } from '../../../src/aggregates/index.ts';
import { exportSql } from '../../../src/master/parquet-export.ts';
import { loadPartitionBatch } from '../../../src/backends/nats/partition-batch.ts';
import { makeTempDir } from '../../support/temp-dir.ts';

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

let dir: string;
let removeDir: () => Promise<void>;
let instance: DuckDBInstance;
let connection: DuckDBConnection;
let files = 0;

before(async () => {
  ({ dir, remove: removeDir } = await makeTempDir('tandem-partition-batch-'));
  instance = await DuckDBInstance.create(':memory:');
  connection = await instance.connect();
});
after(async () => {
  connection.closeSync();
  instance.closeSync();
  await removeDir();
});

/** The view's file of each partition over its events, as a node's part of a cycle computes them: in one scan. */
async function viewFiles(byPartition: readonly Event[][]): Promise<Map<number, { file: string; sha256: string; rows: number }>> {
  const name = `f${files++}`;
  const sources = new Map<number, Map<string, { files: string[]; events: number }>>();
  for (const [p, events] of byPartition.entries()) {
    if (events.length === 0) continue;
    await writeFile(join(dir, `${name}-${p}.ndjson`), events.map((e, i) => `${JSON.stringify({ _offset: i, ...e })}\n`).join(''));
    await connection.run(exportSql(schema, join(dir, `${name}-${p}.ndjson`), join(dir, `${name}-${p}.raw.parquet`)));
    sources.set(p, new Map([['sale', { files: [join(dir, `${name}-${p}.raw.parquet`)], events: events.length }]]));
  }
  const computed = await computeViewFiles({ connection, byPartition: sources, cutoff: Number.MAX_SAFE_INTEGER }, hourly, dir, (p) => `${name}.p${p}.parquet`);
  return new Map(computed.map((c) => [c.partition!, { file: c.file!, sha256: c.sha256!, rows: c.rows }]));
}

/** A partitioned version's manifest naming one base file and one delta per partition that has rows. */
async function manifestOf(partitions: readonly (readonly [Event[], Event[]])[]): Promise<BatchManifest> {
  const parts: BatchPart[] = [...await viewFiles(partitions.map(([base]) => base))].map(([partition, f]) => ({ ...f, partition }));
  const deltas: BatchDelta[] = [...await viewFiles(partitions.map(([, delta]) => delta))].map(([partition, f]) => ({ ...f, partition, from: 10, to: 20 }));
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

function assertSameStates(actual: AggregateTable, events: readonly Event[]): void {
  const expected = new AggregateTable(hourly);
  expected.apply(toColumns(hourly.eventType.fields, events.map((e): Row => ({ _offset: null, ...e }))));
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
    const batch = await loadPartitionBatch(connection, catalog, manifest, dir, { serving: [0, 1, 2, 3], together: new Set(owned) });
    assert.deepEqual(batch.served(), [0, 1, 2, 3]);
    // Every partition at once: no load apart is needed.
    assertSameStates(merged(batch.storeFor([0, 1, 2, 3])!), eventsOf(partitions, [0, 1, 2, 3]));
    // Some: loaded apart where they are merged with others, once, then kept.
    await batch.prepare(asked);
    const store = batch.storeFor(asked)!;
    assertSameStates(merged(store), eventsOf(partitions, asked));
    // One let go: never read again, and its tables go once the rest is loaded apart.
    const without = batch.without(letGo);
    assert.equal(without.has(letGo), false);
    assert.equal(without.storeFor([letGo]), undefined);
    const rest = [0, 1, 2, 3].filter((p) => p !== letGo);
    await without.prepare(rest);
    const compacted = without.compacted();
    assert.equal(compacted.holdsLetGo, false);
    assertSameStates(merged(compacted.storeFor(rest)!), eventsOf(partitions, rest));
    assertSameStates(merged(compacted), eventsOf(partitions, rest));
  }), { seed: 2026_12_03, numRuns: 12 });
});

test('partition batch: a store merged with a partition the answer lacks is not read until loaded apart', async () => {
  const partitions = [0, 1, 2, 3].map((p): [Event[], Event[]] => [[{ at: Date.UTC(2024, 2, 1), shop: 'a', buyer: `b${p}`, amount: p }], []]);
  const batch = await loadPartitionBatch(connection, catalog, await manifestOf(partitions), dir, { serving: [0, 1, 2, 3], together: new Set([0, 1]) });
  assert.equal(batch.storeFor([0, 2]), undefined, 'partition 0 is merged with 1');
  assert.notEqual(batch.storeFor([0, 1, 2]), undefined);
  await batch.prepare([0, 2]);
  assertSameStates(merged(batch.storeFor([0, 2])!), eventsOf(partitions, [0, 2]));
});
