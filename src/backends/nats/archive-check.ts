/**
 * Whether the object store still holds a published version's whole chain:
 * every archived range's Parquet objects, the duplicate rule's snapshot at
 * the end of each partition's last range (what a node resumes from), and the
 * version's own manifest and view files. NATS 2.9 lost every object of a
 * bucket when all its servers were killed at once (issue #26) while the
 * control record still named the version, so nothing is taken on trust: a
 * node checks the chain it serves when it starts, whenever it adopts a
 * version, and every few seconds after; the batch node checks before each
 * cycle and reads a new version's chain back after publishing it, and
 * purges a stream only below ranges found present.
 *
 * One listing of the bucket answers for every object (its size and digest,
 * not its bytes), so a check costs one request however long the chain.
 *
 * @module
 */
import type { BlobInfo } from '../../master/index.ts';
import type { MissingPiece } from './damage-report.ts';
import type { NamedBlobStore } from './object-blob-store.ts';
import type { ArchivedRange } from './shared-manifest.ts';
import { versionObjects, type ObjectsOf } from './version-objects.ts';

/** One object of a chain, as the manifest that lists it says it must be. */
export interface ChainPiece {
  readonly blob: string;
  readonly sha256: string;
  /** The partition whose range it belongs to; undefined for the version's manifest and views. */
  readonly partition?: number;
  /** One past the range's last sequence, for a range's objects. */
  readonly to?: number;
  /**
   * Where a node keeps its copy, named like a blob, when not under the
   * blob's own name: a view file a version inherited from an earlier one is
   * in the served version's folder on disk, the earlier folder long pruned.
   */
  readonly copy?: string;
}

/** The objects of each partition's ranges, and the snapshot at the end of each partition's last range. */
export function rangePieces(ranges: readonly ArchivedRange[]): ChainPiece[] {
  const last = new Map<number, ArchivedRange>();
  for (const r of ranges) if ((last.get(r.partition)?.to ?? 0) < r.to) last.set(r.partition, r);
  return [
    ...ranges.flatMap((r) => Object.values(r.files).map((f) => ({ blob: f.blob, sha256: f.sha256, partition: r.partition, to: r.to }))),
    ...[...last.values()].map((r) => ({ blob: r.filter.blob, sha256: r.filter.sha256, partition: r.partition, to: r.to })),
  ];
}

/**
 * Every object of the version in `folder`: its ranges', its view files
 * (those it inherited, in the folders that hold them), and its manifest
 * (whose own digest is `manifestSha256`).
 */
export function chainPieces(manifest: ObjectsOf, ranges: readonly ArchivedRange[], folder: string, manifestSha256: string): ChainPiece[] {
  const views = versionObjects(manifest, folder).flatMap((o) => {
    if (o.sha256 === undefined) return [];
    const copy = `${folder}/${o.file}`;
    return [copy === o.blob ? { blob: o.blob, sha256: o.sha256 } : { blob: o.blob, sha256: o.sha256, copy }];
  });
  return [...rangePieces(ranges), ...views, { blob: `${folder}/manifest.json`, sha256: manifestSha256 }];
}

/** Of `pieces`, those the listing `stored` lacks or holds with another digest, in order. */
export function missingFrom(pieces: readonly ChainPiece[], stored: readonly BlobInfo[]): MissingPiece[] {
  const byName = new Map(stored.map((info) => [info.name, info]));
  return pieces.flatMap((piece) => {
    const info = byName.get(piece.blob);
    if (info === undefined) return [{ blob: piece.blob, problem: 'missing' }];
    return info.sha256 === piece.sha256 ? [] : [{ blob: piece.blob, problem: `its digest is ${info.sha256.slice(0, 12)}…, the manifest's ${piece.sha256.slice(0, 12)}…` }];
  });
}

/** Of `pieces`, those the object store lacks or holds with another digest: one listing of the bucket. */
export async function checkPieces(blobs: NamedBlobStore, pieces: readonly ChainPiece[]): Promise<MissingPiece[]> {
  if (pieces.length === 0) return [];
  return missingFrom(pieces, await blobs.list());
}

/**
 * Per partition, the highest sequence below which every range of `ranges`
 * was found whole: the stream may be purged up to there and no further.
 */
export function verifiedBelow(ranges: readonly ArchivedRange[], missing: readonly MissingPiece[], partitions: number): number[] {
  const bad = new Set(missing.map((m) => m.blob));
  const below = new Array<number>(partitions).fill(Number.MAX_SAFE_INTEGER);
  for (const r of ranges) {
    if (Object.values(r.files).some((f) => bad.has(f.blob))) below[r.partition] = Math.min(below[r.partition]!, r.from);
  }
  return below;
}
