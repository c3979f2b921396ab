import type { Field } from '../field.ts';
import { fromScaled } from '../scaled-number.ts';
import { sqlToNumber, type Measure, type MeasureValue } from './measure.ts';

type Extreme = 'min' | 'max';

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
    add: pick,
    merge: pick,
    result,
    encode: (state) => state,
    decode: (encoded) => (encoded === null ? null : Number(encoded)),
    sqlAggregates: (input) => [`${type}(${input})`],
    fromSql: ([value]) => (value === null || value === undefined ? null : sqlToNumber(value, type)),
  };
}
