/**
 * One node's part of a batch cycle (issue #28): archive some partitions up
 * to the cycle's seal and compute every view over them, in this node's
 * DuckDB. The batch node computes its own part so, and each other owner
 * computes the partitions it owns when asked (`cycle-parts.ts`). A part
 * never publishes: its ranges and files count once the batch node's
 * manifest names them.
 *
 * File names: one file per view and partition
 * (`<view>.p<partition>[.delta-v<version>].parquet`); any part but the batch
 * node's own adds its tag (`n<hash>` for an owner's, `f<hash>` for the batch
 * node computing a part in place of owner `<hash>`), and so do its ranges,
 * so that no two nodes ever write one name.
 *
 * @module
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { computeViewFiles, type BatchSource, type CyclePart, type ViewFileComputed } from '../../batch/index.ts';
import type { Catalog, ViewSchema } from '../../definitions/index.ts';
import { fnv1a32 } from './fnv1a.ts';
import type { PartitionArchive } from './partition-archive.ts';
import type { ArchivedRange } from './shared-manifest.ts';
import type { ViewReads } from './switch-progress.ts';

/** What a part extends, and how. */
export interface PartWork {
  readonly version: number;
  readonly term: number;
  /** Recompute from the partitions' whole chain, rather than over what it gained. */
  readonly full: boolean;
  readonly cutoffs: readonly number[];
  readonly partitions: readonly number[];
  /** The ranges of the served chain (as compaction folded it): the part reads those of its partitions. */
  readonly chain: readonly ArchivedRange[];
  /** The ranges archived ahead past it. */
  readonly ahead: readonly ArchivedRange[];
  /** Names the part's files and ranges; none for the batch node's own part. */
  readonly tag?: string;
}

/** What a part computed: the ranges it archived, and per view its file in the directory it was given. */
export interface ComputedPart {
  readonly ranges: readonly ArchivedRange[];
  readonly views: CyclePart;
  /** Events the part read. */
  readonly inputEvents: number;
  /** How long archiving took, then computing the views (where this node computed the part). */
  readonly timing?: { readonly archiveMs: number; readonly viewsMs: number };
}

/** A node's tag in the names of what it writes as a part: a hash of its name, short and safe in any file or blob name. */
export function nodeTag(node: string, kind: 'n' | 'f' = 'n'): string {
  return `${kind}${(fnv1a32(node) >>> 0).toString(16).padStart(8, '0')}`;
}

/** The rows of `ranges` of the partitions in `keep`. */
export function rangesOf(ranges: readonly ArchivedRange[], keep: ReadonlySet<number>): ArchivedRange[] {
  return ranges.filter((r) => keep.has(r.partition));
}

/** A view's file of one partition in a part: `<view>.p<partition>[.delta-v<version>][-<tag>].parquet`. */
function partFile(view: ViewSchema, work: PartWork, partition: number): string {
  const delta = work.full ? '' : `.delta-v${String(work.version).padStart(8, '0')}`;
  return `${view.name}.p${String(partition).padStart(3, '0')}${delta}${work.tag === undefined ? '' : `-${work.tag}`}.parquet`;
}

/**
 * Archives `work`'s partitions up to the cutoffs, then computes every view
 * over what the part covers into `dir`, in one scan per view: one file per
 * view and partition that holds its rows, so that each node loads the files
 * of the partitions it serves and no other. `onViewDone` hears how many
 * views are done (0 before the first) and what each reads.
 *
 * @example
 * ```ts
 * const part = await computePart({ archive, catalog, connection }, { version: 9, term: 2, full: false, cutoffs, partitions: [1, 5], chain, ahead: [] }, dir);
 * ```
 */
export async function computePart(
  at: { readonly archive: PartitionArchive; readonly catalog: Catalog; readonly connection: DuckDBConnection; readonly onViewDone?: (done: number, total: number, reads: ViewReads) => void },
  work: PartWork, dir: string,
): Promise<ComputedPart> {
  // Only the part's own partitions: the others' ranges are the other parts' to read.
  const started = performance.now();
  const mine = new Set(work.partitions);
  const chain = rangesOf(work.chain, mine);
  const base = [...chain, ...rangesOf(work.ahead, mine)];
  const only = { partitions: work.partitions, ...(work.tag === undefined ? {} : { tag: work.tag }) };
  const extended = await at.archive.extend(base, work.cutoffs, work.term, only);
  // A local copy of every range of the part is made whole again (a stat each, a fetch where one is gone): the
  // object store is restored from the owners' copies (`archive-restore.ts`).
  await at.archive.localSources(extended);
  const read = work.full ? extended : extended.slice(chain.length);
  const sources = new Map<number, Map<string, BatchSource>>();
  for (const p of work.partitions) sources.set(p, await at.archive.localSources(rangesOf(read, new Set([p]))));
  const archived = performance.now();
  const views: Record<string, ViewFileComputed[]> = {};
  const all = [...sources.values()].flatMap((m) => [...m.values()]);
  const inputEvents = all.reduce((n, s) => n + s.events, 0);
  // Each view reads every source: what a switching cycle's progress counts.
  const reads = { files: all.reduce((n, s) => n + s.files.length, 0), events: inputEvents };
  let done = 0;
  // Once before the first view too: what the views will read is known from here.
  at.onViewDone?.(0, at.catalog.views.size, reads);
  for (const view of at.catalog.views.values()) {
    views[view.name] = await computeViewFiles({ connection: at.connection, byPartition: sources, cutoff: Number.MAX_SAFE_INTEGER }, view, dir, (p) => partFile(view, work, p));
    at.onViewDone?.(++done, at.catalog.views.size, reads);
  }
  return { ranges: extended.slice(base.length), views, inputEvents, timing: { archiveMs: archived - started, viewsMs: performance.now() - archived } };
}
