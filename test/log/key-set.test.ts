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
