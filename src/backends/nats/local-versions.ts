/**
 * The batch versions a node holds on its own disk (`<data>/cluster/versions/batch/v…-t…/`):
 * the version it served last, whole (manifest and view files), whatever the
 * object store or the control record still say. A node falls back on it
 * when the control record is not valid or names an older version (NATS lost
 * its latest update), and the terms in the folder names keep a rebuilt
 * record's lease term above every term a version was published under.
 *
 * @module
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { PublishedBatch } from './batch-control.ts';
import type { NamedBlobStore } from './object-blob-store.ts';
import { readSharedManifest } from './published-version.ts';

const FOLDER = /^v(\d{8})-t(\d{6})$/;

/** The version and term a folder name (`v00000007-t000002`) or blob name (`batch/v…-t…/x`, `master/…-t000002.…`) carries. */
export function termOf(name: string): number | undefined {
  const match = /-t(\d{6})(?:[/.]|$)/.exec(name);
  return match === null ? undefined : Number(match[1]);
}

/** The highest term any of `names` carries (0 when none does). */
export function highestTerm(names: Iterable<string>): number {
  let highest = 0;
  for (const name of names) highest = Math.max(highest, termOf(name) ?? 0);
  return highest;
}

/** The folders of `<versionsDir>/batch`, newest version first. */
export async function localVersionFolders(versionsDir: string): Promise<string[]> {
  const names = await readdir(join(versionsDir, 'batch')).catch(() => [] as string[]);
  return names.filter((n) => FOLDER.test(n)).sort().reverse();
}

/**
 * The newest version this node holds whole on its disk (its manifest reads
 * and passes its checksum), as a published batch; undefined when none does.
 * The view files are checked when the version loads.
 */
export async function newestLocalVersion(versionsDir: string, blobs: NamedBlobStore, partitions: number): Promise<PublishedBatch | undefined> {
  for (const folder of await localVersionFolders(versionsDir)) {
    const [, version, term] = FOLDER.exec(folder)!;
    const manifest = await readSharedManifest(join(versionsDir, 'batch', folder, 'manifest.json'), `batch/${folder}/manifest.json`, blobs, partitions).catch(() => undefined);
    if (manifest?.cutoffs !== undefined) return { version: Number(version), term: Number(term), cutoffs: manifest.cutoffs };
  }
  return undefined;
}
