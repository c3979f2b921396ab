/**
 * A cluster history import's per-file offsets: its rows go to several
 * partitions, row `r` of a chunk published at sequence `s` at offset
 * `s * 2^20 + r` of its partition, and the file's `[first, end)` bounds
 * every one of them, tightly.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { chunkOffsets } from '../../../src/backends/nats/internal.ts';

const STEP = 2 ** 20;

test('chunk offsets - every row of every chunk lies in [first, end), the first row of one chunk at first and the last row of one at end - 1', () => {
  const chunks = fc.array(fc.record({ seq: fc.integer({ min: 1, max: 10_000 }), rows: fc.integer({ min: 1, max: STEP }) }), { minLength: 1, maxLength: 12 });
  fc.assert(fc.property(chunks, (cs) => {
    const { first, end } = chunkOffsets(cs);
    for (const c of cs) {
      assert.ok(c.seq * STEP >= first, `chunk at ${c.seq} starts at or after first`);
      assert.ok(c.seq * STEP + c.rows <= end, `chunk at ${c.seq} ends at or before end`);
    }
    assert.ok(cs.some((c) => c.seq * STEP === first), 'first is a chunk\'s first row');
    assert.ok(cs.some((c) => c.seq * STEP + c.rows === end), 'end is past a chunk\'s last row');
  }), { seed: 20261205, numRuns: 300 });
});

test('chunk offsets - a file with no chunk (no good row) spans nothing', () => {
  assert.deepEqual(chunkOffsets([]), { first: 0, end: 0 });
});
