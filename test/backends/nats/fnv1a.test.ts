import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { fnv1a32, fnv1a32Of, keyPartition, PartitionRouter } from '../../../src/backends/nats/internal.ts';

/** The textbook definition, over the bytes Node's encoder gives: what the hand-written one must equal. */
function reference(bytes: Uint8Array): number {
  let hash = 0x811c9dc5;
  for (const byte of bytes) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash >>> 0;
}

test('fnv1a32 - published test vectors', () => {
  assert.equal(fnv1a32(''), 0x811c9dc5);
  assert.equal(fnv1a32('a'), 0xe40c292c);
  assert.equal(fnv1a32('foobar'), 0xbf9cf968);
});

test('fnv1a32 - equals the definition over the UTF-8 bytes of any string, lone surrogates included', () => {
  fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => assert.equal(fnv1a32(s), reference(Buffer.from(s, 'utf8')))), { seed: 17, numRuns: 3000 });
  fc.assert(fc.property(fc.string({ unit: fc.integer({ min: 0xd7f0, max: 0xe010 }).map((c) => String.fromCharCode(c)) }), (s) => {
    assert.equal(fnv1a32(s), reference(Buffer.from(s, 'utf8')));
  }), { seed: 18, numRuns: 2000 });
});

test('fnv1a32Of - the parts joined by a zero byte, so a split between parts matters', () => {
  fc.assert(fc.property(fc.string(), fc.string(), (a, b) => {
    assert.equal(fnv1a32Of(a, b), reference(Buffer.concat([Buffer.from(a), Buffer.from([0]), Buffer.from(b)])));
  }), { seed: 19, numRuns: 1000 });
  assert.notEqual(fnv1a32Of('ab', 'c'), fnv1a32Of('a', 'bc'));
});

test('keyPartition - stable: these placements must never change, or stored keys would be looked for in the wrong partition', () => {
  // Pinned literals: a change here is a breaking change of every cluster's log.
  assert.deepEqual(['o-1', 'o-2', 'o-3', 'ключ', '🔑'].map((k) => keyPartition('order', k, 8)), [0, 1, 6, 1, 7]);
  assert.deepEqual([fnv1a32Of('order', 'o-1'), fnv1a32Of('order', 'ключ'), fnv1a32Of('hit', '')], [0x0be35018, 0x37d5dd11, 0x1bb8b39e]);
});

test('keyPartition - spreads keys about evenly over the partitions', () => {
  for (const partitions of [2, 3, 7, 16]) {
    const counts = new Array<number>(partitions).fill(0);
    const keys = 20_000;
    for (let i = 0; i < keys; i++) counts[keyPartition('order', `order-${i}`, partitions)]!++;
    const expected = keys / partitions;
    for (const count of counts) assert.ok(Math.abs(count - expected) < expected * 0.1, `${partitions} partitions: ${counts.join(', ')}`);
  }
});

test('PartitionRouter - keyed events by key, every copy alike; unkeyed appends go whole to the partitions in turn', () => {
  const router = new PartitionRouter(3, 1);
  const keys = ['a', 'b', 'a', 'c'];
  const routed = router.route('order', keys.length, keys);
  assert.equal(routed[0], routed[2]);
  assert.deepEqual([...routed], keys.map((k) => keyPartition('order', k, 3)));
  assert.deepEqual([0, 1, 2, 3].map(() => [...router.route('hit', 2, undefined)]), [[1, 1], [2, 2], [0, 0], [1, 1]]);
});
