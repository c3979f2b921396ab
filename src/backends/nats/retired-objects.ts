/**
 * What a version's list of retired archive objects (retention, issue #31)
 * says to the nodes that read it: which objects it still names, which it
 * newly marks deleted, and which it no longer names. Apart from
 * `cluster-retention.ts` (the batch node's side) so that the archive and the
 * kept versions can read the list without depending on the cycle that
 * writes it.
 *
 * @module
 */
import type { RetiredArchiveFile } from './shared-manifest.ts';

/** The objects a manifest's retired list still names: the undeleted objects and every key-only object. */
export function retiredObjects(retired: readonly RetiredArchiveFile[] | undefined): string[] {
  return (retired ?? []).flatMap((r) => [...(r.deletedAt === undefined ? [r.blob] : []), ...(r.keys === undefined ? [] : [r.keys.blob])]);
}

/** The objects `after` marks deleted that `before` did not: the copies a node forgets as it serves `after`. */
export function newlyDeleted(before: readonly RetiredArchiveFile[], after: readonly RetiredArchiveFile[]): string[] {
  const was = new Set(before.filter((r) => r.deletedAt !== undefined).map((r) => r.blob));
  return after.filter((r) => r.deletedAt !== undefined && !was.has(r.blob)).map((r) => r.blob);
}

/**
 * The objects `before` names (undeleted or key-only) that `after` does not:
 * those an erasure replaced with objects under new names (`archive-erasure.ts`),
 * and those phase 2 deleted. Their copies hold what the erasure took out.
 */
export function noLongerNamed(before: readonly RetiredArchiveFile[], after: readonly RetiredArchiveFile[]): string[] {
  const named = new Set(retiredObjects(after));
  return retiredObjects(before).filter((blob) => !named.has(blob));
}
