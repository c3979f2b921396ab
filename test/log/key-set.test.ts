/**
 * The idempotency keys' set outside the heap answers exactly as a Set of
 * the same strings, whatever they hold (characters past one byte, lone
 * surrogates, the empty string) and however far it grows.
 */
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KeySet } from '../../src/log/key-set.ts';

/** Strings of every kind: short ASCII ones that collide in a small table, Latin-1, any code units, surrogates alone. */
const key = fc.oneof(
  fc.string({ maxLength: 3 }),
  fc.string({ unit: 'grapheme-ascii', maxLength: 40 }),
  fc.string({ unit: fc.integer({ min: 0x80, max: 0xff }).map((c) => String.fromCharCode(c)), maxLength: 8 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.string({ unit: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)), maxLength: 4 }),
);

test('key set: adds and lookups answer as a Set of the same strings, from a tiny table and arena grown many times', () => {
  fc.assert(fc.property(fc.array(fc.tuple(fc.boolean(), key), { maxLength: 400 }), (ops) => {
    const set = new KeySet(2, 8);
    const reference = new Set<string>();
    for (const [add, k] of ops) {
      if (add) assert.equal(set.add(k), !reference.has(k), `add ${JSON.stringify(k)}`);
      else assert.equal(set.has(k), reference.has(k), `has ${JSON.stringify(k)}`);
      if (add) reference.add(k);
    }
    assert.equal(set.size, reference.size);
    for (const k of reference) assert.ok(set.has(k));
  }), { seed: 20261203, numRuns: 300 });
});

test('key set: strings that one encoding would make equal stay apart', () => {
  const set = new KeySet();
  // A lone surrogate and the replacement character (one UTF-8 form), é as one or two code units, and a prefix of another key.
  for (const k of ['\ud800', '\ufffd', '\u00e9', 'e\u0301', 'ab', 'abc', '', '\u0100', '\u0000']) assert.ok(set.add(k), JSON.stringify(k));
  assert.equal(set.size, 9);
  assert.ok(!set.has('\udc00'));
  assert.ok(!set.has('a'));
  assert.ok(!set.has('\u0001'));
});

test('key set: a million keys, each found, none twice', () => {
  const set = new KeySet();
  for (let i = 0; i < 1_000_000; i++) assert.ok(set.add(`ev-${i}`));
  for (let i = 0; i < 1_000_000; i += 997) assert.ok(!set.add(`ev-${i}`));
  assert.equal(set.size, 1_000_000);
  assert.ok(!set.has('ev-1000000'));
  assert.ok(set.bytes < 64 * 2 ** 20, `${set.bytes} bytes`);
});

test('key set: one rebuilt from another\'s stored bytes, whole or in prefixes, answers as that set did when it held those bytes', () => {
  fc.assert(fc.property(fc.array(key, { maxLength: 300 }), fc.array(key, { maxLength: 50 }), fc.nat(), (added, probes, cut) => {
    const set = new KeySet(2, 8);
    const prefixes: { bytes: number; keys: Set<string> }[] = [{ bytes: 0, keys: new Set() }];
    const reference = new Set<string>();
    for (const k of added) {
      set.add(k);
      reference.add(k);
      prefixes.push({ bytes: set.storedBytes, keys: new Set(reference) });
    }
    const prefix = prefixes[cut % prefixes.length]!;
    const whole = prefix === prefixes.at(-1);
    // The whole arena may come back with its table, as saved at close; a prefix rebuilds its own.
    const table = whole && cut % 2 === 0 ? new Float64Array(new Uint8Array(set.storedTable()).buffer) : undefined;
    const rebuilt = KeySet.fromStored(Buffer.from(set.stored(0, prefix.bytes)), table);
    assert.equal(rebuilt.size, prefix.keys.size);
    for (const k of [...added, ...probes]) assert.equal(rebuilt.has(k), prefix.keys.has(k), JSON.stringify(k));
    // It goes on growing like any other set.
    for (const k of probes) {
      assert.equal(rebuilt.add(k), !prefix.keys.has(k));
      prefix.keys.add(k);
    }
  }), { seed: 20261204, numRuns: 300 });
});

test('key set: stored bytes cut inside a key, or with a damaged header, are refused', () => {
  const set = new KeySet();
  for (const k of ['order-1', 'order-2', 'é\u0100']) set.add(k);
  const stored = Buffer.from(set.stored(0, set.storedBytes));
  assert.throws(() => KeySet.fromStored(stored.subarray(0, stored.length - 1)), RangeError);
  const damaged = Buffer.from(stored);
  damaged[4] = 7;
  assert.throws(() => KeySet.fromStored(damaged), /damaged at byte 0/);
});

test('key set: keys() yields every key once, in the order added, after erasures copied the set', () => {
  fc.assert(fc.property(fc.array(key, { maxLength: 200 }), fc.array(fc.nat(199), { maxLength: 20 }), (added, erasedAt) => {
    let set = new KeySet(2, 8);
    const order: string[] = [];
    for (const k of added) if (set.add(k)) order.push(k);
    const erased = new Set(erasedAt.flatMap((i) => (order[i] === undefined ? [] : [order[i]])));
    set = set.without(erased);
    assert.deepEqual([...set.keys()], order.filter((k) => !erased.has(k)));
  }));
});

test('key set: addAll of one set into another answers as the union of two Sets, keeps the order of the keys added, and adds each key once', () => {
  fc.assert(fc.property(fc.array(key, { maxLength: 200 }), fc.array(key, { maxLength: 200 }), fc.boolean(), (mine, theirs, presized) => {
    const set = new KeySet(2, 8);
    for (const k of mine) set.add(k);
    const other = presized ? KeySet.forKeys(theirs.length) : new KeySet(2, 8);
    for (const k of theirs) other.add(k);
    const before = [...set.keys()];
    const reference = new Set([...mine, ...theirs]);
    assert.equal(set.addAll(other), reference.size - new Set(mine).size);
    assert.equal(set.size, reference.size);
    for (const k of reference) assert.ok(set.has(k), `has ${JSON.stringify(k)}`);
    // Its keys are its own in their order, then the other's new ones in theirs: what a snapshot appends.
    assert.deepEqual([...set.keys()], [...before, ...[...new Set(theirs)].filter((k) => !new Set(mine).has(k))]);
    assert.equal(KeySet.fromStored(Buffer.from(set.stored(0, set.storedBytes))).size, reference.size, 'the stored bytes hold no key twice');
    assert.equal(set.addAll(other), 0, 'a second addAll adds nothing');
    assert.equal(set.addAll(set), 0);
  }), { seed: 20261205, numRuns: 300 });
});

test('key set: forKeys makes room ahead, within its cap, and the set still grows past it', () => {
  const small = KeySet.forKeys(0);
  const sized = KeySet.forKeys(100_000);
  assert.ok(sized.bytes > small.bytes + 100_000 * 16, `${sized.bytes} bytes for 100,000 keys`);
  assert.ok(KeySet.forKeys(1e12).bytes <= 2 ** 29 + 2 ** 16, 'a guess far too high is capped');
  for (let i = 0; i < 5000; i++) small.add(`k${i}`);
  assert.equal(small.size, 5000);
  assert.ok(small.has('k4999'));
});
