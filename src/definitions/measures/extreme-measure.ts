import type { Field } from '../field.ts';
import { fromScaled } from '../scaled-number.ts';
import { grownFloat64, mergeEach, sqlToNumber, type Measure, type MeasureValue, type StateColumn } from './measure.ts';

type Extreme = 'min' | 'max';

/** Extremes in a Float64Array, NaN standing for "no value yet" (values are always finite). */
function extremeColumn(type: Extreme, pick: (a: number | null, b: number | null) => number | null): StateColumn<number | null> {
  let values = new Float64Array(0);
  const get = (slot: number): number | null => {
    const v = values[slot]!;
    return Number.isNaN(v) ? null : v;
  };
  const merge = (slot: number, state: number | null): void => {
    const next = pick(get(slot), state);
    if (next !== null) values[slot] = next;
  };
  return {
    grow(capacity) {
      values = grownFloat64(values, capacity, Number.NaN);
    },
    add: merge,
    addMany(slots, count, input) {
      // An empty slot holds NaN, which fails the comparison, so the first value is taken.
      for (let i = 0; i < count; i++) {
        const slot = slots[i]!;
        const value = (input as Float64Array)[i]!;
        if (slot === -1 || Number.isNaN(value)) continue;
        const held = values[slot]!;
        if (type === 'min' ? !(held <= value) : !(held >= value)) values[slot] = value;
      }
    },
    merge,
    // The SQL state is the extreme itself (null when no value came): folded in as values are.
    mergeSqlColumns(slots, count, [extremes]) {
      this.addMany(slots, count, extremes);
    },
    foldInto: (into, slot) => pick(into, get(slot)),
    get,
    mergeFrom(source, targets, count, slots) {
      mergeEach(this, source, targets, count, slots);
    },
  };
}

/** `min` or `max` of a number or timestamp field; null until a value arrives. Timestamps come back as ISO strings. */
export function extremeMeasure(type: Extreme, field: Field): Measure<number | null> {
  const better = type === 'min' ? (a: number, b: number) => a < b : (a: number, b: number) => a > b;
  const pick = (a: number | null, b: number | null): number | null =>
    a === null ? b : b === null ? a : better(b, a) ? b : a;
  const result = (state: number | null): MeasureValue => {
    if (state === null) return null;
    return field.type === 'timestamp' ? new Date(state).toISOString() : fromScaled(state, field.scale);
  };
  return {
    type,
    empty: () => null,
    add: (state, value) => pick(state, value as number | null),
    merge: pick,
    result,
    encode: (state) => state,
    decode: (encoded) => (encoded === null ? null : Number(encoded)),
    sql: (input) => ({ subKeys: [], partials: [`${type}(${input})`], states: ([value]) => [`${type}(${value})`] }),
    fromSql: ([value]) => (value === null || value === undefined ? null : sqlToNumber(value, type)),
    column: () => extremeColumn(type, pick),
  };
}
