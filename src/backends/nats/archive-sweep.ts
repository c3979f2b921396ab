/**
 * Deleting archive objects no kept version names, on the batch node, in the
 * background. Two kinds end up there: the ranges compaction folded (named
 * by versions until those are pruned, `archive-compaction.ts`), and the
 * uploads of a node that lost its lease mid-cycle (never named by any
 * published version; publishing is fenced). An object is deleted only when
 * no kept version's manifest names it, the node's served chain and
 * unpublished work do not hold it, every kept version has its manifest
 * (one still uploading names nothing yet), and it was stored more than a
 * lease ago: an upload younger than that may be a cycle's whose publish is
 * still to come, on a node that took the lease after this one asked.
 *
 * @module
 */
import { keptVersions, type KeepInput } from './kept-versions.ts';
import type { NamedBlobStore } from './object-blob-store.ts';

/** What the sweep must leave, besides what kept versions name. */
export interface SweepInput extends KeepInput {
  /** The served chain's objects and the batch node's unpublished ones. */
  readonly holding: ReadonlySet<string>;
  /** An object stored less than this long ago stays: the batch lease's duration. */
  readonly minAgeMs: number;
  readonly now: number;
}

/** Deletes the archive objects (`master/`) nobody may need any more; resolves with their names. */
export async function sweepArchive(blobs: NamedBlobStore, input: SweepInput): Promise<string[]> {
  const { named, whole } = await keptVersions(blobs, input);
  if (!whole) return [];
  const doomed = (await blobs.list('master/')).filter((b) => (
    !named.has(b.name) && !input.holding.has(b.name) && b.storedAt !== undefined && input.now - b.storedAt > input.minAgeMs
  )).map((b) => b.name);
  for (const name of doomed) await blobs.delete(name);
  return doomed;
}
