/**
 * The messages the batch node's consumer read, kept to archive them without
 * reading the stream again: the tail hands out a range only when it holds
 * every message of it, in order; and an archive written from it holds what
 * one written from the stream holds, also when a kept message is not the
 * stream's any more (it then reads the stream).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import fc from 'fast-check';
import { ClusterLog } from '../../../src/backends/nats/cluster-log.ts';
import { ConsumedTail } from '../../../src/backends/nats/consumed-tail.ts';
import type { LogMessage } from '../../../src/backends/nats/log-message.ts';
import { ObjectBlobStore } from '../../../src/backends/nats/object-blob-store.ts';
import { PartitionArchive } from '../../../src/backends/nats/partition-archive.ts';
import { clusterForSuite, natsSkipReason } from '../../support/nats-cluster.ts';
import { withTempDir } from '../../support/temp-dir.ts';
import { catalog, hits, orders } from './fixtures.ts';

const seal = (partition: number, seq: number): LogMessage => ({ kind: 'seal', partition, seq, msgId: `m${seq}`, include: [] });
const events = (partition: number, seq: number, count: number): LogMessage => ({ kind: 'events', partition, seq, msgId: `m${seq}`, eventType: 'hit', events: hits(Array.from({ length: count }, (_, i) => `${seq}/${i}`)) });

type Op =
  | { readonly kind: 'keep'; readonly partition: number; readonly skip: number; readonly count: number }
  | { readonly kind: 'take'; readonly partition: number; readonly from: number; readonly length: number }
  | { readonly kind: 'release'; readonly partition: number; readonly below: number }
  | { readonly kind: 'drop'; readonly partition: number }
  | { readonly kind: 'keeping'; readonly on: boolean };

const partition = fc.nat(1);
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('keep' as const), partition, skip: fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: -3, max: 3 }) }), count: fc.nat(4) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('take' as const), partition, from: fc.integer({ min: 1, max: 60 }), length: fc.nat(8) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('release' as const), partition, below: fc.integer({ min: 1, max: 60 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('drop' as const), partition }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('keeping' as const), on: fc.boolean() }) },
);

test('consumed tail - hands out a range only when it holds every message of it, in order, and counts the events it holds', () => {
  fc.assert(fc.property(fc.array(op, { maxLength: 60 }), fc.integer({ min: 5, max: 40 }), (ops, maxEvents) => {
    const tail = new ConsumedTail(2, maxEvents);
    tail.keeping = true;
    // The model: per partition, the messages held by sequence.
    let model: Map<number, LogMessage>[] = [new Map(), new Map()];
    const next = [1, 1];
    const count = () => model.reduce((n, m) => n + [...m.values()].reduce((k, x) => k + (x.kind === 'events' ? x.events.count : 0), 0), 0);
    for (const o of ops) {
      switch (o.kind) {
        case 'keep': {
          const seq = Math.max(1, next[o.partition]! + o.skip);
          const message = o.count === 0 ? seal(o.partition, seq) : events(o.partition, seq, o.count);
          tail.keep(message);
          next[o.partition] = seq + 1;
          if (!tail.keeping) break;
          const held = model[o.partition]!;
          const last = Math.max(0, ...held.keys());
          if (held.size > 0 && last + 1 !== seq) held.clear();
          held.set(seq, message);
          if (count() > maxEvents) model = [new Map(), new Map()];
          break;
        }
        case 'take': {
          const to = o.from + o.length - 1;
          const held = model[o.partition]!;
          const all = Array.from({ length: o.length }, (_, i) => held.get(o.from + i));
          // An empty range is handed out when something is held at or below its start; nothing held hands out nothing.
          const expected = held.size === 0 || Math.min(...held.keys()) > o.from || Math.max(...held.keys()) < to || all.includes(undefined) ? undefined : all;
          assert.deepEqual(tail.take(o.partition, o.from, to), expected);
          break;
        }
        case 'release':
          tail.releaseBelow(o.partition, o.below);
          for (const seq of model[o.partition]!.keys()) if (seq < o.below) model[o.partition]!.delete(seq);
          break;
        case 'drop':
          tail.drop(o.partition);
          model[o.partition]!.clear();
          break;
        case 'keeping':
          tail.keeping = o.on;
          if (!o.on) model = [new Map(), new Map()];
          break;
      }
      assert.equal(tail.events, count());
    }
  }), { seed: 27, numRuns: 500 });
});

describe('consumed tail - archiving from it', { skip: natsSkipReason(), timeout: 120_000 }, () => {
  const suite = clusterForSuite();

  test('an archive written from the kept messages holds what one read from the stream holds; a kept message the stream no longer holds sends it to the stream', async () => {
    await withTempDir(async (dir) => {
      const log = await ClusterLog.open({ servers: suite.cluster.urls, clusterName: 'tail', partitions: 1, replicas: 1, catalog });
      const nc = await suite.connect({ servers: suite.cluster.urls });
      const duck = await DuckDBInstance.create(':memory:');
      const connection = await duck.connect();
      try {
        // Repeated keys, so the duplicate rule drops some events, and a second event type.
        for (let i = 0; i < 12; i++) {
          await log.append('order', orders(Array.from({ length: 5 }, (_, j) => ({ id: `k${(i * 3 + j) % 20}`, copy: `c${i}` }))));
          if (i % 3 === 0) await log.append('hit', hits([`page${i}`, `page${i + 1}`]));
        }
        const [end] = await log.ends();
        const read: LogMessage[] = [];
        for await (const message of log.replay(0, 1, end)) read.push(message);
        let replays = 0;
        const counted = new Proxy(log, {
          get: (target, key) => {
            if (key === 'replay') replays++;
            const value = Reflect.get(target, key, target) as unknown;
            return typeof value === 'function' ? value.bind(target) : value;
          },
        });
        const archiveWith = async (name: string, kept: LogMessage[] | undefined) => {
          const tail = kept === undefined ? undefined : new ConsumedTail(1);
          if (tail !== undefined) {
            tail.keeping = true;
            for (const m of kept!) tail.keep(m);
          }
          replays = 0;
          const blobs = await ObjectBlobStore.open(nc, { bucket: `tail_${name}`, replicas: 1 });
          const archive = new PartitionArchive(counted, blobs, connection, catalog, join(dir, name), tail);
          const [range] = await archive.extend([], [end! + 1], 1);
          const rows: Record<string, unknown[]> = {};
          for (const [eventType, file] of Object.entries(range!.files)) {
            const reader = await connection.runAndReadAll(`SELECT * FROM read_parquet('${join(dir, name, 'cache', file.blob)}') ORDER BY _offset`);
            rows[eventType] = reader.getRowObjectsJS();
          }
          return { range: { ...range!, files: Object.fromEntries(Object.entries(range!.files).map(([t, f]) => [t, { rows: f.rows }])), filter: undefined }, rows, replays, left: tail?.events ?? 0 };
        };
        const fromStream = await archiveWith('stream', undefined);
        assert.equal(fromStream.replays, 1);
        assert.ok(fromStream.rows.order!.length < 60 && fromStream.rows.order!.length > 0, 'the rule dropped repeated keys');

        const fromTail = await archiveWith('kept', read);
        assert.equal(fromTail.replays, 0, 'nothing read from the stream');
        assert.deepEqual(fromTail.rows, fromStream.rows);
        assert.deepEqual(fromTail.range, fromStream.range);
        assert.equal(fromTail.left, 0, 'what is archived is let go');

        // A message the consumer read that the stream holds no more (a server handed it out and died): other events under another id.
        const at = read.findIndex((m) => m.kind === 'events' && m.eventType === 'order' && m.seq > 3);
        const forged = read.map((m, i): LogMessage => (i === at && m.kind === 'events' ? { ...m, msgId: 'lost', events: orders([{ id: 'never', copy: 'x' }]) } : m));
        const fromForged = await archiveWith('forged', forged);
        assert.equal(fromForged.replays, 1, 'read from the stream');
        assert.deepEqual(fromForged.rows, fromStream.rows);
      } finally {
        connection.closeSync();
        duck.closeSync();
        await log.close();
      }
    });
  });
});
