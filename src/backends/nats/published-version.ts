/**
 * Fetching a published batch version from the shared blob store onto the
 * node's disk and loading it for serving. Every file is checked against the
 * manifest's SHA-256 as it loads; a damaged local copy is fetched once more.
 *
 * @module
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CorruptBatchViewError, loadPublished, type InMemoryBatchViews } from '../../batch/index.ts';
import type { Catalog } from '../../definitions/index.ts';
import { BlobMissingError } from '../../master/index.ts';
import { ArchiveDamagedError, ClusterBucketMissingError, InvalidClusterRecordError } from './errors.ts';
import { checksumMatches } from '../../util/checksums.ts';
import type { PublishedBatch } from './batch-control.ts';
import type { NamedBlobStore } from './object-blob-store.ts';
import { parseRecord, sharedManifestCheck } from './record-schemas.ts';
import type { ArchivedRange, SharedManifest } from './shared-manifest.ts';
import { versionFolder } from './shared-version-store.ts';

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

async function fetchVersion(blobs: NamedBlobStore, folder: string, dir: string, partitions: number): Promise<SharedManifest> {
  await mkdir(dir, { recursive: true });
  const manifestFile = join(dir, 'manifest.json');
  await fetchMissing(blobs, `${folder}/manifest.json`, manifestFile);
  const manifest = await readSharedManifest(manifestFile, `${folder}/manifest.json`, blobs, partitions);
  for (const entry of Object.values(manifest.views)) {
    if (entry.file !== null) await fetchMissing(blobs, `${folder}/${entry.file}`, join(dir, entry.file));
  }
  return manifest;
}

/**
 * The views of a published version and the archive ranges it covers, fetched
 * into `versionsDir` unless there already; `stale` names the views it lacks
 * or built from another definition than this node's config.
 */
export async function loadSharedVersion(
  blobs: NamedBlobStore, connection: DuckDBConnection, catalog: Catalog, published: PublishedBatch, versionsDir: string,
): Promise<{ views: InMemoryBatchViews; ranges: readonly ArchivedRange[]; stale: readonly string[] }> {
  const folder = versionFolder(published.version, published.term);
  const dir = join(versionsDir, folder);
  const attempt = async () => {
    const manifest = await fetchVersion(blobs, folder, dir, catalog.cluster?.partitions ?? published.cutoffs.length);
    const { views, stale } = await loadPublished(connection, catalog, manifest, dir);
    return { views, ranges: manifest.ranges, stale };
  };
  try {
    return await attempt();
  } catch (error) {
    if (!(error instanceof CorruptBatchViewError || error instanceof InvalidClusterRecordError)) throw error;
    // A local copy damaged (or cut short by a crash while fetching): fetch the version whole once more.
    await rm(dir, { recursive: true, force: true });
    return attempt();
  }
}
