/**
 * A backfill's chunks (`backfillChunks`): consecutive segments, in offset
 * order, at most MAX_BACKFILL_PARTS of them, covering every segment exactly
 * once, so that the parts' offset ranges tile `[first base, last end)`.
 */
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backfillChunks, MAX_BACKFILL_PARTS } from '../../src/batch/index.ts';

const segments = fc.array(fc.record({ length: fc.integer({ min: 1, max: 1_000 }), events: fc.nat(5_000), hasFile: fc.boolean() }), { maxLength: 40 }).map((list) => {
  let base = 0;
  return list.map((s, i) => {
    const segment = { base, end: base + s.length, file: s.hasFile ? `f${i}.parquet` : null, events: s.hasFile ? s.events : 0 };
    base = segment.end;
    return segment;
  });
});

test('backfill chunks - consecutive, at most four, every segment and file once, events summed', () => {
  fc.assert(fc.property(segments, (list) => {
    const chunks = backfillChunks(list);
    assert.ok(chunks.length <= MAX_BACKFILL_PARTS);
    if (list.length === 0) return assert.deepEqual(chunks, []);
    assert.equal(chunks[0]!.from, list[0]!.base);
    assert.equal(chunks.at(-1)!.to, list.at(-1)!.end);
    for (let i = 1; i < chunks.length; i++) assert.equal(chunks[i]!.from, chunks[i - 1]!.to, 'the chunks tile the range');
    assert.deepEqual(chunks.flatMap((c) => c.files), list.flatMap((s) => (s.file === null ? [] : [s.file])));
    assert.equal(chunks.reduce((n, c) => n + c.events, 0), list.reduce((n, s) => n + s.events, 0));
  }), { numRuns: 300 });
});
