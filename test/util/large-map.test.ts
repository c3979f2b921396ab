/** A LargeMap must answer exactly as one Map would, across as many inner maps as it needs. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { LargeMap } from '../../src/util/large-map.ts';

const op = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), key: fc.nat(30), value: fc.integer() }),
  fc.record({ kind: fc.constant('insert' as const), key: fc.nat(30), value: fc.integer() }),
  fc.record({ kind: fc.constant('delete' as const), key: fc.nat(30) }),
);

test('large map: any run of sets, inserts of absent keys and deletes reads back as one Map would, with inner maps of any size', () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 6 }), fc.array(op, { maxLength: 200 }), (perMap, ops) => {
    const large = new LargeMap<number, number>(perMap);
    const model = new Map<number, number>();
    for (const o of ops) {
      if (o.kind === 'delete') assert.equal(large.delete(o.key), model.delete(o.key));
      else if (o.kind === 'set' || !model.has(o.key)) {
        if (o.kind === 'set') large.set(o.key, o.value);
        else large.insert(o.key, o.value);
        model.set(o.key, o.value);
      }
      assert.equal(large.size, model.size);
    }
    for (let key = 0; key <= 30; key++) {
      assert.equal(large.get(key), model.get(key));
      assert.equal(large.has(key), model.has(key));
    }
  }), { seed: 1126, numRuns: 500 });
});
