/**
 * The set of origin sequences a partition has seen, as runs: against a plain
 * set of numbers, whatever the order runs are added in.
 */
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OriginSet } from '../../../src/backends/nats/origin-set.ts';

const run = fc.tuple(fc.nat(60), fc.nat(12)).map(([from, n]) => [from, from + n] as const);

test('origin set - runs added in any order answer covers, missingFrom and prefix as a plain set does', () => {
  fc.assert(fc.property(fc.array(run, { maxLength: 25 }), fc.array(run, { minLength: 1, maxLength: 10 }), (added, asked) => {
    const set = new OriginSet();
    const plain = new Set<number>();
    for (const [from, to] of added) {
      set.add(from, to);
      for (let x = from; x < to; x++) plain.add(x);
    }
    const runs = set.runs;
    for (let i = 1; i < runs.length; i++) assert.ok(runs[i - 1]![1] < runs[i]![0], 'runs stay sorted, apart and merged');
    assert.deepEqual(OriginSet.of(runs).runs, runs);
    let prefix = 0;
    while (plain.has(prefix)) prefix++;
    assert.equal(set.prefix, prefix);
    for (const [from, to] of asked) {
      const wanted: number[] = [];
      for (let x = from; x < to; x++) if (!plain.has(x)) wanted.push(x);
      assert.equal(set.covers(from, to), wanted.length === 0);
      assert.deepEqual(set.missingFrom(from, to).flatMap(([a, b]) => Array.from({ length: b - a }, (_, i) => a + i)), wanted);
    }
  }), { seed: 20261202, numRuns: 1_000 });
});
