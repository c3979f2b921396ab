/**
 * Forgetting idempotency keys (issue #31, erasure): a set without some keys
 * holds exactly the others, in their order, whatever the keys (two-byte
 * characters included); a windowed type forgets a key at once, and a later
 * event of the window still evicts what it should.
 */
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IdempotencyIndex } from '../../src/log/idempotency-index.ts';
import { KeySet } from '../../src/log/key-set.ts';

test('key set: without(keys) holds exactly the other keys, and reads back from its stored bytes', () => {
  fc.assert(fc.property(fc.uniqueArray(fc.string({ unit: 'binary', maxLength: 12 }), { maxLength: 300 }), fc.array(fc.nat(), { maxLength: 40 }), (keys, picks) => {
    const set = new KeySet(4, 16);
    for (const key of keys) set.add(key);
    const gone = new Set([...picks.map((p) => keys[p % Math.max(1, keys.length)]).filter((k) => k !== undefined), 'not-a-key']);
    const kept = set.without(gone);
    assert.equal(kept.size, keys.filter((k) => !gone.has(k)).length);
    for (const key of keys) assert.equal(kept.has(key), !gone.has(key));
    const reread = KeySet.fromStored(Buffer.from(kept.stored(0, kept.storedBytes)));
    for (const key of keys) assert.equal(reread.has(key), !gone.has(key));
  }));
});

test('idempotency index: forget takes keys out of a whole set and of a window', () => {
  const index = new IdempotencyIndex(new Map([['windowed', 3]]));
  for (const key of ['a', 'b', 'c']) {
    index.add('whole', key);
    index.add('windowed', key);
  }
  index.forget('whole', ['b']);
  index.forget('windowed', ['b']);
  assert.deepEqual(['a', 'b', 'c'].map((k) => index.has('whole', k)), [true, false, true]);
  assert.deepEqual(['a', 'b', 'c'].map((k) => index.has('windowed', k)), [true, false, true]);
  index.add('windowed', 'd');
  assert.deepEqual(['a', 'c', 'd'].map((k) => index.has('windowed', k)), [false, true, true], 'the window still moves on');
});

test('idempotency index: addAll takes a set whole, merges into one it has, and adds to a window in order', () => {
  const index = new IdempotencyIndex(new Map([['windowed', 3]]));
  const batch = (...keys: string[]) => {
    const set = new KeySet();
    for (const k of keys) set.add(k);
    return set;
  };
  const first = batch('a', 'b');
  index.addAll('whole', first);
  assert.equal(index.wholeSets().get('whole'), first, 'the first set is taken as it is');
  index.addAll('whole', batch('b', 'c'));
  assert.deepEqual(['a', 'b', 'c', 'd'].map((k) => index.has('whole', k)), [true, true, true, false]);
  assert.deepEqual([...index.wholeSets().get('whole')!.keys()], ['a', 'b', 'c']);
  index.add('windowed', 'x');
  index.addAll('windowed', batch('p', 'q', 'r'));
  assert.deepEqual(['x', 'p', 'q', 'r'].map((k) => index.has('windowed', k)), [false, true, true, true], 'the window moved on past x');
  assert.equal(index.wholeSets().has('windowed'), false);
});

test('idempotency index: addNew adds a key unless held and says which, for a whole set and a window alike', () => {
  const index = new IdempotencyIndex(new Map([['windowed', 2]]));
  for (const type of ['whole', 'windowed']) {
    assert.deepEqual(['a', 'b', 'a'].map((k) => index.addNew(type, k)), [true, true, false], type);
    assert.ok(index.has(type, 'a') && index.has(type, 'b'));
  }
  assert.equal(index.addNew('windowed', 'c'), true);
  assert.equal(index.addNew('windowed', 'a'), true, 'a fell out of the window of 2');
});
