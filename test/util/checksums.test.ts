/**
 * A file's SHA-256 is that of its bytes whatever its size against the
 * reads it is made of: empty, smaller than one read, one read exactly and
 * one byte past it.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileSha256 } from '../../src/util/checksums.ts';
import { withTempDir } from '../support/temp-dir.ts';

test('checksums: fileSha256 is the SHA-256 of the whole file, across read boundaries', async () => {
  await withTempDir(async (dir) => {
    for (const size of [0, 1, 65_537, 4 << 20, (4 << 20) + 1, (9 << 20) + 3]) {
      const bytes = randomBytes(size);
      const path = join(dir, `f${size}`);
      await writeFile(path, bytes);
      assert.equal(await fileSha256(path), createHash('sha256').update(bytes).digest('hex'), `${size} bytes`);
    }
  });
});
