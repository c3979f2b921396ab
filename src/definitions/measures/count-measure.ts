import { grownFloat64, sqlToNumber, type Measure, type StateColumn } from './measure.ts';

/** Counts in a Float64Array: exact up to 2^53 events per slot. */
function countColumn(): StateColumn<number> {
  let counts = new Float64Array(0);
  return {
    grow(capacity) {
      counts = grownFloat64(counts, capacity);
    },
    add(slot) {
      counts[slot]! += 1;
    },
    addMany(slots, count) {
      for (let i = 0; i < count; i++) {
        const slot = slots[i]!;
        if (slot !== -1) counts[slot]! += 1;
      }
    },
    merge(slot, state) {
      counts[slot]! += state;
    },
    foldInto: (into, slot) => into + counts[slot]!,
    get: (slot) => counts[slot]!,
  };
}

/** `count`: the number of events in the group. */
export function countMeasure(): Measure<number> {
  return {
    type: 'count',
    empty: () => 0,
    add: (state) => state + 1,
    merge: (into, from) => into + from,
    result: (state) => state,
    encode: (state) => state,
    decode: (encoded) => Number(encoded),
    sqlAggregates: () => ['count(*)'],
    fromSql: ([n]) => sqlToNumber(n ?? 0, 'count'),
    column: countColumn,
  };
}
