/**
 * Origins: every event a node takes gets one (its outbox's id and its number
 * there), and the duplicate rule drops an event whose origin its partition
 * has seen. An outbox published again, whole or in part, any number of
 * times, at any later place in the stream, under new message ids, changes
 * nothing any consumer counts, keyed or not, and a rule resumed from a
 * snapshot remembers the origins. The outbox keeps what it is given
 * (fsynced, across a reopen) until released, and abandoned events stay
 * abandoned.
 */
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { FirstOccurrenceFilter, type LogMessage } from '../../../src/backends/nats/internal.ts';
import { HEADERS, decodeMessage, originHeader, parseOrigin } from '../../../src/backends/nats/log-message.ts';
import { NodeOutbox } from '../../../src/backends/nats/node-outbox.ts';
import { parseRecord, filterSnapshotCheck } from '../../../src/backends/nats/record-schemas.ts';
import { withTempDir } from '../../support/temp-dir.ts';
import { catalog, hits, orders, rowsOf } from './fixtures.ts';

const A = 'aaaaaaaaaaaaaaaa';
const B = 'bbbbbbbbbbbbbbbb';

/** One append as a node publishes it: `n` events of outbox `id` from origin `first`, keyed orders or unkeyed hits. */
interface Sent {
  readonly id: string;
  readonly first: number;
  readonly n: number;
  readonly keyed: boolean;
}

function message(sent: Sent, seq: number, msgId: string): LogMessage {
  const names = Array.from({ length: sent.n }, (_, i) => `${sent.id.slice(0, 1)}${sent.first + i}`);
  const events = sent.keyed ? orders(names.map((id) => ({ id: `k${id}`, copy: id }))) : hits(names);
  return { kind: 'events', partition: 0, seq, msgId, eventType: sent.keyed ? 'order' : 'hit', events, origin: { id: sent.id, first: sent.first } };
}

function counted(filter: FirstOccurrenceFilter, messages: readonly LogMessage[]): string[] {
  const kept: string[] = [];
  for (const m of messages) {
    const verdict = filter.admit(m);
    if (verdict.kind === 'admitted') kept.push(...rowsOf(verdict.admitted.eventType, verdict.admitted.events).map((r) => String(r.page ?? r.copy)));
  }
  return kept.sort();
}

const appends = (id: string) => fc.array(fc.record({ n: fc.integer({ min: 1, max: 5 }), keyed: fc.boolean() }), { minLength: 1, maxLength: 8 }).map((list) => {
  let first = 0;
  return list.map(({ n, keyed }): Sent => {
    const sent = { id, first, n, keyed };
    first += n;
    return sent;
  });
});

test('origins - an outbox published again, in part or whole, at any later place and under new ids, counts each event once, keyed or not', () => {
  fc.assert(fc.property(appends(A), appends(B), fc.array(fc.tuple(fc.nat(), fc.nat(4), fc.nat(4)), { maxLength: 12 }), fc.nat(30), (fromA, fromB, again, cut) => {
    const originals = [...fromA, ...fromB];
    const once = counted(new FirstOccurrenceFilter(catalog), originals.map((s, i) => message(s, i + 1, `w:${i}`)));
    // Copies: a slice of an append, republished later (a node publishing again what it does not know was stored).
    const copies = again.map(([pick, skip, take]) => {
      const s = originals[pick % originals.length]!;
      const start = Math.min(skip, s.n - 1);
      return { ...s, first: s.first + start, n: Math.max(1, Math.min(take + 1, s.n - start)) };
    });
    const all = [...originals, ...copies].map((s, i) => message(s, i + 1, `r:${i}`));
    assert.deepEqual(counted(new FirstOccurrenceFilter(catalog), all), once);
    // A rule resumed from a snapshot at any point (through its record's shape check) decides the rest alike.
    const split = Math.min(cut, all.length);
    const before = new FirstOccurrenceFilter(catalog);
    const keptBefore = counted(before, all.slice(0, split));
    const snapshot = parseRecord(JSON.stringify(before.snapshot()), filterSnapshotCheck, { store: 's', key: 'k', what: 'snapshot', advice: '' });
    const resumed = FirstOccurrenceFilter.resume(catalog, snapshot);
    for (const m of all.slice(0, split)) if (m.kind === 'events' && m.eventType === 'order') for (const r of rowsOf('order', m.events)) resumed.keys.add('order', String(r.id));
    assert.deepEqual([...keptBefore, ...counted(resumed, all.slice(split))].sort(), once);
  }), { seed: 20261203, numRuns: 400 });
});

