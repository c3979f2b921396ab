/**
 * When a batch cycle may add only what is new to the published version, and
 * when it must recompute every view from the whole master dataset, the
 * ground truth. The embedded backend and the cluster backend both ask here,
 * so that the two modes decide alike on the same options.
 *
 * @module
 */
import type { Catalog } from '../definitions/index.ts';
import type { BatchManifest, BatchViewEntry } from './batch-manifest.ts';

const DEFAULT_FULL_BATCH_EVERY_MS = 24 * 3_600_000;
const DEFAULT_MAX_BATCH_DELTAS = 16;

/**
 * The options that bound a chain of incremental cycles, as both
 * `TandemOptions` and `ClusterNodeOptions` take them.
 *
 * @example
 * ```ts
 * const policy: IncrementalPolicy = { fullBatchEveryMs: 6 * 3_600_000, maxBatchDeltas: 32 };
 * ```
 */
export interface IncrementalPolicy {
  /**
   * Batch cycles add what is new to the published views (incremental); a
   * full recompute from the whole master dataset, the ground truth, runs at
   * least this often. Default 24 hours.
   */
  readonly fullBatchEveryMs?: number;
  /** Incremental cycles in a row before a full recompute folds their deltas into one base. Default 16. */
  readonly maxBatchDeltas?: number;
}

/**
 * Whether the next cycle may build on the version `manifest` describes:
 * not when asked for a full one, before the first version, when a view is
 * new or its definition changed, once `fullBatchEveryMs` passed since the
 * last full recompute, and once a view has `maxBatchDeltas` deltas to merge
 * at query time, and once retention retired files the version still reads
 * (`retiredGeneration` past the manifest's). A view named `backfilled`
 * (switched in from its backfill) is not asked.
 *
 * @example
 * ```ts
 * const previous = mayBuildOn(served?.manifest, catalog, { ...options, full }) ? served : undefined;
 * ```
 */
export function mayBuildOn(
  manifest: BatchManifest | undefined, catalog: Catalog,
  policy: IncrementalPolicy & { readonly full: boolean; readonly backfilled?: string; readonly retiredGeneration?: number }, now = Date.now(),
): boolean {
  if (policy.full || manifest === undefined) return false;
  // Monoids do not subtract: the views of events retention took out are computed again from what remains.
  if ((policy.retiredGeneration ?? 0) !== (manifest.retiredGeneration ?? 0)) return false;
  const fullAt = Date.parse(manifest.fullAt ?? manifest.createdAt);
  if (now - fullAt >= (policy.fullBatchEveryMs ?? DEFAULT_FULL_BATCH_EVERY_MS)) return false;
  const maxDeltas = policy.maxBatchDeltas ?? DEFAULT_MAX_BATCH_DELTAS;
  return [...catalog.views.values()].every((view) => {
    // A view switched in from its backfill does not build on the version's files of it.
    if (view.name === policy.backfilled) return true;
    const entry = manifest.views[view.name];
    return entry !== undefined && entry.hash === view.hash && deltaCycles(entry) < maxDeltas;
  });
}

/** How many cycles added deltas to a view: in cluster mode one cycle adds one per node that computed its share, all ending at its cutoff. */
function deltaCycles(entry: BatchViewEntry): number {
  return new Set((entry.deltas ?? []).map((d) => d.to)).size;
}
