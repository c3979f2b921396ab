/**
 * The keys the types give a `quantiles` measure (`QuantileName`) are the
 * names the engine answers under (`quantileName`): the table below is
 * checked against the type when type-checked, and against the engine when
 * run.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { quantileName } from '../../src/definitions/index.ts';
import { DEFAULT_QUANTILES } from '../../src/definitions/measures/quantile-sketch.ts';
import type { QuantileName, QuantileValuesOf } from '../../src/serving/index.ts';
import { assertType, type Equal } from './type-assert.ts';

const NAMES = [
  [0, 'p0'], [1, 'p100'], [0.5, 'p50'], [0.9, 'p90'], [0.99, 'p99'], [0.999, 'p99.9'], [0.9999, 'p99.99'], [0.05, 'p5'],
  [0.1, 'p10'], [0.001, 'p0.1'], [0.0001, 'p0.01'], [0.0501, 'p5.01'], [0.25, 'p25'], [0.75, 'p75'], [0.123456789012, 'p12.3456789012'],
] as const;

type Row = (typeof NAMES)[number];
assertType<Equal<{ [Q in Row[0]]: QuantileName<Q> }, { [Q in Row[0]]: Extract<Row, readonly [Q, string]>[1] }>>();
// Names the types cannot work out (exponent forms, more than 12 digits, a plain number) are any `p…` key.
assertType<Equal<QuantileName<1e-7 | 0.1234567890123 | number>, `p${string}`>>();
// A definition without quantiles answers the default ones.
assertType<Equal<keyof QuantileValuesOf<{ type: 'quantiles'; field: 'ms' }>, QuantileName<(typeof DEFAULT_QUANTILES)[number]>>>();

test('typings - QuantileName names each quantile as quantileName does', () => {
  for (const [q, name] of NAMES) assert.equal(quantileName(q), name, String(q));
});

test('typings - the default quantiles of the types are the engine\'s', () => {
  const typed: readonly QuantileName<(typeof DEFAULT_QUANTILES)[number]>[] = ['p50', 'p90', 'p99'];
  assert.deepEqual(DEFAULT_QUANTILES.map(quantileName), typed);
});
