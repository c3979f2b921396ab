/** Counts the CLI prints read in the right number: "1 row", never "1 rows". */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { countOf } from '../../src/cli/count-of.ts';
import { servedBatch } from '../../src/cli/format-batch.ts';

test('countOf - singular for one, plural for zero and many, digits grouped', () => {
  assert.equal(countOf(1, 'row'), '1 row');
  assert.equal(countOf(0, 'row'), '0 rows');
  assert.equal(countOf(2, 'event'), '2 events');
  assert.equal(countOf(2922, 'event'), '2,922 events');
  assert.equal(countOf(1, 'entry', 'entries'), '1 entry');
  assert.equal(countOf(3, 'entry', 'entries'), '3 entries');
});

test('servedBatch - "no batch yet" before the first batch, else the version and its cutoff', () => {
  assert.equal(servedBatch({ batchVersion: null, batchCutoff: 0 }), 'no batch yet');
  assert.equal(servedBatch({ batchVersion: 3, batchCutoff: 1200 }), 'batch v3 below offset 1200');
});
