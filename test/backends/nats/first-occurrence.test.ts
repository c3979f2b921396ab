import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { FirstOccurrenceFilter, type LogMessage } from '../../../src/backends/nats/internal.ts';
import { compileConfig } from '../../../src/definitions/index.ts';
import { catalog, hits, orders, rowsOf } from './fixtures.ts';

type Spec = { readonly type: 'order'; readonly keys: readonly number[]; readonly id: number } | { readonly type: 'hit'; readonly count: number; readonly id: number };

const spec: fc.Arbitrary<Spec> = fc.oneof(
  fc.record({ type: fc.constant('order' as const), keys: fc.array(fc.nat(12), { minLength: 1, maxLength: 6 }), id: fc.nat(15) }),
  fc.record({ type: fc.constant('hit' as const), count: fc.integer({ min: 1, max: 4 }), id: fc.nat(15) }),
);

function messagesOf(specs: readonly Spec[]): LogMessage[] {
  return specs.map((s, n) => {
    const seq = n + 1;
    const msgId = `w:${s.id}:0:0`;
    return s.type === 'order'
      ? { kind: 'events', partition: 0, seq, msgId, eventType: 'order', events: orders(s.keys.map((k, i) => ({ id: `k${k}`, copy: `${seq}.${i}` }))) }
      : { kind: 'events', partition: 0, seq, msgId, eventType: 'hit', events: hits(Array.from({ length: s.count }, (_, i) => `${seq}.${i}`)) };
  });
}

/** The rule as plainly as it can be said: over all messages in order, drop a message whose id came before (in the window), then every key already seen. */
function model(specs: readonly Spec[], window: number): string[] {
  const kept: string[] = [];
  const ids: string[] = [];
  const keys = new Set<string>();
  specs.forEach((s, n) => {
    const seq = n + 1;
    const id = `w:${s.id}:0:0`;
    if (ids.slice(-window).includes(id)) return;
    ids.push(id);
    if (s.type === 'hit') for (let i = 0; i < s.count; i++) kept.push(`hit ${seq}.${i}`);
    else s.keys.forEach((k, i) => {
      if (keys.has(`k${k}`)) return;
      keys.add(`k${k}`);
      kept.push(`order k${k} ${seq}.${i}`);
    });
  });
  return kept;
}

function run(filter: FirstOccurrenceFilter, messages: readonly LogMessage[]): string[] {
  const kept: string[] = [];
  for (const m of messages) {
    const verdict = filter.admit(m);
    if (verdict.kind !== 'admitted') continue;
    const { eventType, events, lines, seq } = verdict.admitted;
    rowsOf(eventType, events).forEach((row, j) => {
      assert.equal(eventType === 'hit' ? row.page : row.copy, `${seq}.${lines[j]}`, 'a kept event is named by its line');
      kept.push(eventType === 'hit' ? `hit ${row.page}` : `order ${row.id} ${row.copy}`);
    });
  }
  return kept;
}

test('first occurrence - the first copy of a key wins, a repeated message id is dropped whole, and two filters fed alike agree', () => {
  fc.assert(fc.property(fc.array(spec, { maxLength: 40 }), fc.integer({ min: 1, max: 8 }), (specs, window) => {
    const messages = messagesOf(specs);
    const a = run(new FirstOccurrenceFilter(catalog, { messageIdWindow: window }), messages);
    const b = run(new FirstOccurrenceFilter(catalog, { messageIdWindow: window }), messages);
    assert.deepEqual(a, model(specs, window));
    assert.deepEqual(a, b);
  }), { seed: 5, numRuns: 500 });
});

test('first occurrence - with an idempotencyWindow, a key is forgotten N stored events of its type later, in this partition', () => {
  const windowed = compileConfig({ ...catalog.config, eventTypes: catalog.config.eventTypes.map((e) => (e.name === 'order' ? { ...e, idempotencyWindow: 2 } : e)) });
  const filter = new FirstOccurrenceFilter(windowed);
  const keysOf = (seq: number, ids: string[]) => {
    const verdict = filter.admit({ kind: 'events', partition: 0, seq, msgId: `m${seq}`, eventType: 'order', events: orders(ids.map((id) => ({ id, copy: '' }))) });
    return verdict.kind === 'admitted' ? rowsOf('order', verdict.admitted.events).map((r) => r.id) : [];
  };
  assert.deepEqual(keysOf(1, ['a', 'b', 'a']), ['a', 'b']);
  assert.deepEqual(keysOf(2, ['b', 'c']), ['c']);
  assert.deepEqual(keysOf(3, ['b', 'a']), ['a'], "'a' left the window when 'c' came; 'b' is still in it");
});

test('first occurrence - skipped messages count for nothing, and messages must come in order', () => {
  const filter = new FirstOccurrenceFilter(catalog);
  assert.deepEqual(filter.admit({ kind: 'skipped', partition: 1, seq: 3, msgId: 'x', reason: 'nope' }), { kind: 'skipped', seq: 3, reason: 'nope' });
  assert.equal(filter.admit({ kind: 'events', partition: 1, seq: 4, msgId: 'x', eventType: 'hit', events: hits(['/']) }).kind, 'admitted');
  assert.throws(() => filter.admit({ kind: 'events', partition: 1, seq: 4, msgId: 'y', eventType: 'hit', events: hits(['/']) }), /must be seen once each, in order/);
});

