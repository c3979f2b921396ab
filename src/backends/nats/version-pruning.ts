/**
 * Which objects of old batch versions the batch node deletes after it
 * publishes. The newest versions are kept (the published one always), and
 * so is every object one of them refers to in an older folder: a version
 * built incrementally keeps the base and the earlier deltas where they were
 * first uploaded (`version-objects.ts`), so an old folder is emptied only
 * of what no kept version names (`kept-versions.ts`).
 *
 * @module
 */
import { keptVersions, type KeepInput } from './kept-versions.ts';
import type { NamedBlobStore } from './object-blob-store.ts';
import { folderOf } from './version-objects.ts';

export type { KeepInput as PruneInput } from './kept-versions.ts';

/**
 * Deletes the objects of old versions that no kept version refers to;
 * resolves with the names deleted. A kept manifest that cannot be read
 * stops it (an error): what it refers to is unknown, so nothing may go.
 */
export async function pruneVersions(blobs: NamedBlobStore, input: KeepInput): Promise<string[]> {
  const { stored, folders, named } = await keptVersions(blobs, input);
  const doomed = stored.map((b) => b.name).filter((name) => !folders.has(folderOf(name)) && !named.has(name));
  for (const name of doomed) await blobs.delete(name);
  return doomed;
}