test('origins - the header carries the outbox id and the first origin; anything else reads as no origin, alike on every node', () => {
  assert.equal(originHeader({ id: A, first: 42 }), `${A}:42`);
  assert.deepEqual(parseOrigin(`${A}:42`), { id: A, first: 42 });
  for (const bad of ['', `${A}:`, `${A}:-1`, `${A}:1.5`, 'zz:1', `${A}:1:2`, `${A.toUpperCase()}:1`]) assert.equal(parseOrigin(bad), undefined, bad);
  const headers = { get: (name: string) => ({ [HEADERS.format]: 'ndjson/1', [HEADERS.eventType]: 'hit', [HEADERS.count]: '1', [HEADERS.msgId]: 'm', [HEADERS.origin]: `${B}:7` } as Record<string, string>)[name] ?? '' };
  const decoded = decodeMessage(catalog, 0, 5, headers, Buffer.from('{"at":1,"page":"/","mobile":true}\n'));
  assert.equal(decoded.kind, 'events');
  assert.deepEqual(decoded.kind === 'events' ? decoded.origin : undefined, { id: B, first: 7 });
});

test('origins - the outbox keeps what it is given across a reopen, reads back any run, abandons what it is told, and lets go below a release', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'outbox');
    let outbox = await NodeOutbox.open(path, catalog, 2);
    const id = outbox.id;
    assert.match(id, /^[0-9a-f]{16}$/);
    assert.equal(await outbox.record(1, 'hit', hits(['a', 'b', 'c'])), 0);
    assert.equal(await outbox.record(1, 'order', orders([{ id: 'k1', copy: 'x' }, { id: 'k1', copy: 'y' }])), 3, 'copies of a key are kept: the outbox holds what it was given');
    assert.equal(await outbox.record(0, 'hit', hits(['z'])), 0, 'each partition numbers its own origins');
    await outbox.settle(1, 0, { ackSeq: 9 });
    await outbox.settle(1, 3, 'abandoned');
    await outbox.close();
    outbox = await NodeOutbox.open(path, catalog, 2);
    assert.equal(outbox.id, id, 'the id is kept with the data directory');
    assert.deepEqual(outbox.entries(1).map((e) => [e.eventType, e.from, e.count, e.ackSeq, e.inFlight]), [['hit', 0, 3, undefined, false], ['order', 3, 2, undefined, false]]);
    assert.deepEqual(outbox.abandoned(1).runs, [[3, 5]]);
    const read = await outbox.read(1, [[1, 4]]);
    assert.deepEqual(read.map((r) => [r.run, r.eventType, rowsOf(r.eventType, r.events).map((x) => x.page ?? x.copy)]), [[[1, 3], 'hit', ['b', 'c']], [[3, 4], 'order', ['x']]]);
    await outbox.release(1, 3);
    assert.deepEqual(outbox.entries(1).map((e) => e.from), [3]);
    assert.equal(await outbox.record(1, 'hit', hits(['d'])), 5);
    await outbox.release(1, 6);
    assert.equal(outbox.held(1), 0);
    await outbox.close();
    outbox = await NodeOutbox.open(path, catalog, 2);
    assert.deepEqual(outbox.entries(1), [], 'released events stay gone');
    assert.equal(await outbox.record(1, 'hit', hits(['e'])), 6, 'and origins go on from where they were');
    await outbox.close();
  });
});
