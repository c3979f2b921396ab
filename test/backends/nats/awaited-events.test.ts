/**
 * The events a node awaits again after a version recorded a stretch of a
 * stream as lost by NATS: which of the events it read are dropped with the
 * version (only those in the lost stretches), and when they stop being
 * awaited (once the rule the partition is read with since has seen each
 * origin again; never by the rule that read them the first time).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AwaitedEvents, type SeenOrigins } from '../../../src/backends/nats/awaited-events.ts';
import { DamageReport } from '../../../src/backends/nats/damage-report.ts';
import { OriginSet } from '../../../src/backends/nats/origin-set.ts';
import { ReadOrigins } from '../../../src/backends/nats/read-origins.ts';

const OUTBOX = '00000000000000aa';
const rule = (seen: Record<string, [number, number][]>): SeenOrigins => ({ originsOf: (id) => OriginSet.of(seen[id] ?? []) });

test('read origins - a version drops every message below its cutoff, and answers with the events of those in the stretches it records as lost', () => {
  const read = new ReadOrigins();
  read.record(3, { id: OUTBOX, first: 10 }, [0, 1, 2]);
  read.record(4, { id: OUTBOX, first: 13 }, [1]); // line 0 was a repeated key
  read.record(5, undefined, [0, 1]);
  read.record(8, { id: OUTBOX, first: 20 }, [0]);
  const dropped = read.dropBefore(8, [{ from: 4, to: 6 }]);
  assert.equal(dropped.events, 3);
  assert.equal(dropped.unknown, 2);
  assert.deepEqual(dropped.origins.get(OUTBOX)?.runs, [[14, 15]]);
  // What is left is the message at 8.
  assert.deepEqual(read.dropBefore(9, [{ from: 0, to: 9 }]).origins.get(OUTBOX)?.runs, [[20, 21]]);
});

test('awaited events - awaited until the rule read with since has seen every origin again; the rule that read them first settles nothing', () => {
  const awaited = new AwaitedEvents();
  const before = rule({ [OUTBOX]: [[0, 30]] });
  awaited.add(0, 4, [{ from: 4, to: 6 }], { origins: new Map([[OUTBOX, OriginSet.of([[14, 17]])]]), events: 3, unknown: 0 }, before);
  awaited.add(1, 4, [], { origins: new Map(), events: 0, unknown: 0 }, before);
  assert.deepEqual(awaited.list(), [{ partition: 0, version: 4, stretches: [{ from: 4, to: 6 }], events: 3 }], 'a partition with nothing read there awaits nothing');
  assert.equal(awaited.settle(0, before), false, 'the rule that read them has seen them already');
  assert.equal(awaited.settle(0, rule({ [OUTBOX]: [[0, 10]] })), false);
  assert.equal(awaited.settle(0, rule({ [OUTBOX]: [[0, 15]] })), true);
  assert.equal(awaited.list()[0]!.events, 2);
  assert.equal(awaited.settle(0, rule({ [OUTBOX]: [[0, 20]] })), true);
  assert.equal(awaited.size, 0);
});

test('awaited events - events without an origin stay awaited: nothing can publish them again', () => {
  const awaited = new AwaitedEvents();
  awaited.add(2, 7, [{ from: 9, to: 10 }], { origins: new Map(), events: 2, unknown: 2 }, null);
  assert.equal(awaited.settle(2, rule({})), false);
  assert.deepEqual(awaited.list().map((a) => [a.partition, a.events]), [[2, 2]]);
});

test('awaited events - status names the partition, and says why answers lack events, until they are seen again', () => {
  const told: string[] = [];
  const damage = new DamageReport({ info: (_o: unknown, m?: string) => void told.push(m ?? ''), warn: (_o: unknown, m?: string) => void told.push(m ?? ''), error() {} });
  const awaited = new AwaitedEvents();
  awaited.add(1, 5, [{ from: 3, to: 4 }], { origins: new Map([[OUTBOX, OriginSet.of([[0, 2]])]]), events: 2, unknown: 0 }, null);
  damage.awaiting(awaited.list());
  const status = damage.status()!;
  assert.deepEqual(status.partitions, [1]);
  assert.equal(status.message, 'Batch version 5 records sequence 3 of partition 1 as lost by NATS, where this node had read 2 events it has not seen again: its answers lack them until the node that took them publishes them again from its outbox.');
  awaited.settle(1, rule({ [OUTBOX]: [[0, 2]] }));
  damage.awaiting(awaited.list());
  assert.equal(damage.status(), null);
  assert.deepEqual(told.slice(-1), ['the cluster\'s shared state is whole again']);
});