test('first occurrence - a filter resumed from a snapshot and the keys kept before it decides the rest exactly as one that saw every message', () => {
  fc.assert(fc.property(fc.array(spec, { maxLength: 40 }), fc.integer({ min: 1, max: 8 }), fc.nat(40), (specs, window, cut) => {
    const messages = messagesOf(specs);
    const split = Math.min(cut, messages.length);
    const whole = new FirstOccurrenceFilter(catalog, { messageIdWindow: window });
    const before = new FirstOccurrenceFilter(catalog, { messageIdWindow: window });
    const keptBefore = run(before, messages.slice(0, split));
    // What the archive holds: the snapshot, and the keys of the events kept before the cut, in order.
    const resumed = FirstOccurrenceFilter.resume(catalog, before.snapshot(), { messageIdWindow: window });
    for (const kept of keptBefore) if (kept.startsWith('order ')) resumed.keys.add('order', kept.split(' ')[1]!);
    const all = run(whole, messages);
    assert.deepEqual([...keptBefore, ...run(resumed, messages.slice(split))], all);
    assert.equal(resumed.lastSeq, whole.lastSeq);
    assert.equal(resumed.digest, whole.digest, 'a resumed rule carries on the digest of one that saw every message');
  }), { seed: 11, numRuns: 500 });
});

test('first occurrence - the digest tells apart two rules that saw other messages, or the same in another order, and a seal reports the digest before it', () => {
  fc.assert(fc.property(fc.array(spec, { minLength: 2, maxLength: 30 }), fc.nat(), (specs, at) => {
    const messages = messagesOf(specs);
    const a = new FirstOccurrenceFilter(catalog);
    run(a, messages);
    // One message replaced by another with a new id, as a stream that lost a message and took another at its sequence.
    const i = at % messages.length;
    const replaced = messages.map((m, j) => (j === i ? { ...m, msgId: `${m.msgId}-other` } : m));
    const b = new FirstOccurrenceFilter(catalog);
    run(b, replaced);
    assert.notEqual(a.digest, b.digest);
    const c = new FirstOccurrenceFilter(catalog);
    run(c, messages);
    assert.equal(a.digest, c.digest);
    const before = a.digest;
    const seal = a.admit({ kind: 'seal', partition: 0, seq: messages.length + 1, msgId: 's', include: [] });
    assert.deepEqual(seal, { kind: 'seal', seq: messages.length + 1, digest: before, include: [] });
    assert.notEqual(a.digest, before);
  }), { seed: 12, numRuns: 300 });
});

test('first occurrence - a stretch skipped as lost moves the rule on, and counts in its digest', () => {
  const filter = new FirstOccurrenceFilter(catalog);
  const start = filter.digest;
  filter.skipTo(9);
  assert.equal(filter.lastSeq, 9);
  assert.notEqual(filter.digest, start);
  const after = filter.digest;
  filter.skipTo(5);
  assert.equal(filter.lastSeq, 9, 'never backwards');
  assert.equal(filter.digest, after);
  assert.throws(() => filter.admit({ kind: 'events', partition: 0, seq: 9, msgId: 'x', eventType: 'hit', events: hits(['/']) }), /in order/);
});

test('first occurrence: keys a seal forgets by hash decide later copies as a rule that never held them does (an erasure, resumed from the rewritten archive)', async () => {
  const { keyHash } = await import('../../../src/backends/nats/log-message.ts');
  fc.assert(fc.property(fc.array(fc.nat(12), { minLength: 1, maxLength: 20 }), fc.array(fc.nat(12), { maxLength: 6 }), fc.array(fc.nat(12), { maxLength: 20 }), (before, erasedKeys, afterKeys) => {
    const erased = new Set(erasedKeys.map((k) => `k${k}`));
    const order = (seq: number, keys: readonly number[]): LogMessage => ({
      kind: 'events', partition: 0, seq, msgId: `m${seq}`, eventType: 'order', events: orders(keys.map((k, i) => ({ id: `k${k}`, copy: `${seq}.${i}` }))),
    });
    const live = new FirstOccurrenceFilter(catalog);
    live.admit(order(1, before));
    const seal: LogMessage = { kind: 'seal', partition: 0, seq: 2, msgId: 's2', include: [], forget: { order: [...erased].map(keyHash) } };
    live.admit(seal);
    // Resumed past the seal: the keys of what the archive kept (the erased ones written out), the snapshot's state.
    const resumed = FirstOccurrenceFilter.resume(catalog, live.snapshot());
    for (const k of new Set(before.map((k) => `k${k}`))) if (!erased.has(k)) resumed.keys.add('order', k);
    const keptBy = (filter: FirstOccurrenceFilter) => {
      const verdict = filter.admit(order(3, afterKeys));
      return verdict.kind === 'admitted' ? verdict.admitted.lines : [];
    };
    assert.deepEqual(keptBy(live), keptBy(resumed));
    assert.equal(live.digest, resumed.digest);
  }));
});
