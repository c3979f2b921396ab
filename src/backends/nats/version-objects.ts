/**
 * Where each view file of a published version is in the object store. A
 * version built incrementally keeps the files of the version it follows
 * (the base and the earlier deltas) in the folders that uploaded them and
 * uploads only its new deltas; its manifest names those folders
 * (`inherited`). Publishing, fetching, checking, restoring and pruning all
 * ask here, so that each finds the same object for a file.
 *
 * @module
 */
import { viewFiles, type BatchManifest } from '../../batch/index.ts';
import type { SharedManifest } from './shared-manifest.ts';

/** One view file of a version: its name in the version's folder on a node's disk, and the object holding it. */
export interface VersionObject {
  readonly file: string;
  /** `batch/v…-t…/<file>`: in this version's folder, or in the earlier one that uploaded it. */
  readonly blob: string;
  readonly sha256?: string;
}

/** What the objects are read from: a manifest's views and, in cluster mode, where its inherited files are. */
export type ObjectsOf = Pick<BatchManifest, 'views'> & Partial<Pick<SharedManifest, 'inherited'>>;

/** The folder a version object is in (`batch/v…-t…`). */
export function folderOf(blob: string): string {
  return blob.slice(0, blob.lastIndexOf('/'));
}

/** Every view file of the version in `folder`, with the object that holds it; a file two views share is listed once. */
export function versionObjects(manifest: ObjectsOf, folder: string): VersionObject[] {
  const byFile = new Map<string, VersionObject>();
  for (const entry of Object.values(manifest.views)) {
    for (const { file, sha256 } of viewFiles(entry)) {
      const blob = `${manifest.inherited?.[file] ?? folder}/${file}`;
      byFile.set(file, sha256 === undefined ? { file, blob } : { file, blob, sha256 });
    }
  }
  return [...byFile.values()];
}

/**
 * Of the files of a version about to be published, those the served
 * version (`served`, its objects) already has under the same name and
 * digest: the new manifest names their folders instead of uploading them.
 */
export function inheritedFrom(files: readonly { readonly file: string; readonly sha256?: string }[], served: readonly VersionObject[]): Record<string, string> {
  const before = new Map(served.map((o) => [o.file, o]));
  const inherited: Record<string, string> = {};
  for (const { file, sha256 } of files) {
    const kept = before.get(file);
    if (kept !== undefined && sha256 !== undefined && kept.sha256 === sha256) inherited[file] = folderOf(kept.blob);
  }
  return inherited;
}
