/** The slot index is a hand-written hash table: it must number pairs exactly as a Map of composite keys would, through every rehash. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { SlotIndex } from '../../src/definitions/slot-index.ts';

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
