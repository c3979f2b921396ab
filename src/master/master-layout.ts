/**
 * The master dataset's layout in its directory, an open format any Parquet
 * engine reads:
 *
 *   <master>/<event type>/<first>-<end>.parquet one file per sealed segment and event type
 *   <master>/_segments/<first>-<end>.json       which Parquet files a sealed segment became
 *   <master>/_history/<type>/<first>-<end>.parquet  events a history import claimed offsets `[first, end)` for
 *   <master>/_history/<first>-<end>.json        an import's commit record: written last, it makes those files count
 *   <master>/_retired/<path as above>           files retention took out, until deleted after a grace period
 *
 * @module
 */
import { join } from 'node:path';
import { offsetName } from '../log/index.ts';

export function rangeName(base: number, end: number): string {
  return `${offsetName(base)}-${offsetName(end)}`;
}

export function parquetRelativePath(eventType: string, base: number, end: number): string {
  return join(eventType, `${rangeName(base, end)}.parquet`);
}

export function segmentManifestDir(masterDir: string): string {
  return join(masterDir, '_segments');
}

/** A Parquet file of the master dataset, relative to its directory, with its rows and SHA-256. */
export interface MasterFile {
  readonly path: string;
  readonly rows: number;
  readonly sha256: string;
}

/**
 * A history import's share of a segment: offsets `[first, end)`, claimed by
 * a history frame of the log, and the files holding their events (none when
 * the import never committed: then the range holds no events).
 */
export interface HistoryPart {
  readonly eventType: string;
  readonly first: number;
  readonly end: number;
  readonly files: readonly MasterFile[];
  /** The file imported (absolute path, bytes, modification time): what `resume` recognizes it by. */
  readonly source?: HistorySource;
}

/** A history file as a resumed import recognizes it: the same path, size and modification time. */
export interface HistorySource {
  readonly path: string;
  readonly bytes: number;
  readonly modifiedMs: number;
}

/** A file retention took out of a segment manifest (`retention.ts`). */
export interface RetiredFile {
  readonly eventType: string;
  /** Where it was, relative to the master directory. */
  readonly from: string;
  /** Where it is until deleted, relative to the master directory. */
  readonly path: string;
  readonly rows: number;
  readonly sha256: string;
  /** The latest event time it held (ms since the epoch). */
  readonly maxTime: number;
  /** The retirement it was part of: a batch version that records this generation no longer reads it. */
  readonly generation: number;
  readonly retiredAt: string;
  /** When phase 2 deleted it; absent while it waits. */
  readonly deletedAt?: string;
}

/** What one sealed segment became: its Parquet file per event type, with row counts. */
export interface SegmentManifest {
  readonly base: number;
  readonly end: number;
  /** Per event type: the Parquet file (relative to the master directory), its rows, and its SHA-256. */
  readonly files: Readonly<Record<string, { readonly path: string; readonly rows: number; readonly sha256: string }>>;
  /** Offsets whose events were lost to damage and left out by `tandem repair`, as [from, to) ranges. */
  readonly lost?: readonly (readonly [number, number])[];
  /** History imports whose ranges lie in the segment, with their files (`tandem ingest --history`). */
  readonly history?: readonly HistoryPart[];
  /** Events erasures took out of the segment's files (`erasure.ts`): the files hold that many fewer than the range. */
  readonly erased?: number;
  /** Files retention took out of the segment (`retention.ts`): no longer read, deleted after a grace period. */
  readonly retired?: readonly RetiredFile[];
}

/** Every Parquet file a segment manifest names, with its event type: the segment's own, then its history imports'. */
export function manifestFiles(manifest: SegmentManifest): { readonly eventType: string; readonly file: MasterFile }[] {
  const own = Object.entries(manifest.files).map(([eventType, file]) => ({ eventType, file }));
  const history = (manifest.history ?? []).flatMap((h) => h.files.map((file) => ({ eventType: h.eventType, file })));
  return [...own, ...history];
}

/** The Parquet files of one event type below a cutoff, as the batch layer reads them. */
export interface MasterSource {
  readonly files: string[];
  events: number;
}
