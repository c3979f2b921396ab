import { addScaled, powerOfTen, type ScaledInt } from '../scaled-number.ts';
import { grownFloat64, sqlToNumber, type Measure, type StateColumn } from './measure.ts';
import { decodeScaled, encodeScaled, ScaledSumColumn, scaledFromSql } from './sum-measure.ts';

/** The state of `avg`: an exact sum and the number of values in it. */
export interface AvgState {
  sum: ScaledInt;
  count: number;
}

/** An exact sum column beside a count column. */
function avgColumn(): StateColumn<AvgState> {
  const sums = new ScaledSumColumn();
  let counts = new Float64Array(0);
  return {
    grow(capacity) {
      sums.grow(capacity);
      counts = grownFloat64(counts, capacity);
    },
    add(slot, value) {
      if (value === null) return;
      sums.merge(slot, value);
      counts[slot]! += 1;
    },
    addMany(slots, count, values) {
      sums.addMany(slots, count, values);
      for (let i = 0; i < count; i++) {
        const slot = slots[i]!;
        if (slot !== -1 && !Number.isNaN(values![i]!)) counts[slot]! += 1;
      }
    },
    merge(slot, state) {
      sums.merge(slot, state.sum);
      counts[slot]! += state.count;
    },
    foldInto(into, slot) {
      into.sum = sums.foldInto(into.sum, slot);
      into.count += counts[slot]!;
      return into;
    },
    get: (slot) => ({ sum: sums.get(slot), count: counts[slot]! }),
  };
}

/**
 * `avg` of a number field. The state keeps the exact sum and the count, and the
 * division happens only in `result`, so both layers give the same double.
 */
export function avgMeasure(scale: number): Measure<AvgState> {
  const p = powerOfTen(scale);
  return {
    type: 'avg',
    empty: () => ({ sum: 0, count: 0 }),
    add(state, value) {
      if (value === null) return state;
      state.sum = addScaled(state.sum, value);
      state.count += 1;
      return state;
    },
    merge(into, from) {
      into.sum = addScaled(into.sum, from.sum);
      into.count += from.count;
      return into;
    },
    result: (state) => (state.count === 0 ? null : Number(state.sum) / p / state.count),
    encode: (state) => [encodeScaled(state.sum), state.count],
    decode(encoded) {
      const [sum, count] = encoded as readonly [string | number, number];
      return { sum: decodeScaled(sum), count: Number(count) };
    },
    sqlAggregates: (input) => [`sum(${input})`, `count(${input})`],
    fromSql: ([sum, count]) => ({ sum: scaledFromSql(sum ?? null), count: sqlToNumber(count ?? 0, 'avg count') }),
    column: avgColumn,
  };
}
