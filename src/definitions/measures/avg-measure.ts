import { addScaled, powerOfTen, type ScaledInt } from '../scaled-number.ts';
import { addInto, grownFloat64, mergeEach, sqlToNumber, type Measure, type StateColumn } from './measure.ts';
import { decodeScaled, encodeScaled, ScaledSumColumn, scaledFromSql } from './sum-measure.ts';

/** The state of `avg`: an exact sum and the number of values in it. */
export interface AvgState {
  sum: ScaledInt;
  count: number;
}

/** An exact sum column beside a count column. */
class AvgColumn implements StateColumn<AvgState> {
  readonly #sums = new ScaledSumColumn();
  #counts = new Float64Array(0);

  grow(capacity: number): void {
    this.#sums.grow(capacity);
    this.#counts = grownFloat64(this.#counts, capacity);
  }

  add(slot: number, value: number | null): void {
    if (value === null) return;
    this.#sums.merge(slot, value);
    this.#counts[slot]! += 1;
  }

  addMany(slots: Int32Array, count: number, values: Float64Array | undefined): void {
    this.#sums.addMany(slots, count, values);
    const counts = this.#counts;
    for (let i = 0; i < count; i++) {
      const slot = slots[i]!;
      if (slot !== -1 && !Number.isNaN(values![i]!)) counts[slot]! += 1;
    }
  }

  merge(slot: number, state: AvgState): void {
    this.#sums.merge(slot, state.sum);
    this.#counts[slot]! += state.count;
  }

  foldInto(into: AvgState, slot: number): AvgState {
    into.sum = this.#sums.foldInto(into.sum, slot);
    into.count += this.#counts[slot]!;
    return into;
  }

  get(slot: number): AvgState {
    return { sum: this.#sums.get(slot), count: this.#counts[slot]! };
  }

  mergeFrom(source: StateColumn<AvgState>, targets: Int32Array, count: number, slots?: Int32Array): void {
    if (!(source instanceof AvgColumn)) return mergeEach(this, source, targets, count, slots);
    this.#sums.mergeFrom(source.#sums, targets, count, slots);
    addInto(this.#counts, source.#counts, targets, count, slots);
  }
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
      state.sum = addScaled(state.sum, value as number);
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
    column: () => new AvgColumn(),
  };
}
