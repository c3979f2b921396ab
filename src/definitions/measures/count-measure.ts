import { addCounts, addInto, grownFloat64, mergeEach, sqlToNumber, type Measure, type StateColumn } from './measure.ts';

/** Counts in a Float64Array: exact up to 2^53 events per slot. */
class CountColumn implements StateColumn<number> {
  #counts = new Float64Array(0);

  grow(capacity: number): void {
    this.#counts = grownFloat64(this.#counts, capacity);
  }

  add(slot: number): void {
    this.#counts[slot]! += 1;
  }

  addMany(slots: Int32Array, count: number): void {
    const counts = this.#counts;
    for (let i = 0; i < count; i++) {
      const slot = slots[i]!;
      if (slot !== -1) counts[slot]! += 1;
    }
  }

  merge(slot: number, state: number): void {
    this.#counts[slot]! += state;
  }

  mergeSqlColumns(slots: Int32Array, count: number, [counts]: readonly Float64Array[]): void {
    addCounts(this.#counts, slots, count, counts!);
  }

  foldInto(into: number, slot: number): number {
    return into + this.#counts[slot]!;
  }

  get(slot: number): number {
    return this.#counts[slot]!;
  }

  mergeFrom(source: StateColumn<number>, targets: Int32Array, count: number, slots?: Int32Array): void {
    if (source instanceof CountColumn) addInto(this.#counts, source.#counts, targets, count, slots);
    else mergeEach(this, source, targets, count, slots);
  }
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
    // Every row, or (a filtered count) the rows whose input is not NULL; summed back to BIGINT over the
    // first step's groups: the type count gives in one step.
    sql: (input) => ({ subKeys: [], partials: [input === '' ? 'count(*)' : `count(${input})`], states: ([n]) => [`CAST(sum(${n}) AS BIGINT)`] }),
    fromSql: ([n]) => sqlToNumber(n ?? 0, 'count'),
    column: () => new CountColumn(),
  };
}
