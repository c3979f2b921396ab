/**
 * What a published batch version holds: written last, read first.
 *
 * @example
 * ```ts
 * const manifest: BatchManifest = JSON.parse(await readFile('data/batch/v00000007/manifest.json', 'utf8'));
 * console.log(manifest.version, manifest.cutoff);
 * ```
 */
export interface BatchManifest {
  readonly version: number;
  /** Every event with an offset below the cutoff is in this version; none at or above it. */
  readonly cutoff: number;
  /**
   * Cluster mode: per log partition, the stream sequence the version covers
   * below (`cutoff` is then their sum, which grows whenever one of them does).
   */
  readonly cutoffs?: readonly number[];
  readonly createdAt: string;
  readonly durationMs: number;
  readonly views: Readonly<Record<string, BatchViewEntry>>;
  /** When the views were last recomputed from the whole master dataset; absent in versions before incremental cycles (all full). */
  readonly fullAt?: string;
  /** Whether this version was computed from everything (`full`) or from the previous version and the new events (`incremental`). */
  readonly mode?: 'full' | 'incremental';
  /**
   * The latest retention generation whose retired files the version no
   * longer reads (`src/master/retention.ts`); absent before any retired.
   * A cycle that finds a later one recomputes every view.
   */
  readonly retiredGeneration?: number;
  /** SHA-256 of the rest of the manifest; absent in manifests written before checksums. */
  readonly checksum?: string;
}

export interface BatchViewEntry {
  /** The view definition's hash when it was computed; another hash means the view changed. */
  readonly hash: string;
  /** The Parquet file in the version directory, or null when the view is empty. */
  readonly file: string | null;
  /** SHA-256 of the file, checked before it is loaded; absent before checksums. */
  readonly sha256?: string;
  readonly rows: number;
  readonly inputEvents: number;
  readonly durationMs: number;
  /**
   * The aggregates of later offset ranges, merged with the base file's at
   * query time: one per incremental cycle since the last full recompute.
   * The base file covers `[0, the first delta's from)`.
   */
  readonly deltas?: readonly BatchDelta[];
  /**
   * Cluster mode: the rest of the base, one file per node that computed it
   * from the partitions it owns (issue #28); the base is `file` and these.
   */
  readonly parts?: readonly BatchPart[];
  /**
   * A view with `keepAggregates`: its aggregates of the events retention
   * retired, one file per retention generation, merged with the rest at
   * query time. Computed once from the retired files, then carried from
   * version to version; a recompute from the master dataset leaves them be.
   */
  readonly frozen?: readonly BatchPart[];
}

/** A share of a view's base: in cluster mode, one log partition's, computed by the node that owned it. */
export interface BatchPart {
  readonly file: string | null;
  /** The one log partition whose events the file aggregates. */
  readonly partition?: number;
  readonly sha256?: string;
  readonly rows: number;
}

/**
 * One incremental cycle's aggregate of a view: the events with offsets in
 * `[from, to)`. In cluster mode a cycle may add several, one per node that
 * computed the partitions it owns; they share `from` and `to`.
 */
export interface BatchDelta {
  readonly file: string | null;
  /** Cluster mode: the one log partition whose events the file aggregates (each node loads its own partitions' files). */
  readonly partition?: number;
  readonly sha256?: string;
  readonly rows: number;
  readonly from: number;
  readonly to: number;
}
