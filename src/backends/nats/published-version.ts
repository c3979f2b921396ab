/**
 * Fetching a published batch version from the shared blob store onto the
 * node's disk and loading it for serving. Every file is checked against the
 * manifest's SHA-256 as it loads; a damaged local copy is fetched once more.
 *
 * @module
 */
import { catalogOfVersion } from './version-definitions.ts';
import type { DuckDBConnection } from '@duckdb/node-api';
import { link, mkdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CorruptBatchViewError, loadPublished } from '../../batch/index.ts';
import { filesOfPartitions, isPartitioned, loadMergedStore, loadPartitionBatch, PartitionBatch, type LoadedStore } from './partition-batch.ts';
import type { Catalog } from '../../definitions/index.ts';
import { BlobMissingError } from '../../master/index.ts';
import { ArchiveDamagedError, ClusterBucketMissingError, InvalidClusterRecordError } from './errors.ts';
import { checksumMatches } from '../../util/checksums.ts';
import type { PublishedBatch } from './batch-control.ts';
import type { NamedBlobStore } from './object-blob-store.ts';
import { parseRecord, sharedManifestCheck } from './record-schemas.ts';
import type { ArchivedRange, SharedManifest } from './shared-manifest.ts';
import { versionFolder } from './version-folder.ts';
import { versionObjects, type VersionObject } from './version-objects.ts';

/** Fetches `blob` unless a local copy is there (checked against the manifest as it loads); a missing object is {@link ArchiveDamagedError}. */
async function fetchMissing(blobs: NamedBlobStore, blob: string, file: string): Promise<void> {
  if (await stat(file).then(() => true, () => false)) return;
  try {
    await blobs.get(blob, file);
  } catch (error) {
    if (!(error instanceof BlobMissingError || error instanceof ClusterBucketMissingError)) throw error;
    const problem = error instanceof BlobMissingError ? 'missing' : `the bucket ${error.bucket} does not exist`;
    throw new ArchiveDamagedError(blobs.name, [{ blob, problem }], 'this node has no copy of it, so it cannot load that version until the object is restored.');
  }
}

/** Reads a version's manifest from its local copy, checked for shape (naming the object it came from) and checksum. */
export async function readSharedManifest(file: string, blob: string, blobs: NamedBlobStore, partitions: number): Promise<SharedManifest> {
  const manifest = parseRecord(await readFile(file, 'utf8'), sharedManifestCheck(partitions), {
    store: blobs.name, key: blob, what: 'batch manifest',
    advice: 'the version it describes cannot be served; the node fetches it again, and the batch node publishes a new version.',
  });
  if (!checksumMatches(manifest)) throw new CorruptBatchViewError(file, 'its checksum does not match its content');
  return manifest;
}

/**
 * The version served now on this node, which a version built on it shares
 * files with: each such file is linked from its local folder (the same
 * object, so the same bytes) and its table kept, not read again.
 */
export interface ServedVersion {
  readonly views: PartitionBatch;
  /** Its folder on this node's disk. */
  readonly dir: string;
  readonly objects: readonly VersionObject[];
}

/** Fetches a version's manifest, and the files of partitions `serving` (every file of a version served whole). */
async function fetchVersion(
  blobs: NamedBlobStore, folder: string, dir: string, partitions: number, served: ServedVersion | undefined, serving: ReadonlySet<number>,
): Promise<SharedManifest> {
  await mkdir(dir, { recursive: true });
  const manifestFile = join(dir, 'manifest.json');
  await fetchMissing(blobs, `${folder}/manifest.json`, manifestFile);
  const manifest = await readSharedManifest(manifestFile, `${folder}/manifest.json`, blobs, partitions);
  const kept = new Map((served?.objects ?? []).map((o) => [o.blob, o.file]));
  const needed = isPartitioned(manifest) ? filesOfPartitions(manifest, serving) : undefined;
  for (const o of versionObjects(manifest, folder)) {
    if (needed !== undefined && !needed.has(o.file)) continue;
    const file = join(dir, o.file);
    const local = kept.get(o.blob);
    if (local !== undefined && await link(join(served!.dir, local), file).then(() => true, () => false)) continue;
    await fetchMissing(blobs, o.blob, file);
  }
  return manifest;
}

/**
 * The views of a published version and the archive ranges it covers, fetched
 * into `versionsDir` unless there already: for a partitioned version only
 * the files of partitions `serving`, those of `together` (the partitions the
 * node owns) merged into one store and each other's a store of its own; a
 * version of an earlier release whole. `stale` names the views it
 * lacks or built from another definition than this node's config. What it
 * shares with `served` is linked and kept, not fetched and read again.
 */
export async function loadSharedVersion(
  blobs: NamedBlobStore, connection: DuckDBConnection, catalog: Catalog, published: PublishedBatch, versionsDir: string,
  serving: ReadonlySet<number>, together: ReadonlySet<number>, served?: ServedVersion,
): Promise<{ views: PartitionBatch; ranges: readonly ArchivedRange[]; stale: readonly string[]; catalog: Catalog }> {
  const folder = versionFolder(published.version, published.term);
  const dir = join(versionsDir, folder);
  const attempt = async (from: ServedVersion | undefined) => {
    const manifest = await fetchVersion(blobs, folder, dir, catalog.cluster?.partitions ?? published.cutoffs.length, from, serving);
    // The version's own views, which every node serves with it; `catalog` for a version published before versions carried them.
    const served = catalogOfVersion(catalog, manifest.definitions);
    if (!isPartitioned(manifest)) {
      const { views, stale } = await loadPublished(connection, served, manifest, dir, from?.views.wholeStore);
      return { views: PartitionBatch.whole(manifest, views), ranges: manifest.ranges, stale, catalog: served };
    }
    const views = await loadPartitionBatch(connection, served, manifest, dir, { serving: [...serving].sort((a, b) => a - b), together, served: from?.views });
    const stale = [...served.views.values()].filter((v) => manifest.views[v.name]?.hash !== v.hash).map((v) => v.name);
    return { views, ranges: manifest.ranges, stale, catalog: served };
  };
  try {
    return await attempt(served);
  } catch (error) {
    if (!(error instanceof CorruptBatchViewError || error instanceof InvalidClusterRecordError)) throw error;
    // A local copy damaged (or cut short by a crash while fetching): fetch the version whole once more, sharing nothing.
    await rm(dir, { recursive: true, force: true });
    return attempt(undefined);
  }
}

/**
 * Partition `p`'s tables of the version `served` serves, fetched and loaded:
 * a node that takes a partition up serves its batch states too.
 */
export async function loadPartitionOf(
  blobs: NamedBlobStore, connection: DuckDBConnection, catalog: Catalog, published: PublishedBatch, versionsDir: string, p: number, served: ServedVersion,
): Promise<LoadedStore> {
  const folder = versionFolder(published.version, published.term);
  const dir = join(versionsDir, folder);
  const manifest = served.views.manifest;
  const needed = filesOfPartitions(manifest, new Set([p]));
  for (const o of versionObjects(manifest as SharedManifest, folder)) if (needed.has(o.file)) await fetchMissing(blobs, o.blob, join(dir, o.file));
  return loadMergedStore(connection, catalog, manifest, dir, [p], served.views.loaded());
}
