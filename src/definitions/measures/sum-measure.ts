import { addScaled, canonical, fromScaled, type ScaledInt } from '../scaled-number.ts';
import type { EncodedState, Measure, SqlScalar } from './measure.ts';

export function encodeScaled(value: ScaledInt): EncodedState {
  return typeof value === 'bigint' ? value.toString() : value;
}

export function decodeScaled(encoded: EncodedState): ScaledInt {
  return typeof encoded === 'string' ? canonical(BigInt(encoded)) : Number(encoded);
}

export function scaledFromSql(value: SqlScalar): ScaledInt {
  if (value === null) return 0;
  if (typeof value === 'bigint') return canonical(value);
  if (typeof value === 'number') return value;
  throw new TypeError(`Expected an integer sum from SQL, got ${typeof value}.`);
}

/** `sum` of a number field, exact at the field's scale. Missing values add nothing. */
export function sumMeasure(scale: number): Measure<ScaledInt> {
  return {
    type: 'sum',
    empty: () => 0,
    add: (state, value) => (value === null ? state : addScaled(state, value)),
    merge: (into, from) => addScaled(into, from),
    result: (state) => fromScaled(state, scale),
    encode: encodeScaled,
    decode: decodeScaled,
    sqlAggregates: (input) => [`sum(${input})`],
    fromSql: ([sum]) => scaledFromSql(sum ?? null),
  };
}
