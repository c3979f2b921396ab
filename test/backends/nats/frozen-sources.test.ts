/**
 * A frozen part an erasure rewrites is fetched by the object the served
 * version names for its file; a file it names no object for stops the
 * cycle with a typed error naming the file, fetching nothing.
 */
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { FrozenPartUnnamedError, frozenPartFetcher } from '../../../src/backends/nats/internal.ts';
import { DirectoryBlobStore } from '../../../src/master/index.ts';
import { withTempDir } from '../../support/temp-dir.ts';

test('frozen sources - a part is fetched from the object its version names; a part it names none for throws FrozenPartUnnamedError', async () => {
  await withTempDir(async (dir) => {
    const blobs = new DirectoryBlobStore(join(dir, 'store'));
    await writeFile(join(dir, 'part'), 'frozen rows');
    await blobs.put('batch/v3-t1/usage-p0.parquet', join(dir, 'part'));
    const scratch = join(dir, 'scratch');
    const fetch = frozenPartFetcher(new Map([['usage-p0.parquet', 'batch/v3-t1/usage-p0.parquet']]), blobs, scratch);

    assert.equal(await readFile(await fetch('usage-p0.parquet'), 'utf8'), 'frozen rows');
    await assert.rejects(fetch('usage-p1.parquet'), (error: unknown) => {
      assert.ok(error instanceof FrozenPartUnnamedError);
      assert.deepEqual([error.code, error.file], ['frozen_part_unnamed', 'usage-p1.parquet']);
      assert.equal(error.message, 'The served version names no object for its frozen part usage-p1.parquet, so the erasure cannot rewrite it and this cycle publishes nothing.');
      return true;
    });
    assert.deepEqual(await readdir(scratch), ['usage-p0.parquet'], 'nothing fetched for the unnamed part');
  });
});
