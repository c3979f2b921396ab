/**
 * The master dataset's layout in its directory, an open format any Parquet
 * engine reads:
 *
 *   <master>/<event type>/<first>-<end>.parquet one file per sealed segment and event type
 *   <master>/_segments/<first>-<end>.json       which Parquet files a sealed segment became
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

/** What one sealed segment became: its Parquet file per event type, with row counts. */
export interface SegmentManifest {
  readonly base: number;
  readonly end: number;
  /** Per event type: the Parquet file (relative to the master directory), its rows, and its SHA-256. */
  readonly files: Readonly<Record<string, { readonly path: string; readonly rows: number; readonly sha256: string }>>;
  /** Offsets whose events were lost to damage and left out by `tandem repair`, as [from, to) ranges. */
  readonly lost?: readonly (readonly [number, number])[];
}

/** The Parquet files of one event type below a cutoff, as the batch layer reads them. */
export interface MasterSource {
  readonly files: string[];
  events: number;
}
