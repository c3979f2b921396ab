/**
 * A batch version computed in parts (issue #28): in cluster mode each node
 * computes every view over the partitions it owns, and one manifest names
 * every node's file. A view's rows are aggregates keyed by series and bucket,
 * and every measure is a monoid, so the parts merge at query time exactly as
 * an incremental cycle's deltas do: the version answers what one node
 * computing everything would.
 *
 * - A full cycle's files make the base: each is one of its `parts` (the
 *   base `file` is none).
 * - An incremental cycle's files are its deltas, one per file that holds
 *   rows, all over the same cutoffs; the previous version's files stay.
 *
 * In cluster mode every file is one partition's (`partition`), so that each
 * node loads the files of the partitions it serves and no other.
 *
 * @module
 */
import type { Catalog } from '../definitions/index.ts';
import type { BatchDelta, BatchManifest, BatchPart, BatchViewEntry } from './batch-manifest.ts';
import type { ViewFileComputed } from './batch-runner.ts';

/** One node's share of a cycle: per view, the files it computed (in cluster mode one per partition that holds events). */
export type CyclePart = Readonly<Record<string, readonly ViewFileComputed[]>>;

export interface PartsInput {
  readonly catalog: Catalog;
  readonly version: number;
  /** Per partition, the cutoff the version covers below. */
  readonly cutoffs: readonly number[];
  /** Every node's share; the first is the node publishing the version. */
  readonly parts: readonly CyclePart[];
  /** The version an incremental cycle builds on; undefined for a full one. */
  readonly previous?: BatchManifest;
  /** When the cycle began (`performance.now()`). */
  readonly startedAt: number;
}

/**
 * The manifest of a version made of `parts`, before the store adds where its
 * files are kept.
 *
 * @example
 * ```ts
 * const manifest = manifestOfParts({ catalog, version: 8, cutoffs, parts: [mine, ...theirs], previous: served.manifest, startedAt });
 * ```
 */
export function manifestOfParts(input: PartsInput): BatchManifest {
  const cutoff = input.cutoffs.reduce((a, b) => a + b, 0);
  const views: Record<string, BatchViewEntry> = {};
  const durationMs = performance.now() - input.startedAt;
  for (const view of input.catalog.views.values()) {
    const files = input.parts.flatMap((part) => part[view.name] ?? []);
    const inputEvents = files.reduce((n, f) => n + f.inputEvents, 0);
    const before = input.previous?.views[view.name];
    views[view.name] = before === undefined ? baseEntry(view.hash, files, inputEvents, durationMs) : {
      ...before, inputEvents: before.inputEvents + inputEvents, durationMs, deltas: [...(before.deltas ?? []), ...deltasOf(files, input.previous!.cutoff, cutoff)],
    };
  }
  const createdAt = new Date().toISOString();
  const previous = input.previous;
  return {
    version: input.version, cutoff, cutoffs: [...input.cutoffs], createdAt, durationMs, views,
    mode: previous === undefined ? 'full' : 'incremental',
    fullAt: previous === undefined ? createdAt : previous.fullAt ?? previous.createdAt,
  };
}

/** A full cycle's base: every file is a part (one per partition), the base file itself none. */
function baseEntry(hash: string, files: readonly ViewFileComputed[], inputEvents: number, durationMs: number): BatchViewEntry {
  const parts: BatchPart[] = files.filter((f) => f.file !== null).map(fileOf);
  return { hash, file: null, rows: 0, inputEvents, durationMs, ...(parts.length === 0 ? {} : { parts }) };
}

/** A cycle's deltas: one per part with rows; one without a file when none has any, so that the cycle still counts as one. */
function deltasOf(files: readonly ViewFileComputed[], from: number, to: number): BatchDelta[] {
  const withRows = files.filter((f) => f.file !== null);
  return (withRows.length === 0 ? [{ file: null, rows: 0, inputEvents: 0 }] : withRows).map((f) => ({ ...fileOf(f), from, to }));
}

function fileOf(f: ViewFileComputed): BatchPart {
  return { file: f.file, ...(f.partition === undefined ? {} : { partition: f.partition }), ...(f.sha256 === undefined ? {} : { sha256: f.sha256 }), rows: f.rows };
}
