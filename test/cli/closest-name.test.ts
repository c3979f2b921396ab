/** "Did you mean ...?": the nearest name by edit distance, or none when nothing is near enough to be a typo. */
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { closestName, editDistance } from '../../src/cli/closest-name.ts';

const VIEWS = ['revenue_by_country', 'orders_by_hour', 'sales_total'];

test('editDistance - insertions, deletions, substitutions and neighbour swaps cost one each', () => {
  assert.equal(editDistance('', ''), 0);
  assert.equal(editDistance('abc', ''), 3);
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(editDistance('country', 'cuontry'), 1);
  assert.equal(editDistance('ab', 'ba'), 1);
  assert.equal(editDistance('ca', 'abc'), 3, 'optimal string alignment: a swapped pair is not edited again');
});

test('editDistance - a metric on random names: zero only for equal, symmetric, at most the longer length', () => {
  fc.assert(fc.property(fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 }), (a, b) => {
    const d = editDistance(a, b);
    assert.equal(d === 0, a === b);
    assert.equal(d, editDistance(b, a));
    assert.ok(d <= Math.max(a.length, b.length) && d >= Math.abs(a.length - b.length));
  }), { seed: 32, numRuns: 500 });
});

test('closestName - a typo finds its view; a different word finds none', () => {
  assert.equal(closestName('revenue_by_cuontry', VIEWS), 'revenue_by_country');
  assert.equal(closestName('Revenue_By_Country', VIEWS), 'revenue_by_country', 'case is ignored');
  assert.equal(closestName('orders_by_hours', VIEWS), 'orders_by_hour');
  assert.equal(closestName('sales', VIEWS), undefined);
  assert.equal(closestName('pizza', VIEWS), undefined);
  assert.equal(closestName('x', []), undefined);
  assert.equal(closestName('ab', ['ac', 'ad']), 'ac', 'ties go to the first');
});
