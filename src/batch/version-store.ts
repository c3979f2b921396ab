/**
 * What the batch layer needs of the place its versions live: the seam a
 * shared object store would slide in behind. The embedded default is
 * {@link LocalVersionStore}, version directories on local disk.
 *
 * @module
 */
import type { BatchManifest } from './batch-manifest.ts';

/** A published version: its manifest and the directory its files are in. */
export interface PublishedVersion {
  readonly manifest: BatchManifest;
  readonly dir: string;
}

export interface VersionStore {
  /** Prepares the store and removes what a crashed run left half-written. */
  init(): Promise<void>;
  /** The published version, or undefined before the first; throws a CorruptBatchViewError when it is damaged. */
  current(): Promise<PublishedVersion | undefined>;
  /** A place to write the next version's files. */
  begin(): Promise<{ version: number; dir: string }>;
  /** Publishes what was written at `dir`, atomically: readers see the old version or the new one, whole. */
  publish(dir: string, manifest: BatchManifest): Promise<PublishedVersion>;
  /** Where a published version's files are. */
  dirOf(version: number): string;
  /** Deletes old versions, keeping the latest `keep` and `published`. */
  prune(keep: number, published: number): Promise<void>;
}
