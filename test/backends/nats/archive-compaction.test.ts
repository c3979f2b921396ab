/**
 * Which ranges compaction folds: `FANOUT` consecutive ranges of a partition
 * holding as many folded ranges each, never a partition's newest, never one
 * recording a loss, never more rows per object than the limit; and that the
 * chain stays bounded, as a counter in base `FANOUT` does, however many
 * cycles add ranges.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { FANOUT, nextFold, replaceGroup } from '../../../src/backends/nats/archive-compaction.ts';
import type { ArchivedRange } from '../../../src/backends/nats/shared-manifest.ts';

const sha = 'a'.repeat(64);

function range(partition: number, from: number, to: number, rows = 10, extra: Partial<ArchivedRange> = {}): ArchivedRange {
  const name = `p${partition}-${from}-${to}`;
  return { partition, from, to, files: { order: { blob: `master/order/${name}.parquet`, rows, sha256: sha } }, filter: { blob: `master/filters/${name}.json`, sha256: sha }, ...extra };
}

/** What a fold makes of a group, as `PartitionArchive.fold` does, without the objects. */
function folded(group: readonly ArchivedRange[]): ArchivedRange {
  const rows = group.reduce((n, r) => n + r.files.order!.rows, 0);
  return { ...range(group[0]!.partition, group[0]!.from, group.at(-1)!.to, rows), filter: group.at(-1)!.filter, folds: group.reduce((n, r) => n + (r.folds ?? 1), 0) };
}

test('archive compaction - folds FANOUT ranges of one partition, oldest first, and never the newest', () => {
  const p0 = Array.from({ length: FANOUT }, (_, i) => range(0, 1 + i * 10, 11 + i * 10));
  assert.equal(nextFold(p0), undefined, 'the newest of the partition stays: only FANOUT - 1 may fold');
  const chain = [...p0, range(1, 1, 5), range(0, 41, 51)];
  const group = nextFold(chain)!;
  assert.deepEqual(group, p0);
  const after = replaceGroup(chain, group, folded(group));
  assert.deepEqual(after.map((r) => [r.partition, r.from, r.to, r.folds ?? 1]), [[0, 1, 41, FANOUT], [1, 1, 5, 1], [0, 41, 51, 1]]);
});

test('archive compaction - a range recording a loss, a gap, unequal folds or too many rows stop a group', () => {
  const run = (edit: (ranges: ArchivedRange[]) => void) => {
    const ranges = Array.from({ length: FANOUT + 1 }, (_, i) => range(0, 1 + i * 10, 11 + i * 10));
    edit(ranges);
    return nextFold(ranges, 100);
  };
  assert.equal(run((r) => (r[1] = { ...r[1]!, lost: { from: 11, to: 15 } })), undefined);
  assert.equal(run((r) => (r[2] = { ...r[2]!, from: 22 })), undefined);
  assert.equal(run((r) => (r[0] = { ...r[0]!, folds: FANOUT })), undefined);
  assert.equal(run((r) => (r[3] = range(0, 31, 41, 80))), undefined);
  assert.notEqual(run((r) => (r[3] = range(0, 31, 41, 70))), undefined, 'exactly at the limit folds');
});

test('archive compaction - over any number of cycles, with compaction keeping up, a partition holds O(FANOUT × log n) ranges and every sequence once', () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 400 }), fc.integer({ min: 0, max: 3 }), (cycles, foldsPerCycle) => {
    let chain: ArchivedRange[] = [];
    for (let c = 0; c < cycles; c++) {
      chain = [...chain, range(0, 1 + c * 10, 11 + c * 10)];
      for (let f = 0; f < foldsPerCycle; f++) {
        const group = nextFold(chain);
        if (group !== undefined) chain = replaceGroup(chain, group, folded(group));
      }
    }
    for (let group = nextFold(chain); group !== undefined; group = nextFold(chain)) chain = replaceGroup(chain, group, folded(group));
    const sorted = [...chain].sort((a, b) => a.from - b.from);
    sorted.forEach((r, i) => assert.equal(r.from, i === 0 ? 1 : sorted[i - 1]!.to, 'consecutive, no gap, no overlap'));
    assert.equal(sorted.at(-1)!.to, 11 + (cycles - 1) * 10);
    assert.equal(sorted.reduce((n, r) => n + r.files.order!.rows, 0), cycles * 10, 'every row once');
    const levels = Math.ceil(Math.log(cycles + 1) / Math.log(FANOUT)) + 1;
    assert.ok(chain.length <= (FANOUT - 1) * levels + 1, `${chain.length} ranges after ${cycles} cycles`);
  }), { seed: 27, numRuns: 200 });
});
