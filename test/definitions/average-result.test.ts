/**
 * An average is the exact quotient of its exact sum and count, rounded once,
 * half away from zero, to the field's scale plus 4 decimal places; a number
 * when JSON can carry that decimal exactly, else the decimal as text.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { AVERAGE_EXTRA_DIGITS, averageResult } from '../../src/definitions/measures/avg-measure.ts';

/** The result as an integer count of 10^-(scale + 4) units, read back from the decimal JSON would print (or its text). */
function units(result: number | string, places: number): bigint {
  const shortest = String(result);
  const text = typeof result === 'number' && shortest.includes('e') ? result.toFixed(places) : shortest;
  const [whole, fraction = ''] = text.replace('-', '').split('.');
  const magnitude = BigInt(whole! + fraction.padEnd(places, '0'));
  return text.startsWith('-') ? -magnitude : magnitude;
}

test('average: the examples users checked by hand', () => {
  assert.equal(averageResult(456_969, 10, 2), 456.969);
  assert.equal(averageResult(100, 3, 2), 0.333333);
  assert.equal(averageResult(200, 3, 2), 0.666667);
  assert.equal(averageResult(-1, 8, 0), -0.125);
  assert.equal(averageResult(-1, 20_000, 0), -0.0001, 'exactly half a unit rounds away from zero');
  assert.equal(averageResult(-1, 3_000_000, 0), 0, 'rounds to zero, never -0');
  assert.equal(averageResult(5, 1, 0), 5);
  assert.equal(averageResult(2n ** 80n, 1, 2), '12089258196146291747061.76', 'past what a double holds: decimal text');
});

test('average: the result is the nearest decimal at scale + 4 places, ties away from zero, for any sum and count', () => {
  const sum = fc.oneof(fc.maxSafeInteger(), fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }));
  fc.assert(fc.property(sum, fc.integer({ min: 1, max: 1e9 }), fc.integer({ min: 0, max: 12 }), (s, count, scale) => {
    const result = averageResult(s, count, scale);
    const places = scale + AVERAGE_EXTRA_DIGITS;
    const q = units(result, places);
    // |sum·10^4 − q·count| ≤ count/2: q is the nearest; at exactly half, q is the one further from zero.
    const error = BigInt(s) * 10n ** BigInt(AVERAGE_EXTRA_DIGITS) - q * BigInt(count);
    const twice = 2n * (error < 0n ? -error : error);
    assert.ok(twice <= BigInt(count), `${s}/${count} at scale ${scale} gave ${result}`);
    if (twice === BigInt(count)) assert.ok((error < 0n) === (BigInt(s) > 0n) || error === 0n, 'a tie rounds away from zero');
  }), { seed: 20261129, numRuns: 2000 });
});
