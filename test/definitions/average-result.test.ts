/**
 * An average is the exact quotient of its exact sum and count, rounded once,
 * half away from zero, to the places PostgreSQL's numeric division gives (at
 * least 16 significant digits, never fewer places than the field's scale);
 * a number when JSON can carry that decimal exactly, else the decimal as
 * text. Checked against an independent reference, against the rounding
 * rule itself, and against a real PostgreSQL.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { QueryResult } from 'pg';
import { averagePlaces, averageResult } from '../../src/definitions/measures/avg-measure.ts';
import { roundedAverage } from '../support/reference.ts';
import { connectPostgres } from '../support/postgres.ts';

const sum = fc.oneof(fc.maxSafeInteger(), fc.bigInt({ min: -(2n ** 90n), max: 2n ** 90n }), fc.integer({ min: -1000, max: 1000 }));
const count = fc.oneof(fc.integer({ min: 1, max: 1e9 }), fc.integer({ min: 1, max: 20 }));
const scale = fc.integer({ min: 0, max: 12 });

/** The result's decimal text and its value in units of 10^-places. */
function units(result: number | string, places: number): bigint {
  const shortest = String(result);
  const text = typeof result === 'number' && shortest.includes('e') ? result.toFixed(places) : shortest;
  const [whole, fraction = ''] = text.replace('-', '').split('.');
  assert.ok(fraction.length <= places, `${text} has more than ${places} places`);
  const magnitude = BigInt(whole! + fraction.padEnd(places, '0'));
  return text.startsWith('-') ? -magnitude : magnitude;
}

/** The decimal an answer stands for, in fixed notation. */
function asText(s: number | bigint, n: number, sc: number): string {
  const result = averageResult(s, n, sc);
  if (typeof result === 'string' || !String(result).includes('e')) return String(result);
  return result.toFixed(averagePlaces(BigInt(s), BigInt(n), sc)).replace(/\.?0+$/, '');
}

test('average: the examples users checked by hand', () => {
  assert.equal(averageResult(456_969, 10, 2), 456.969);
  assert.equal(averageResult(100, 3, 2), '0.33333333333333333333', 'as PostgreSQL: 1.00 / 3');
  assert.equal(averageResult(200, 3, 2), '0.66666666666666666667');
  assert.equal(averageResult(-1, 8, 0), -0.125);
  assert.equal(averageResult(5, 1, 0), 5);
  assert.equal(averageResult(-5, 2, 0), -2.5);
  assert.equal(averageResult(2n ** 80n, 1, 2), '12089258196146291747061.76', 'past what a double holds: decimal text');
  assert.equal(averageResult(1, 3, 0), '0.33333333333333333333');
  assert.equal(averageResult(10, 3, 0), '3.3333333333333333');
  assert.equal(averageResult(-1, 2 * 10 ** 16, 0), '-0.00000000000000005', 'exactly half a unit rounds away from zero, far below one');
});

test('average: equals the independent reference for any sum, count and scale', () => {
  fc.assert(fc.property(sum, count, scale, (s, n, sc) => {
    assert.deepEqual(averageResult(s, n, sc), roundedAverage(BigInt(s), n, sc), `${s}/${n} at scale ${sc}`);
  }), { seed: 20261202, numRuns: 3000 });
});

test('average: the nearest decimal at its places, ties away from zero, with 16 significant digits and at least the field\'s scale', () => {
  fc.assert(fc.property(sum, count, scale, (s, n, sc) => {
    const places = averagePlaces(BigInt(s), BigInt(n), sc);
    assert.ok(places >= sc);
    const q = units(averageResult(s, n, sc), places);
    // |sum·10^(places−scale) − q·count| ≤ count/2: q is the nearest; at exactly half, q is the one further from zero.
    const numerator = BigInt(s) * 10n ** BigInt(places - sc);
    const error = numerator - q * BigInt(n);
    const twice = 2n * (error < 0n ? -error : error);
    assert.ok(twice <= BigInt(n), `${s}/${n} at scale ${sc}`);
    if (twice === BigInt(n)) assert.ok((error < 0n) === (numerator > 0n), 'a tie rounds away from zero');
    // 16 significant digits: a nonzero quotient is at least 10^15 units of 10^-places.
    const magnitude = numerator < 0n ? -numerator : numerator;
    if (magnitude !== 0n) assert.ok(magnitude / BigInt(n) >= 10n ** 15n, `${s}/${n} at scale ${sc} has fewer than 16 significant digits at ${places} places`);
  }), { seed: 20261203, numRuns: 3000 });
});

test('average: digit for digit what PostgreSQL answers for the same sum and count, and for avg over a numeric column', async (t) => {
  const pg = await connectPostgres(t);
  if (pg === undefined) return;
  try {
    const cases = fc.sample(fc.tuple(sum, count, scale), { seed: 20261204, numRuns: 2000 });
    const decimal = (value: bigint, places: number) => {
      const digits = (value < 0n ? -value : value).toString().padStart(places + 1, '0');
      return `${value < 0n ? '-' : ''}${digits.slice(0, digits.length - places)}${places > 0 ? `.${digits.slice(-places)}` : ''}`;
    };
    // Typed with the field's scale, the sum has PostgreSQL's display scale of a sum over a numeric(p, scale) column.
    const { rows } = await pg.query<{ q: string }>(
      'SELECT (s::numeric / n::numeric)::text AS q FROM unnest($1::text[], $2::bigint[]) WITH ORDINALITY AS c(s, n, i) ORDER BY i',
      [cases.map(([s, , sc]) => decimal(BigInt(s), sc)), cases.map(([, n]) => n)],
    );
    const trim = (text: string) => (text.includes('.') ? text.replace(/\.?0+$/, '') : text).replace(/^-0$/, '0');
    cases.forEach(([s, n, sc], i) => assert.equal(asText(s, n, sc), trim(rows[i]!.q), `${s}/${n} at scale ${sc}`));
    // avg itself: a column of values at the field's scale.
    const columns = fc.sample(fc.tuple(scale, fc.array(fc.integer({ min: -1e9, max: 1e9 }), { minLength: 1, maxLength: 30 })), { seed: 20261205, numRuns: 200 });
    for (const [sc, values] of columns) {
      const answer: QueryResult<{ a: string }> = await pg.query(`SELECT avg(v::numeric(40, ${sc}))::text AS a FROM unnest($1::text[]) AS v`, [values.map((v) => decimal(BigInt(v), sc))]);
      const total = values.reduce((a, b) => a + BigInt(b), 0n);
      assert.equal(asText(total, values.length, sc), trim(answer.rows[0]!.a), `avg of ${values.length} values at scale ${sc}`);
    }
  } finally {
    await pg.end();
  }
});
