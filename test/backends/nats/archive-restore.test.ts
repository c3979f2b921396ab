/**
 * Putting back what the object store lost from a node's own copies: only
 * objects that are missing, only from copies whose SHA-256 is the one the
 * manifest lists, never over an object that holds other bytes; a bucket
 * that is gone is created again first, and one whose files NATS lost is
 * destroyed and created again, the next restore putting everything back. And the terms a rebuilt control
 * record starts above: the highest any version or range was named by.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { localCopyOf, restoreMissing, type RestorableBlobStore } from '../../../src/backends/nats/archive-restore.ts';
import { highestTerm, termOf } from '../../../src/backends/nats/local-versions.ts';
import { ClusterBucketBrokenError } from '../../../src/backends/nats/errors.ts';
import { DirectoryBlobStore, type BlobInfo } from '../../../src/master/index.ts';
import { fileSha256 } from '../../../src/util/checksums.ts';
import { withTempDir } from '../../support/temp-dir.ts';

class Store extends DirectoryBlobStore implements RestorableBlobStore {
  readonly name = 'object store bucket test_master';
  recreated = 0;
  renewed = 0;
  /** Writes fail as NATS 2.9's do into a bucket whose files it lost, until it is renewed. */
  broken = false;
  async recreate(): Promise<void> {
    this.recreated++;
    await mkdir(this.root, { recursive: true });
  }
  async renew(): Promise<void> {
    this.renewed++;
    this.broken = false;
    await rm(this.root, { recursive: true, force: true });
    await mkdir(this.root, { recursive: true });
  }
  override async put(name: string, file: string): Promise<BlobInfo> {
    if (this.broken) throw new ClusterBucketBrokenError('test_master', 'open …/msgs/1.blk: no such file or directory');
    return super.put(name, file);
  }
}

async function write(file: string, text: string): Promise<string> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, text);
  return fileSha256(file);
}

test('archive restore - a missing object is put back from a good local copy; a damaged copy, a copy of nothing missing, and an object with other bytes are left alone', async () => {
  await withTempDir(async (dir) => {
    const copies = { cacheDir: join(dir, 'cache'), versionsDir: join(dir, 'versions') };
    const store = new Store(join(dir, 'store'));
    const range = 'master/order/p000-1-9-t000001.parquet';
    const view = 'batch/v00000002-t000001/sales.parquet';
    const other = 'master/order/p001-1-9-t000001.parquet';
    const pieces = [
      { blob: range, sha256: await write(localCopyOf(range, copies), 'range') },
      { blob: view, sha256: await write(localCopyOf(view, copies), 'view') },
      { blob: other, sha256: await write(localCopyOf(other, copies), 'other') },
    ];
    assert.equal(localCopyOf(view, copies), join(dir, 'versions', view));
    // A local copy damaged after it was taken is not a copy of what the manifest lists.
    await writeFile(localCopyOf(other, copies), 'garbled');
    const restored = await restoreMissing(store, pieces, [
      { blob: range, problem: 'missing' }, { blob: view, problem: 'missing' }, { blob: other, problem: 'missing' },
    ], copies);
    assert.deepEqual(restored, [range, view]);
    assert.equal(await readFile(join(dir, 'store', range), 'utf8'), 'range');
    await write(join(dir, 'store', view), 'someone else\'s');
    assert.deepEqual(await restoreMissing(store, pieces, [{ blob: view, problem: 'its digest is …' }], copies), [], 'an object with other bytes is never written over');
    assert.equal(await readFile(join(dir, 'store', view), 'utf8'), 'someone else\'s');
    assert.equal(store.recreated, 0);
    assert.deepEqual(await restoreMissing(store, pieces, [{ blob: range, problem: 'the bucket test_master does not exist' }], copies), [range]);
    assert.equal(store.recreated, 1, 'a bucket that is gone is created again first');
  });
});

test('archive restore - a bucket whose files NATS lost is destroyed and created again, and the next restore puts back everything missing', async () => {
  await withTempDir(async (dir) => {
    const copies = { cacheDir: join(dir, 'cache'), versionsDir: join(dir, 'versions') };
    const store = new Store(join(dir, 'store'));
    const blobs = ['master/order/p000-1-9-t000001.parquet', 'master/order/p001-1-9-t000001.parquet'];
    const pieces = await Promise.all(blobs.map(async (blob) => ({ blob, sha256: await write(localCopyOf(blob, copies), blob) })));
    const missing = blobs.map((blob) => ({ blob, problem: 'missing' }));
    store.broken = true;
    assert.deepEqual(await restoreMissing(store, pieces, missing, copies), [], 'nothing is put back while the bucket is broken');
    assert.equal(store.renewed, 1);
    assert.deepEqual(await restoreMissing(store, pieces, missing, copies), blobs);
    for (const blob of blobs) assert.equal(await readFile(join(dir, 'store', blob), 'utf8'), blob);
  });
});

test('archive restore - a rebuilt record\'s term starts above every term a version, range or snapshot was named by', () => {
  assert.equal(termOf('batch/v00000007-t000003/manifest.json'), 3);
  assert.equal(termOf('v00000007-t000012'), 12);
  assert.equal(termOf('master/order/p000-0000000000000001-0000000000000009-t000004.parquet'), 4);
  assert.equal(termOf('master/filters/p000-0000000000000001-0000000000000009-t000005.json'), 5);
  assert.equal(termOf('master/order/plain.parquet'), undefined);
  assert.equal(highestTerm(['batch/v00000007-t000003/a', 'master/x-t000009.json', 'nothing']), 9);
  assert.equal(highestTerm([]), 0);
});
