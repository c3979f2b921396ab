/** The slot index is a hand-written hash table: it must number pairs exactly as a Map of composite keys would, through every rehash. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { SlotIndex } from '../../src/aggregates/slot-index.ts';

// Buckets are epoch milliseconds: integers past 2^32, whose high bits the hash must not lose.
const bucket = fc.oneof(fc.integer({ min: 0, max: 50 }).map((h) => Date.UTC(2024, 0, 1) + h * 3_600_000), fc.maxSafeNat(), fc.constantFrom(0, 2 ** 32, 2 ** 32 + 1));
const pair = fc.tuple(fc.nat(40), bucket);

test('slot index: pairs get slots in first-seen order, found again after any number of rehashes, with or without reserve', () => {
  fc.assert(fc.property(fc.array(pair, { maxLength: 400 }), fc.nat(300), (pairs, reserved) => {
    const index = new SlotIndex();
    if (reserved > 0) index.reserve(reserved);
    const model = new Map<string, number>();
    for (const [series, b] of pairs) {
      const key = `${series}/${b}`;
      const expected = model.get(key) ?? model.size;
      model.set(key, expected);
      assert.equal(index.intern(series, b), expected);
    }
    assert.equal(index.size, model.size);
    for (const [series, b] of pairs) {
      const slot = index.find(series, b);
      assert.equal(slot, model.get(`${series}/${b}`));
      assert.equal(index.seriesAt(slot), series);
      assert.equal(index.bucketAt(slot), b);
    }
    assert.equal(index.find(41, 0), -1, 'a series never seen');
  }), { seed: 1125, numRuns: 300 });
});

test('slot index: pairs appended in bulk get slots in order and are found once indexed, beside pairs interned one by one', () => {
  fc.assert(fc.property(fc.uniqueArray(pair, { selector: ([s, b]) => `${s}/${b}`, maxLength: 400 }), fc.nat(400), fc.nat(300), (pairs, split, reserved) => {
    const index = new SlotIndex();
    if (reserved > 0) index.reserve(reserved);
    const interned = pairs.slice(0, Math.min(split, pairs.length));
    interned.forEach(([series, b], i) => assert.equal(index.intern(series, b), i));
    const first = index.size;
    pairs.slice(interned.length).forEach(([series, b], i) => assert.equal(index.append(series, b), first + i));
    assert.equal(index.indexAppended(first), -1);
    assert.equal(index.size, pairs.length);
    pairs.forEach(([series, b], slot) => {
      assert.equal(index.find(series, b), slot);
      assert.equal(index.intern(series, b), slot, 'interning a pair already held');
    });
    assert.equal(index.find(41, 0), -1, 'a series never seen');
  }), { seed: 1126, numRuns: 300 });
});

test('slot index: a bulk load that repeats a pair, or repeats one already interned, is reported', () => {
  const index = new SlotIndex();
  index.intern(1, 10);
  index.append(2, 20);
  index.append(1, 10);
  assert.equal(index.indexAppended(1), 2);
  const again = new SlotIndex();
  again.append(3, 30);
  again.append(3, 30);
  assert.notEqual(again.indexAppended(0), -1);
});
