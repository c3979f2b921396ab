/** The one sentence `tandem query` prints for a view the server does not have. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NoSuchViewError } from '../../src/cli/unknown-view.ts';

test('NoSuchViewError - the views, the nearest one when near enough, and a long list cut short', () => {
  assert.equal(new NoSuchViewError('revenue_by_cuntry', ['orders_by_hour', 'revenue_by_country']).message,
    "There is no view 'revenue_by_cuntry' (did you mean 'revenue_by_country'?); the views are orders_by_hour and revenue_by_country.");
  assert.equal(new NoSuchViewError('pizza', ['a_view']).message, "There is no view 'pizza'; the views are a_view.");
  assert.equal(new NoSuchViewError('pizza', ['a', 'b', 'c']).message, "There is no view 'pizza'; the views are a, b and c.");
  assert.equal(new NoSuchViewError('pizza', []).message, "There is no view 'pizza', and the server defines no views yet.");
  const many = Array.from({ length: 25 }, (_, i) => `view_${i}`);
  const error = new NoSuchViewError('view_99', many);
  assert.equal(error.suggestion, 'view_9');
  assert.match(error.message, /the views are view_0, view_1, .*, view_19 and 5 more \(tandem view list shows them all\)\.$/);
  assert.equal(error.code, 'unknown_view');
});
