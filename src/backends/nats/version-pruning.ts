/**
 * Which objects of old batch versions the batch node deletes after it
 * publishes. The newest versions are kept (the published one always), and
 * so is every object one of them refers to in an older folder: a version
 * built incrementally keeps the base and the earlier deltas where they were
 * first uploaded (`version-objects.ts`), so an old folder is emptied only
 * of what no kept version names.
 *
 * @module
 */
import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { NamedBlobStore } from './object-blob-store.ts';
import { readSharedManifest } from './published-version.ts';
import { folderOf, versionObjects } from './version-objects.ts';
import { versionFolder } from './version-folder.ts';

/** What deciding needs: the published version, how many versions to keep, and where manifests may be read locally. */
export interface PruneInput {
  readonly keep: number;
  readonly published: { readonly version: number; readonly term: number };
  readonly partitions: number;
  /** The node's local versions directory: a kept manifest is read from there when this node holds it, else fetched beside it. */
  readonly versionsDir: string;
}

/** The version folders to keep: the newest `keep` and the published version's (any term of it, as one may still be writing). */
function keptFolders(folders: readonly string[], input: PruneInput): Set<string> {
  const sorted = [...folders].sort();
  const published = versionFolder(input.published.version, 0).slice(0, -'000000'.length);
  return new Set([...sorted.slice(Math.max(0, sorted.length - input.keep)), ...sorted.filter((f) => f.startsWith(published))]);
}

/** Every object the kept versions' manifests name: their own files, the files they inherited, and the manifests. */
async function referenced(blobs: NamedBlobStore, kept: ReadonlySet<string>, stored: ReadonlySet<string>, input: PruneInput): Promise<Set<string>> {
  const names = new Set<string>();
  for (const folder of kept) {
    const blob = `${folder}/manifest.json`;
    // A folder without a manifest is a cycle that never finished uploading: it names nothing.
    if (!stored.has(blob)) continue;
    const manifest = await readSharedManifest(await localManifest(blobs, blob, input.versionsDir), blob, blobs, input.partitions);
    names.add(blob);
    for (const o of versionObjects(manifest, folder)) names.add(o.blob);
  }
  return names;
}

/** A local copy of the manifest `blob`: this node's own, or one fetched into a scratch folder. */
async function localManifest(blobs: NamedBlobStore, blob: string, versionsDir: string): Promise<string> {
  const own = join(versionsDir, blob);
  if (await stat(own).then(() => true, () => false)) return own;
  const scratch = join(versionsDir, 'prune', blob);
  await mkdir(folderOf(scratch), { recursive: true });
  await rm(scratch, { force: true });
  await blobs.get(blob, scratch);
  return scratch;
}

/**
 * Deletes the objects of old versions that no kept version refers to;
 * resolves with the names deleted. A kept manifest that cannot be read
 * stops it (an error): what it refers to is unknown, so nothing may go.
 */
export async function pruneVersions(blobs: NamedBlobStore, input: PruneInput): Promise<string[]> {
  const stored = (await blobs.list('batch/')).map((b) => b.name);
  const kept = keptFolders([...new Set(stored.map(folderOf))], input);
  const needed = await referenced(blobs, kept, new Set(stored), input);
  await rm(join(input.versionsDir, 'prune'), { recursive: true, force: true });
  const doomed = stored.filter((name) => !kept.has(folderOf(name)) && !needed.has(name));
  for (const name of doomed) await blobs.delete(name);
  return doomed;
}
