/**
 * One suite for every BlobStore: the local directory and the JetStream
 * Object Store must behave alike, byte for byte. Sizes straddle the object
 * store's 128 KiB chunks; names are generated; every read is checked against
 * the bytes written and their SHA-256.
 */
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { BlobMissingError, type BlobStore } from '../../src/master/index.ts';
import { makeTempDir } from './temp-dir.ts';

const CHUNK = 128 * 1024;
const SIZES = [0, 1, 1000, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 17];

const part = fc.stringMatching(/^[a-z0-9_-]{1,12}$/);
const name = fc.tuple(fc.constantFrom('order', 'hit', 'batch/v1'), part).map(([dir, file]) => `${dir}/${file}.parquet`);

function bytesOf(size: number, seed: number): Buffer {
  const bytes = Buffer.alloc(size);
  let x = seed * 2654435761 >>> 0;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    bytes[i] = x >>> 24;
  }
  return bytes;
}

/** Registers the suite; `open` gives a fresh, empty store for each test. */
export function blobStoreConformance(label: string, open: () => Promise<BlobStore>): void {
  test(`${label} - what is put is read back byte for byte, with its size and SHA-256, at every size around a chunk`, async () => {
    const store = await open();
    const temp = await makeTempDir('tandem-blobs-');
    try {
      for (const [i, size] of SIZES.entries()) {
        const bytes = bytesOf(size, i);
        const source = join(temp.dir, `in-${i}`);
        await writeFile(source, bytes);
        const sha256 = createHash('sha256').update(bytes).digest('hex');
        assert.deepEqual(await store.put(`order/${i}.parquet`, source), { name: `order/${i}.parquet`, bytes: size, sha256 });
        const target = join(temp.dir, `out-${i}`);
        assert.deepEqual(await store.get(`order/${i}.parquet`, target), { name: `order/${i}.parquet`, bytes: size, sha256 });
        assert.ok((await readFile(target)).equals(bytes), `size ${size}`);
      }
    } finally {
      await temp.remove();
    }
  });

  test(`${label} - list, replace and delete follow a model of the names (generated operations)`, async () => {
    const temp = await makeTempDir('tandem-blobs-');
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(fc.tuple(fc.constantFrom('put', 'delete'), name, fc.integer({ min: 0, max: 2000 })), { maxLength: 12 }), async (ops) => {
          const store = await open();
          const model = new Map<string, number>();
          for (const [op, blob, size] of ops) {
            if (op === 'put') {
              const source = join(temp.dir, 'src');
              await writeFile(source, bytesOf(size, size));
              await store.put(blob, source);
              model.set(blob, size);
            } else {
              await store.delete(blob);
              model.delete(blob);
            }
          }
          const listed = await store.list();
          assert.deepEqual(listed.map((b) => [b.name, b.bytes]), [...model].sort(([a], [b]) => (a < b ? -1 : 1)));
          assert.deepEqual((await store.list('hit/')).map((b) => b.name), [...model.keys()].filter((n) => n.startsWith('hit/')).sort());
          for (const [blob] of model) assert.equal((await store.info(blob))?.name, blob);
        }),
        { seed: 20261129, numRuns: 15 },
      );
    } finally {
      await temp.remove();
    }
  });

  test(`${label} - a missing blob is a typed error, and unsafe names are refused`, async () => {
    const store = await open();
    const temp = await makeTempDir('tandem-blobs-');
    try {
      await assert.rejects(store.get('order/none.parquet', join(temp.dir, 'x')), BlobMissingError);
      assert.equal(await store.info('order/none.parquet'), undefined);
      await store.delete('order/none.parquet');
      for (const bad of ['../etc/passwd', '/abs', 'a//b', 'a/./b', '']) {
        await assert.rejects(async () => store.info(bad), RangeError, bad);
      }
    } finally {
      await temp.remove();
    }
  });
}
