/**
 * `tandem erase` says what an erasure did to the frozen aggregates of views
 * keeping them (issue #31): rows dropped, or that they may still count the
 * erased events.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { frozenLines } from '../../src/cli/commands/erase.ts';

test('erase command - one line per view keeping aggregates, dropped or still counting', () => {
  assert.deepEqual(frozenLines([
    { view: 'by_customer', outcome: 'dropped', rows: 3, events: 20 },
    { view: 'largest', outcome: 'dropped', rows: 1 },
    { view: 'by_plan', outcome: 'counted' },
  ]), [
    'View by_customer: 3 frozen rows dropped (20 events beyond retention).',
    'View largest: 1 frozen row dropped.',
    "View by_plan's frozen aggregates beyond retention may still count the erased events: the fields erased by are not all its dimensions.",
  ]);
  assert.deepEqual(frozenLines([]), []);
});
