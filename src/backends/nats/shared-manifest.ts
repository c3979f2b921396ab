/**
 * What a published version's manifest holds in cluster mode: the batch
 * manifest, and the archive ranges the version was computed from. The
 * partition archive writes the ranges, the version store publishes the
 * manifest, every node reads it back and checks it (`record-schemas.ts`), so
 * the shape lives here, apart from all three, and imports none of them.
 *
 * @module
 */
import type { BatchManifest } from '../../batch/index.ts';
import type { VersionDefinitions } from './version-definitions.ts';

/** One Parquet object of a range: the events of one type. */
export interface ArchivedFile {
  readonly blob: string;
  readonly rows: number;
  readonly sha256: string;
  /** The latest event time in it (ms since the epoch), as retention asks; absent in objects archived before it was recorded (then read once from the object). */
  readonly maxTime?: number;
}

/**
 * A range's object that retention took out of the archive (`cluster-retention.ts`):
 * no range names it any more, so no cycle reads it. It stays in the object
 * store until the grace period passed (phase 2), and its idempotency keys
 * stay for good in `keys` (a key-only object), so that a node resuming a
 * partition from the archive still drops a re-sent copy of a retired event.
 */
export interface RetiredArchiveFile extends ArchivedFile {
  readonly eventType: string;
  readonly partition: number;
  /** The range it was part of, `[from, to)`. */
  readonly from: number;
  readonly to: number;
  readonly maxTime: number;
  /** The retention generation that retired it: the manifest's `retiredGeneration` once a version accounts for it. */
  readonly generation: number;
  readonly retiredAt: string;
  /** Its events' idempotency keys and offsets (event types with a key only). */
  readonly keys?: { readonly blob: string; readonly sha256: string };
  /** When a version stopped naming the object, after which it is deleted. */
  readonly deletedAt?: string;
}

/** One archived range of a partition, as a published manifest lists it. */
export interface ArchivedRange {
  readonly partition: number;
  /** First sequence of the range. */
  readonly from: number;
  /** One past its last sequence: the cutoff it was archived up to. */
  readonly to: number;
  readonly files: Readonly<Record<string, ArchivedFile>>;
  /** The duplicate rule's state at `to` (its keys aside): what a consumer resumes from once the stream is purged below `to`. */
  readonly filter: { readonly blob: string; readonly sha256: string };
  /**
   * Sequences at the range's start that NATS no longer held when it was
   * archived (purged below the archive's end, as a crash of every server has
   * done): no consumer reads them, and their events come back from the
   * outboxes of the nodes that took them, at later sequences.
   */
  readonly lost?: { readonly from: number; readonly to: number };
  /** The duplicate rule's digest at `to` (see `FirstOccurrenceFilter.digest`): what every node's own rule must show there. */
  readonly digest?: string;
  /**
   * How many ranges, as cycles archived them, compaction folded into this
   * one (`archive-compaction.ts`); absent for a range as archived (one).
   */
  readonly folds?: number;
}

/**
 * A cluster's manifest: the batch manifest, the archive ranges the version
 * was computed from, and, for a version built incrementally, the view files
 * it keeps from the version it follows: each is named with the folder of
 * the earlier version that uploaded it (`batch/v…-t…`), so that a cycle
 * uploads only its deltas, never the base again.
 */
export type SharedManifest = BatchManifest & {
  readonly ranges: readonly ArchivedRange[];
  /** View file name → the folder of the earlier version whose object holds it; a file not named here is in this version's own folder. */
  readonly inherited?: Readonly<Record<string, string>>;
  /**
   * The views the version was computed with, which every node serves with
   * it (`version-definitions.ts`); absent in versions published before views
   * could change while a cluster serves: a node then serves its config's.
   */
  readonly definitions?: VersionDefinitions;
  /** The objects retention took out of the ranges, oldest first; absent before any was. */
  readonly retired?: readonly RetiredArchiveFile[];
};

/** The ranges of `ranges` not in `previous`: what a version added to the chain a node served before it. */
export function newRanges(previous: readonly ArchivedRange[], ranges: readonly ArchivedRange[]): ArchivedRange[] {
  const known = new Set(previous.map((r) => `${r.partition}:${r.from}:${r.to}`));
  return ranges.filter((r) => !known.has(`${r.partition}:${r.from}:${r.to}`));
}

/** Per partition, the stretches lost by NATS that the ranges a version added record. */
export function newLosses(previous: readonly ArchivedRange[], ranges: readonly ArchivedRange[]): Map<number, { from: number; to: number }[]> {
  const losses = new Map<number, { from: number; to: number }[]>();
  for (const r of newRanges(previous, ranges)) {
    if (r.lost !== undefined) losses.set(r.partition, [...(losses.get(r.partition) ?? []), { from: r.lost.from, to: r.lost.to }]);
  }
  return losses;
}
