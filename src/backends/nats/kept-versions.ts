/**
 * Which published versions the object store keeps, and every object they
 * name: the newest `keep` version folders (the published version's always),
 * their manifests, view files (in whatever folder a version inherited them
 * from) and archive ranges. What pruning (`version-pruning.ts`) and the
 * sweep of the archive (`archive-sweep.ts`) may delete is what this does
 * not name.
 *
 * @module
 */
import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { BlobInfo } from '../../master/index.ts';
import type { NamedBlobStore } from './object-blob-store.ts';
import { retiredObjects } from './retired-objects.ts';
import { readSharedManifest } from './published-version.ts';
import type { SharedManifest } from './shared-manifest.ts';
import { folderOf, versionObjects } from './version-objects.ts';
import { versionFolder } from './version-folder.ts';

/** What deciding needs: the published version, how many versions to keep, and where manifests may be read locally. */
export interface KeepInput {
  readonly keep: number;
  readonly published: { readonly version: number; readonly term: number };
  readonly partitions: number;
  /** The node's local versions directory: a kept manifest is read from there when this node holds it, else fetched beside it. */
  readonly versionsDir: string;
}

/** The kept versions as the store holds them now. */
export interface KeptVersions {
  /** Every object under `batch/`. */
  readonly stored: readonly BlobInfo[];
  readonly folders: ReadonlySet<string>;
  /** Every object a kept version names: manifests, view files, archive ranges' files and snapshots. */
  readonly named: ReadonlySet<string>;
  /** Whether every kept folder has a manifest: one without (a cycle still uploading, or fenced) names nothing yet. */
  readonly whole: boolean;
}

/** The version folders to keep: the newest `keep` and the published version's (any term of it, as one may still be writing). */
function keptFolders(folders: readonly string[], input: KeepInput): Set<string> {
  const sorted = [...folders].sort();
  const published = versionFolder(input.published.version, 0).slice(0, -'000000'.length);
  return new Set([...sorted.slice(Math.max(0, sorted.length - input.keep)), ...sorted.filter((f) => f.startsWith(published))]);
}

/** A local copy of the manifest `blob`: this node's own, or one fetched into a scratch folder. */
async function localManifest(blobs: NamedBlobStore, blob: string, versionsDir: string): Promise<string> {
  const own = join(versionsDir, blob);
  if (await stat(own).then(() => true, () => false)) return own;
  const scratch = join(versionsDir, 'kept', blob);
  await mkdir(folderOf(scratch), { recursive: true });
  await rm(scratch, { force: true });
  await blobs.get(blob, scratch);
  return scratch;
}

/**
 * Every object the version in `folder` names: its manifest, its view files
 * (in whatever folder it inherited them from), its archive ranges' files and
 * filters, and the retired objects it still lists.
 */
export function namedBy(manifest: SharedManifest, folder: string): Set<string> {
  const named = new Set<string>([`${folder}/manifest.json`]);
  for (const o of versionObjects(manifest, folder)) named.add(o.blob);
  for (const r of manifest.ranges) for (const f of [...Object.values(r.files), r.filter]) named.add(f.blob);
  // Retired objects within their grace period, and the keys of every retired one (`cluster-retention.ts`).
  for (const blob of retiredObjects(manifest.retired)) named.add(blob);
  return named;
}

/**
 * The kept versions and what they name. A kept manifest that cannot be
 * read is an error: what it names is unknown, so nothing may be deleted.
 */
export async function keptVersions(blobs: NamedBlobStore, input: KeepInput): Promise<KeptVersions> {
  const stored = await blobs.list('batch/');
  const names = new Set(stored.map((b) => b.name));
  const folders = keptFolders([...new Set(stored.map((b) => folderOf(b.name)))], input);
  const named = new Set<string>();
  let whole = true;
  try {
    for (const folder of folders) {
      const blob = `${folder}/manifest.json`;
      if (!names.has(blob)) {
        whole = false;
        continue;
      }
      const manifest = await readSharedManifest(await localManifest(blobs, blob, input.versionsDir), blob, blobs, input.partitions);
      for (const name of namedBy(manifest, folder)) named.add(name);
    }
  } finally {
    await rm(join(input.versionsDir, 'kept'), { recursive: true, force: true });
  }
  return { stored, folders, named, whole };
}
