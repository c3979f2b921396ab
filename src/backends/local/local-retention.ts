/**
 * Retention in the embedded engine's cycle: which files retire before the
 * cycle computes (phase 1), what the cycle folds into the frozen parts of
 * views that keep their aggregates, and which retired files are deleted
 * once it has published (phase 2). The files' side is `src/master/retention.ts`.
 *
 * @module
 */
import type { BatchViewStore, RetentionInput } from '../../batch/index.ts';
import { retentionHorizons, type Catalog } from '../../definitions/index.ts';
import type { MasterDataset } from '../../master/index.ts';

/** How long a retired file stays on disk before phase 2 deletes it, unless `retentionGraceMs` says otherwise: one day. */
export const DEFAULT_RETENTION_GRACE_MS = 86_400_000;

/**
 * Phase 1: retires what is due below the served cutoff, as the generation
 * after the served version's. Resolves with the cycle's retention input,
 * or undefined when no event type has a retention.
 */
export async function retireDue(
  master: MasterDataset, catalog: Catalog, served: { readonly batch: BatchViewStore; readonly dir: string } | undefined, now: number,
): Promise<RetentionInput | undefined> {
  const horizons = retentionHorizons(catalog, now);
  if (horizons.size === 0 && master.retiredGeneration === 0) return undefined;
  const servedGeneration = served?.batch.manifest.retiredGeneration ?? 0;
  // Nothing retires before a version serves: the speed layer holds every event until then.
  if (served !== undefined && horizons.size > 0) await master.retire(served.batch.manifest.cutoff, horizons, servedGeneration + 1, new Date(now));
  return {
    generation: master.retiredGeneration,
    retired: master.retiredSince(servedGeneration),
    ...(served === undefined ? {} : { kept: { manifest: served.batch.manifest, dir: served.dir, views: served.batch } }),
  };
}
