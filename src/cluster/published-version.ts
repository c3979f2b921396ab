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
import { CorruptBatchViewError, loadPublished, type InMemoryBatchViews } from '../batch/index.ts';
import type { Catalog } from '../definitions/index.ts';
import type { BlobStore } from '../master/index.ts';
import { checksumMatches } from '../util/checksums.ts';
import type { PublishedBatch } from './batch-control.ts';
import { versionFolder, type SharedManifest } from './shared-version-store.ts';
import type { ArchivedRange } from './partition-archive.ts';

async function fetchMissing(blobs: BlobStore, blob: string, file: string): Promise<void> {
  if (await stat(file).then(() => true, () => false)) return;
  await blobs.get(blob, file);
}

async function fetchVersion(blobs: BlobStore, folder: string, dir: string): Promise<SharedManifest> {
  await mkdir(dir, { recursive: true });
  const manifestFile = join(dir, 'manifest.json');
  await fetchMissing(blobs, `${folder}/manifest.json`, manifestFile);
  const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as SharedManifest;
  if (!checksumMatches(manifest)) throw new CorruptBatchViewError(manifestFile, 'its checksum does not match its content');
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
  blobs: BlobStore, connection: DuckDBConnection, catalog: Catalog, published: PublishedBatch, versionsDir: string,
): Promise<{ views: InMemoryBatchViews; ranges: readonly ArchivedRange[]; stale: readonly string[] }> {
  const folder = versionFolder(published.version, published.term);
  const dir = join(versionsDir, folder);
  const attempt = async () => {
    const manifest = await fetchVersion(blobs, folder, dir);
    const { views, stale } = await loadPublished(connection, catalog, manifest, dir);
    return { views, ranges: manifest.ranges, stale };
  };
  try {
    return await attempt();
  } catch (error) {
    if (!(error instanceof CorruptBatchViewError)) throw error;
    // A local copy damaged (or cut short by a crash while fetching): fetch the version whole once more.
    await rm(dir, { recursive: true, force: true });
    return attempt();
  }
}
