/**
 * The staged history objects of messages purged from the streams are found
 * with one listing of the object store per purge, whatever the number of
 * partitions purged (a listing reads the whole bucket), and still only
 * those below each partition's own purge point are erased.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { forgetHistoryBelow, historyObjectNames, ObjectBlobStore, outcomeName, type HistoryBlobs } from '../../../src/backends/nats/internal.ts';
import type { BlobInfo } from '../../../src/master/index.ts';
import { clusterForSuite, natsSkipReason } from '../../support/nats-cluster.ts';
import { withTempDir } from '../../support/temp-dir.ts';

/** A real object store, whose listings are counted. */
class CountedListings implements HistoryBlobs {
  listings = 0;
  constructor(readonly store: ObjectBlobStore) {}
  list(prefix: string): Promise<BlobInfo[]> {
    this.listings++;
    return this.store.list(prefix);
  }
  get(name: string, file: string): Promise<BlobInfo> {
    return this.store.get(name, file);
  }
  delete(name: string): Promise<void> {
    return this.store.delete(name);
  }
  erase(name: string): Promise<void> {
    return this.store.erase(name);
  }
}

/** One staged history message: partition, chunk, the seq its outcome records, and whether its rows object is still there. */
interface Staged { readonly p: number; readonly chunk: number; readonly seq: number; readonly rows: boolean }

async function stage(store: ObjectBlobStore, dir: string, staged: readonly Staged[]): Promise<void> {
  await writeFile(join(dir, 'body'), 'staged');
  for (const s of staged) {
    const { rows, keys } = historyObjectNames('usage', 'imp1', 0, s.p, s.chunk);
    await writeFile(join(dir, 'outcome'), JSON.stringify({ seq: s.seq, rows: 1, kept: 1, duplicates: 0 }));
    await store.put(outcomeName(rows), join(dir, 'outcome'));
    await store.put(keys, join(dir, 'body'));
    if (s.rows) await store.put(rows, join(dir, 'body'));
  }
}

describe('history cleanup', { skip: natsSkipReason(), timeout: 120_000 }, () => {
  const suite = clusterForSuite();

  test('history cleanup - one listing per purge for every partition, erasing only what is below each one\'s point', async () => {
    await withTempDir(async (dir) => {
      const nc = await suite.connect({ servers: suite.cluster.urls });
      const store = await ObjectBlobStore.open(nc, { bucket: 'cleanup', replicas: 1 });
      const staged: Staged[] = [
        { p: 0, chunk: 0, seq: 3, rows: false }, { p: 0, chunk: 1, seq: 12, rows: false },
        { p: 1, chunk: 0, seq: 4, rows: true }, { p: 1, chunk: 1, seq: 9, rows: false },
        { p: 2, chunk: 0, seq: 2, rows: false }, { p: 3, chunk: 0, seq: 1, rows: false },
      ];
      await stage(store, dir, staged);
      const below = new Map([[0, 10], [1, 9], [2, 5]]);
      const counted = new CountedListings(store);

      const erased = await forgetHistoryBelow(counted, below, dir);

      assert.equal(counted.listings, 1, 'one listing of the store for the three partitions purged');
      const left = new Set((await store.list('history/')).map((b) => b.name));
      // Partition 3 was not purged; partition 1's chunk 1 sits at its purge point, which the stream still holds.
      const gone = staged.filter((s) => below.has(s.p) && s.seq < below.get(s.p)!);
      for (const s of staged) {
        const names = historyObjectNames('usage', 'imp1', 0, s.p, s.chunk);
        const isGone = gone.includes(s);
        assert.equal(left.has(names.keys), !isGone, `keys of p${s.p} chunk ${s.chunk} (seq ${s.seq})`);
        if (s.rows) assert.equal(left.has(names.rows), !isGone, `rows of p${s.p} chunk ${s.chunk} (seq ${s.seq})`);
        assert.ok(left.has(outcomeName(names.rows)), 'an outcome stays for the import that reads it');
      }
      assert.equal(erased, gone.length + gone.filter((s) => s.rows).length);
    });
  });

  test('history cleanup - nothing purged lists nothing', async () => {
    await withTempDir(async (dir) => {
      const nc = await suite.connect({ servers: suite.cluster.urls });
      const counted = new CountedListings(await ObjectBlobStore.open(nc, { bucket: 'cleanup_none', replicas: 1 }));
      assert.equal(await forgetHistoryBelow(counted, new Map(), dir), 0);
      assert.equal(counted.listings, 0);
    });
  });
});
