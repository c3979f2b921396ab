/**
 * What `tandem ingest --history` prints of the rows it refused: the first
 * few per file with the live rules' sentence, and how many more.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rejectionLines } from '../../src/cli/format-history.ts';

test('format history: rejection lines name each file\'s first refused rows and count the rest', () => {
  const lines = rejectionLines([
    { file: '/data/2023.parquet', rejected: 12, firstRejections: [{ row: 4, error: "Field 'qty' must be a number." }, { row: 1200, error: "Field 'at' is required." }] },
    { file: 'clean.csv', rejected: 0, firstRejections: [] },
    { file: 'b.csv', rejected: 1, firstRejections: [{ row: 2, error: "Field 'id' must not be null." }] },
  ]);
  assert.deepEqual(lines, [
    "  2023.parquet row 4: Field 'qty' must be a number.",
    "  2023.parquet row 1,200: Field 'at' is required.",
    '  … and 10 more in 2023.parquet.',
    "  b.csv row 2: Field 'id' must not be null.",
  ]);
});
