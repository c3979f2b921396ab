/**
 * The pieces of a published version's chain and how they are checked: every
 * range's Parquet objects, the snapshot at the end of each partition's last
 * range, the view files and the manifest; a listing that lacks one, or holds
 * it with another digest, names it; and a stream may be purged only below
 * the first range found damaged in its partition.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chainPieces, missingFrom, rangePieces, verifiedBelow } from '../../../src/backends/nats/archive-check.ts';
import type { ArchivedRange } from '../../../src/backends/nats/shared-manifest.ts';
import type { BatchManifest } from '../../../src/batch/index.ts';

const sha = (c: string) => c.repeat(64);

function range(partition: number, from: number, to: number, types: readonly string[]): ArchivedRange {
  const name = `p${partition}-${from}-${to}`;
  return {
    partition, from, to,
    files: Object.fromEntries(types.map((t) => [t, { blob: `master/${t}/${name}.parquet`, rows: 1, sha256: sha('a') }])),
    filter: { blob: `master/filters/${name}.json`, sha256: sha('b') },
  };
}

const ranges = [range(0, 1, 10, ['order', 'hit']), range(1, 1, 5, ['order']), range(0, 10, 20, ['order']), range(1, 5, 9, [])];

test('archive check - a chain is every range object, the last snapshot of each partition, the view files and the manifest', () => {
  const manifest = { views: { sales: { hash: 'h', file: 'sales.parquet', sha256: sha('c'), rows: 1, inputEvents: 1, durationMs: 1 }, none: { hash: 'h', file: null, rows: 0, inputEvents: 0, durationMs: 1 } } } as unknown as BatchManifest;
  const pieces = chainPieces(manifest, ranges, 'batch/v00000003-t000001', sha('d'));
  assert.deepEqual(pieces.map((p) => p.blob), [
    'master/order/p0-1-10.parquet', 'master/hit/p0-1-10.parquet', 'master/order/p1-1-5.parquet', 'master/order/p0-10-20.parquet',
    'master/filters/p0-10-20.json', 'master/filters/p1-5-9.json',
    'batch/v00000003-t000001/sales.parquet', 'batch/v00000003-t000001/manifest.json',
  ]);
  assert.equal(rangePieces([]).length, 0);
});

test('archive check - a listing that lacks a piece or holds another digest names it; everything else passes', () => {
  const pieces = rangePieces(ranges);
  const stored = pieces.map((p) => ({ name: p.blob, bytes: 10, sha256: p.sha256 }));
  assert.deepEqual(missingFrom(pieces, stored), []);
  const damaged = stored.filter((s) => s.name !== 'master/hit/p0-1-10.parquet').map((s) => (s.name === 'master/filters/p1-5-9.json' ? { ...s, sha256: sha('e') } : s));
  assert.deepEqual(missingFrom(pieces, damaged), [
    { blob: 'master/hit/p0-1-10.parquet', problem: 'missing' },
    { blob: 'master/filters/p1-5-9.json', problem: `its digest is ${'e'.repeat(12)}…, the manifest's ${'b'.repeat(12)}…` },
  ]);
});

test('archive check - a partition is purged only below its first range found damaged', () => {
  const all = Number.MAX_SAFE_INTEGER;
  assert.deepEqual(verifiedBelow(ranges, [], 2), [all, all]);
  assert.deepEqual(verifiedBelow(ranges, [{ blob: 'master/order/p0-10-20.parquet', problem: 'missing' }], 2), [10, all]);
  assert.deepEqual(verifiedBelow(ranges, [{ blob: 'master/order/p0-10-20.parquet', problem: 'missing' }, { blob: 'master/hit/p0-1-10.parquet', problem: 'missing' }], 2), [1, all]);
  // A snapshot alone does not hold events: the stream below its range's end is in the range's Parquet objects.
  assert.deepEqual(verifiedBelow(ranges, [{ blob: 'master/filters/p1-5-9.json', problem: 'missing' }], 2), [all, all]);
});
