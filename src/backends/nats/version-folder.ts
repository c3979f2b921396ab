/**
 * The names of batch versions' folders in cluster mode: `batch/v<version>-t<term>`
 * in the object store, and the same under a node's `cluster/versions/`. The
 * term in the name keeps the uploads of a fenced node (which may share a
 * version number with the holder's) from overwriting a published version's
 * files; the zero-padding makes names sort by version.
 *
 * @module
 */

/** The blob-store folder of a version. */
export function versionFolder(version: number, term: number): string {
  return `batch/v${String(version).padStart(8, '0')}-t${String(term).padStart(6, '0')}`;
}

/**
 * Of a node's local version folders (`names`, as under `batch/`), those older
 * than `published`, to delete once it serves. A folder of the same version
 * under an older term stays: it may be this node's own cycle, fenced but
 * still writing there, whose files vanishing would turn its answer into an
 * internal error (the next version's adoption removes it).
 */
export function foldersBelow(names: readonly string[], published: { readonly version: number; readonly term: number }): string[] {
  const versionOf = (folder: string) => folder.split('-')[0]!;
  const keep = versionOf(versionFolder(published.version, published.term).split('/')[1]!);
  return names.filter((name) => versionOf(name) < keep);
}
