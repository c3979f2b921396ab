import fc from 'fast-check';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MAX_TIME, MIN_TIME, type MeasureType } from '../../src/index.ts';
import { createMeasure, type Field, type Measure } from '../../src/definitions/index.ts';

const amount: Field = { name: 'amount', type: 'number', optional: true, scale: 2, maxLength: 0 };
const at: Field = { name: 'at', type: 'timestamp', optional: false, scale: 0, maxLength: 0 };

/** Values near the safe-integer limit too, so sums cross into bigint. */
const number = fc.oneof(
  fc.integer({ min: -1_000_000, max: 1_000_000 }),
  fc.constantFrom(Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER - 1),
  fc.constant(null),
);

/** Event times are validated into [1900, 9999]. */
const time = fc.oneof(fc.integer({ min: MIN_TIME, max: MAX_TIME }), fc.constant(null));

const cases: [MeasureType, Field | undefined][] = [['count', undefined], ['sum', amount], ['avg', amount], ['min', amount], ['max', amount], ['min', at], ['max', at]];

function fold(m: Measure, values: readonly (number | null)[]): unknown {
  return values.reduce((s, v) => m.add(s, v), m.empty());
}

/** merge without touching either argument: the laws are about values. */
function combine(m: Measure, a: unknown, b: unknown): unknown {
  return m.merge(m.merge(m.empty(), a), b);
}

describe('monoid laws', () => {
  for (const [type, field] of cases) {
    const m = createMeasure(type, field);
    const value = field?.type === 'timestamp' ? time : number;
    const state = fc.array(value, { maxLength: 20 }).map((vs) => fold(m, vs));
    const name = `${type}(${field?.type ?? ''})`;

    test(`monoid laws - ${name}: empty is an identity`, () => {
      fc.assert(fc.property(state, (s) => {
        assert.deepEqual(combine(m, m.empty(), s), s);
        assert.deepEqual(combine(m, s, m.empty()), s);
      }));
    });

    test(`monoid laws - ${name}: merge is associative and commutative`, () => {
      fc.assert(fc.property(state, state, state, (a, b, c) => {
        assert.deepEqual(combine(m, combine(m, a, b), c), combine(m, a, combine(m, b, c)));
        assert.deepEqual(combine(m, a, b), combine(m, b, a));
      }));
    });

    test(`monoid laws - ${name}: folding a concatenation equals merging the folds`, () => {
      fc.assert(fc.property(fc.array(value), fc.array(value), (xs, ys) => {
        assert.deepEqual(fold(m, [...xs, ...ys]), combine(m, fold(m, xs), fold(m, ys)));
      }));
    });

    test(`monoid laws - ${name}: a state column agrees with the monoid, slot by slot`, () => {
      const op = fc.record({ slot: fc.nat({ max: 7 }), merge: fc.boolean(), values: fc.array(value, { maxLength: 4 }) });
      fc.assert(fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const column = m.column();
        column.grow(4);
        const expected = Array.from({ length: 8 }, () => m.empty());
        for (const { slot, merge, values } of ops) {
          column.grow(slot + 1);
          if (merge) {
            column.merge(slot, fold(m, values));
            expected[slot] = combine(m, expected[slot], fold(m, values));
          } else {
            for (const v of values) column.add(slot, v);
            expected[slot] = values.reduce((st, v) => m.add(st, v), expected[slot]);
          }
        }
        column.grow(8);
        for (let slot = 0; slot < 8; slot++) {
          assert.deepEqual(column.get(slot), expected[slot]);
          assert.deepEqual(column.foldInto(m.empty(), slot), expected[slot]);
        }
      }));
    });

    test(`monoid laws - ${name}: merging a whole column into groups equals merging its states one by one`, () => {
      // Sources hold states near the safe-integer limit too, and groups start non-empty, so bigint sums take the exact path on either side.
      const slotStates = fc.array(state, { minLength: 1, maxLength: 30 });
      fc.assert(fc.property(slotStates, fc.array(state, { minLength: 4, maxLength: 4 }), fc.array(fc.integer({ min: -1, max: 3 }), { minLength: 30, maxLength: 30 }), (states, initial, targets) => {
        const source = m.column();
        source.grow(states.length);
        states.forEach((st, slot) => source.merge(slot, st));
        const groups = m.column();
        groups.grow(4);
        initial.forEach((st, g) => groups.merge(g, st));
        groups.mergeFrom(source, Int32Array.from(targets), states.length);
        const expected = [...initial];
        states.forEach((st, slot) => {
          const g = targets[slot]!;
          if (g !== -1) expected[g] = combine(m, expected[g], st);
        });
        for (let g = 0; g < 4; g++) assert.deepEqual(groups.get(g), expected[g]);
      }));
    });

    test(`monoid laws - ${name}: merging listed slots into groups equals merging their states one by one`, () => {
      const slotStates = fc.array(state, { minLength: 1, maxLength: 30 });
      const listing = slotStates.chain((states) => fc.tuple(
        fc.constant(states),
        fc.array(fc.tuple(fc.nat(states.length - 1), fc.integer({ min: -1, max: 3 })), { maxLength: 30 }),
      ));
      fc.assert(fc.property(listing, ([states, pairs]) => {
        const source = m.column();
        source.grow(states.length);
        states.forEach((st, slot) => source.merge(slot, st));
        const groups = m.column();
        groups.grow(4);
        groups.mergeFrom(source, Int32Array.from(pairs.map(([, g]) => g)), pairs.length, Int32Array.from(pairs.map(([slot]) => slot)));
        const expected: unknown[] = [m.empty(), m.empty(), m.empty(), m.empty()];
        for (const [slot, g] of pairs) if (g !== -1) expected[g] = combine(m, expected[g], states[slot]);
        for (let g = 0; g < 4; g++) assert.deepEqual(groups.get(g), expected[g]);
      }));
    });

    test(`monoid laws - ${name}: state survives encode and decode`, () => {
      fc.assert(fc.property(state, (s) => {
        const encoded = JSON.parse(JSON.stringify(m.encode(s)));
        assert.deepEqual(m.decode(encoded), s);
        assert.deepEqual(m.result(m.decode(encoded)), m.result(s));
      }));
    });
  }

  test('monoid laws - sum is exact past 2^53 and comes back as decimal text', () => {
    const sum = createMeasure('sum', amount);
    const s = fold(sum, [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 1]);
    assert.equal(sum.result(s), '180143985094819.83');
  });
});
