import { sqlToNumber, type Measure } from './measure.ts';

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
  };
}
