/**
 * The files a view has in a published version (the base, then one per
 * delta), and the tables a served version loaded from them. A file's
 * SHA-256 names its content, so a version that keeps a file of the one it
 * follows can keep that file's table too, instead of reading it again.
 *
 * @module
 */
import type { AggregateTable } from '../aggregates/index.ts';
import type { BatchViewEntry } from './batch-manifest.ts';
import type { BatchViewStore } from './batch-view-store.ts';

/** One file of a view in a version. */
export interface ViewFile {
  readonly file: string;
  readonly sha256?: string;
}

/** A view's files in a version, in table order: the base, its other parts, its frozen parts, then each delta; only those that have a file. */
export function viewFiles(entry: BatchViewEntry): ViewFile[] {
  const all = [{ file: entry.file, sha256: entry.sha256 }, ...(entry.parts ?? []), ...(entry.frozen ?? []), ...(entry.deltas ?? [])];
  return all.flatMap((f) => (f.file === null ? [] : [f.sha256 === undefined ? { file: f.file } : { file: f.file, sha256: f.sha256 }]));
}

/** A table already in memory for a view's file of this digest, if any: what loading a version may take instead of reading the file. */
export type LoadedTables = (view: string, sha256: string) => AggregateTable | undefined;

/**
 * The tables `served` holds, by view and file digest. A view's tables are its
 * base (an empty table when the base has no file), then one per other part
 * of the base, frozen part and delta that has a file, in order; a view whose
 * tables do not line up so is left out.
 */
export function loadedTables(served: BatchViewStore | undefined): LoadedTables {
  const byKey = new Map<string, AggregateTable>();
  for (const [view, entry] of Object.entries(served?.manifest.views ?? {})) {
    const tables = served!.tables(view);
    const rest = [...(entry.parts ?? []), ...(entry.frozen ?? []), ...(entry.deltas ?? [])].filter((d) => d.file !== null);
    if (tables.length !== 1 + rest.length) continue;
    if (entry.file !== null && entry.sha256 !== undefined) byKey.set(`${view}\0${entry.sha256}`, tables[0]!);
    rest.forEach((d, i) => d.sha256 !== undefined && byKey.set(`${view}\0${d.sha256}`, tables[i + 1]!));
  }
  return (view, sha256) => byKey.get(`${view}\0${sha256}`);
}
