import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { decodeMessage, encodeMessages, EventTooLargeError, HEADERS, MESSAGE_FORMAT, type HeaderReader } from '../../../src/backends/nats/internal.ts';
import { sealBodies } from '../../../src/backends/nats/log-message.ts';
import type { ViewJson } from '../../../src/definitions/index.ts';
import { catalog, orders, orderType, rowsOf } from './fixtures.ts';

const headersOf = (entries: Record<string, string>): HeaderReader => ({ get: (name) => entries[name] ?? '' });
const headersFor = (eventType: string, count: number, msgId = 'w:0:0:0') =>
  headersOf({ [HEADERS.format]: MESSAGE_FORMAT, [HEADERS.eventType]: eventType, [HEADERS.count]: String(count), [HEADERS.msgId]: msgId });

const orderRow = fc.record({
  id: fc.string({ minLength: 1, maxLength: 12 }),
  copy: fc.string({ unit: 'binary', maxLength: 40 }),
  amount: fc.integer({ min: -1e9, max: 1e9 }),
  note: fc.option(fc.string({ unit: 'grapheme', maxLength: 30 }), { nil: null }),
});

test('log message - any events, split at any size, read back as the same rows in the same order, each message within the size', () => {
  fc.assert(fc.property(fc.array(orderRow, { maxLength: 60 }), fc.integer({ min: 300, max: 4000 }), (rows, maxBytes) => {
    const events = orders(rows);
    const indexes = rows.map((_, i) => i).filter((i) => i % 3 !== 1);
    const messages = encodeMessages('order', orderType.fields, events, indexes, maxBytes);
    assert.deepEqual(messages.flatMap((m) => m.indexes), indexes);
    const back = messages.flatMap((m, n) => {
      assert.ok(m.payload.length <= maxBytes);
      const decoded = decodeMessage(catalog, 2, n + 1, headersFor('order', m.indexes.length), m.payload);
      assert.equal(decoded.kind, 'events');
      return decoded.kind === 'events' ? rowsOf('order', decoded.events) : [];
    });
    assert.deepEqual(back, rowsOf('order', events).filter((_, i) => indexes.includes(i)));
  }), { seed: 3, numRuns: 300 });
});

test('log message - an event larger than a message refuses the append whole', () => {
  const events = orders([{ id: 'a', copy: 'x' }, { id: 'b', copy: 'y'.repeat(2000) }]);
  assert.throws(() => encodeMessages('order', orderType.fields, events, [0, 1], 1000), (error: unknown) => {
    assert.ok(error instanceof EventTooLargeError);
    assert.equal(error.index, 1);
    assert.match(error.message, /^Event 1 of type 'order' takes \d+ bytes encoded, more than the 1000 a log message may carry, so nothing of this append was stored\.$/);
    return true;
  });
});

test('log message - what cannot be read is skipped with a reason, the same way everywhere', () => {
  const payload = encodeMessages('order', orderType.fields, orders([{ id: 'a', copy: '1' }]), [0], 1 << 20)[0]!.payload;
  const reason = (headers: HeaderReader | undefined, data: Uint8Array) => {
    const m = decodeMessage(catalog, 0, 7, headers, data);
    return m.kind === 'skipped' ? m.reason : 'read';
  };
  assert.equal(reason(headersFor('order', 1), payload), 'read');
  assert.equal(reason(undefined, payload), "format '' is not ndjson/1");
  assert.equal(reason(headersFor('refund', 1), payload), "event type 'refund' is not in the config");
  assert.equal(reason(headersFor('order', 2), payload), '1 events where the header says 2');
  assert.equal(reason(headersFor('order', 1), Buffer.from('{"id":')), 'the payload does not end in a newline');
  assert.equal(reason(headersFor('order', 1), Buffer.from('{"id":\n')), 'line 1 is not JSON');
  assert.equal(reason(headersFor('order', 1), Buffer.from('[1]\n')), 'line 1 is not an object');
});

test('seal bodies - keys too many for one message are split over bodies in order, each within the size, the definitions in the first', () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 3_000 }), fc.integer({ min: 0, max: 400 }), fc.integer({ min: 600, max: 8_000 }), (orderKeys, otherKeys, maxBytes) => {
    const hash = (i: number) => i.toString(16).padStart(16, '0');
    const forget = { order: Array.from({ length: orderKeys }, (_, i) => hash(i)), 'page-view': Array.from({ length: otherKeys }, (_, i) => hash(1e6 + i)) };
    const include = [{ name: 'orders_by_day', eventType: 'order', dimensions: [], granularity: 'day', measures: { n: { type: 'count' } } }] as unknown as ViewJson[];
    const bodies = sealBodies(include, forget, maxBytes);
    const read = bodies.map((b) => JSON.parse(Buffer.from(b).toString('utf8')) as { include: unknown[]; forget?: Record<string, string[]> });
    assert.ok(bodies.every((b) => b.byteLength <= maxBytes), 'every body fits');
    assert.deepEqual(read[0]!.include, include);
    assert.ok(read.slice(1).every((r) => r.include.length === 0), 'the definitions go once');
    for (const type of Object.keys(forget) as (keyof typeof forget)[]) {
      assert.deepEqual(read.flatMap((r) => r.forget?.[type] ?? []), forget[type], `${type}: every hash, once, in order`);
    }
  }), { numRuns: 50 });
});
