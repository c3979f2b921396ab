/**
 * The JetStream Object Store's BlobStore (R=3 on a real 3-server cluster)
 * passes the conformance suite every BlobStore must, byte for byte as the
 * local directory does; a listing of a bucket destroyed while it is listed
 * ends (the NATS client's own list() waits for good then), and so does a
 * read of an object of it.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Objm } from '@nats-io/obj';
import { BucketStalledError, ClusterBucketMissingError, ObjectBlobStore } from '../../../src/backends/nats/internal.ts';
import { TandemError } from '../../../src/index.ts';
import { withTempDir } from '../../support/temp-dir.ts';
import { blobStoreConformance } from '../../support/blob-store-conformance.ts';
import { clusterForSuite, natsSkipReason } from '../../support/nats-cluster.ts';

const skip = natsSkipReason();

describe('object store blob store', { skip, timeout: 240_000 }, () => {
  const suite = clusterForSuite();
  let buckets = 0;
  blobStoreConformance('object store', async () => {
    const nc = await suite.connect({ servers: suite.cluster.urls });
    return ObjectBlobStore.open(nc, { bucket: `blobs_${buckets++}`, replicas: 3 });
  });

  test('a listing of a bucket destroyed while it is listed ends, with the bucket missing or the listing given up as stalled', async (t) => {
    await withTempDir(async (dir) => {
      const nc = await suite.connect({ servers: suite.cluster.urls });
      await writeFile(join(dir, 'blob'), 'x'.repeat(100));
      const outcomes = new Set<string>();
      // A destroy a few milliseconds into the listing lands mid-way on most tries; either ending is right, waiting for good is not.
      for (let round = 0; round < 8; round++) {
        const bucket = `listed_${round}`;
        const store = await ObjectBlobStore.open(nc, { bucket, replicas: 3, stallMs: 1_000 });
        for (let i = 0; i < 200; i++) await store.put(`o/${i}`, join(dir, 'blob'));
        const listing = store.list().then((all) => `listed ${all.length}`, (error: unknown) => {
          if (error instanceof BucketStalledError || error instanceof ClusterBucketMissingError) return error.code;
          throw error;
        });
        await new Promise((resolve) => setTimeout(resolve, round));
        await (await new Objm(nc).open(bucket)).destroy();
        let timer: NodeJS.Timeout | undefined;
        const hung = new Promise<string>((resolve) => (timer = setTimeout(() => resolve('hung'), 10_000)));
        outcomes.add(await Promise.race([listing, hung]).finally(() => clearTimeout(timer)));
      }
      t.diagnostic(`outcomes: ${[...outcomes].join(', ')}`);
      assert.ok(!outcomes.has('hung'), `a listing waited past 10 s: ${[...outcomes].join(', ')}`);
    });
  });

  test('a read of an object whose bucket is destroyed while it is read ends, with an error or the whole object', async (t) => {
    await withTempDir(async (dir) => {
      const nc = await suite.connect({ servers: suite.cluster.urls });
      await writeFile(join(dir, 'big'), Buffer.alloc(4 << 20, 7));
      const outcomes = new Set<string>();
      for (let round = 0; round < 6; round++) {
        const bucket = `read_${round}`;
        const store = await ObjectBlobStore.open(nc, { bucket, replicas: 3, stallMs: 1_000 });
        await store.put('big', join(dir, 'big'));
        const reading = store.get('big', join(dir, `copy${round}`)).then((info) => `read ${info.bytes}`, (error: unknown) => {
          if (error instanceof TandemError) return error.code;
          return `untyped: ${(error as Error).message}`;
        });
        await new Promise((resolve) => setTimeout(resolve, round * 3));
        await (await new Objm(nc).open(bucket)).destroy();
        let timer: NodeJS.Timeout | undefined;
        const hung = new Promise<string>((resolve) => (timer = setTimeout(() => resolve('hung'), 10_000)));
        outcomes.add(await Promise.race([reading, hung]).finally(() => clearTimeout(timer)));
      }
      t.diagnostic(`outcomes: ${[...outcomes].join(', ')}`);
      assert.ok(!outcomes.has('hung'), `a read waited past 10 s: ${[...outcomes].join(', ')}`);
    });
  });
});
