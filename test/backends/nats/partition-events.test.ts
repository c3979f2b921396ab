/**
 * Counting a cluster's events per partition (issue #32), without NATS: the
 * archive's events from a chain's manifest rows, each partition's total as
 * this node or a holder's heartbeat tells it, sums that refuse to leave a
 * partition out, and the archive's bytes looked up in a real blob store
 * (a directory; the cluster test reads NATS's object store).
 */
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { ArchiveSizes, archivedEvents, knownSum, partitionEvents } from '../../../src/backends/nats/partition-events.ts';
import type { ArchivedRange } from '../../../src/backends/nats/shared-manifest.ts';
import { DirectoryBlobStore } from '../../../src/master/index.ts';
import { withTempDir } from '../../support/temp-dir.ts';

const SHA = '0'.repeat(64);
const PARTITIONS = 3;

/** A range of partition `p` from `from` to `to` whose files hold `rows` events per event type. */
function range(partition: number, from: number, to: number, rows: readonly number[]): ArchivedRange {
  const files = Object.fromEntries(rows.map((n, i) => [`type${i}`, { blob: `master/type${i}/p${partition}-${from}-${to}.parquet`, rows: n, sha256: SHA }]));
  return { partition, from, to, files, filter: { blob: `master/filters/p${partition}-${from}-${to}.json`, sha256: SHA } };
}

/** A chain: per partition, consecutive ranges, each with its rows per event type. */
const chains = fc.array(fc.record({ partition: fc.nat(PARTITIONS - 1), length: fc.integer({ min: 1, max: 50 }), rows: fc.array(fc.nat(1_000), { maxLength: 3 }) }), { maxLength: 12 }).map((specs) => {
  const ends = new Array<number>(PARTITIONS).fill(1);
  return specs.map(({ partition, length, rows }) => {
    const from = ends[partition]!;
    ends[partition] = from + length;
    return range(partition, from, from + length, rows);
  });
});

test('archivedEvents - every range\'s rows land in its partition; a bound leaves out the ranges ending past it', () => {
  fc.assert(fc.property(chains, fc.array(fc.nat(400), { minLength: PARTITIONS, maxLength: PARTITIONS }), (chain, below) => {
    const rowsOf = (r: ArchivedRange) => Object.values(r.files).reduce((n, f) => n + f.rows, 0);
    const all = archivedEvents(chain, PARTITIONS);
    assert.equal(all.reduce((a, b) => a + b, 0), chain.reduce((n, r) => n + rowsOf(r), 0));
    const bounded = archivedEvents(chain, PARTITIONS, below);
    for (let p = 0; p < PARTITIONS; p++) {
      assert.equal(bounded[p], chain.filter((r) => r.partition === p && r.to <= below[p]!).reduce((n, r) => n + rowsOf(r), 0));
      assert.ok(bounded[p]! <= all[p]!);
    }
  }), { seed: 32 });
});

test('partitionEvents - this node\'s own count first, then the owner\'s heartbeat, then any holder\'s; null when none told', () => {
  const told = [{ node: 'b', events: [null, 30, 7] }, { node: 'c', events: [null, 31, null] }, { node: 'd' }];
  const events = partitionEvents([5, 6, 7], [12, null, null], told, ['a', 'c', 'b']);
  assert.deepEqual(events, [{ archived: 5, total: 12 }, { archived: 6, total: 31 }, { archived: 7, total: 7 }]);
  assert.deepEqual(partitionEvents([0], [null], [{ node: 'd' }], [null]), [{ archived: 0, total: null }]);
});

test('knownSum - the sum, or null as soon as one count is unknown', () => {
  fc.assert(fc.property(fc.array(fc.option(fc.nat(1_000_000), { nil: null })), (counts) => {
    const sum = knownSum(counts);
    if (counts.includes(null)) assert.equal(sum, null);
    else assert.equal(sum, counts.reduce<number>((a, b) => a + b!, 0));
  }), { seed: 32 });
});

test('ArchiveSizes - a partition\'s bytes are its objects\' sizes in the store, null until each is looked up or while one is missing', async () => {
  await withTempDir(async (dir) => {
    const store = new DirectoryBlobStore(join(dir, 'store'));
    const chain = [range(0, 1, 10, [3, 4]), range(0, 10, 20, [5]), range(2, 1, 4, [9])];
    const sizes = new Map<string, number>();
    for (const [i, r] of chain.entries()) {
      for (const f of Object.values(r.files)) {
        const bytes = Buffer.alloc(100 * (i + 1) + f.rows, 1);
        await writeFile(join(dir, 'local'), bytes);
        await store.put(f.blob, join(dir, 'local'));
        sizes.set(f.blob, bytes.length);
      }
    }
    const archive = new ArchiveSizes(store);
    assert.deepEqual(archive.bytes(chain, PARTITIONS), [null, 0, null], 'nothing looked up yet; partition 1 has no object');
    assert.equal(archive.knows(chain), false);
    await Promise.all([archive.learn(chain), archive.learn(chain)]);
    const expected = (p: number) => chain.filter((r) => r.partition === p).flatMap((r) => Object.values(r.files)).reduce((n, f) => n + sizes.get(f.blob)!, 0);
    assert.deepEqual(archive.bytes(chain, PARTITIONS), [expected(0), 0, expected(2)]);
    assert.ok(archive.knows(chain));
    const gone = [...chain, range(1, 1, 5, [2])];
    await archive.learn(gone);
    assert.deepEqual(archive.bytes(gone, PARTITIONS), [expected(0), null, expected(2)], 'an object the store lacks leaves its partition unknown');
    await archive.learn(chain.slice(2));
    assert.deepEqual(archive.bytes(chain, PARTITIONS), [null, 0, expected(2)], 'the sizes of objects gone from the chain are forgotten');
  });
});
