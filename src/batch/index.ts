/**
 * The batch layer: complete, exact views recomputed in DuckDB from the whole
 * master dataset, published as immutable versions.
 *
 * @module
 */
export {
  runBatch, loadPublished, loadViewFile, loadViewFiles, computeView, computeViewFiles,
  type BackfilledView, type BatchRunInput, type RetentionInput, type BatchRunResult, type BatchSource, type ViewFileComputed, type ViewSources,
} from './batch-runner.ts';
export { backfillChunks, backfillView, MAX_BACKFILL_PARTS, type BackfillChunk } from './backfill-view.ts';
export type { BackfillPart } from './backfill-part.ts';
export { manifestOfParts, type CyclePart, type PartsInput } from './version-parts.ts';
export type { PublishedVersion, VersionStore } from './version-store.ts';
export { LocalVersionStore } from './local-version-store.ts';
export { InMemoryBatchViews, type BatchViewStore } from './batch-view-store.ts';
export type { BatchManifest, BatchPart, BatchViewEntry } from './batch-manifest.ts';
export { batchViewSql } from './batch-sql.ts';
export { mayBuildOn, type IncrementalPolicy } from './incremental-policy.ts';
export { viewFiles, type ViewFile } from './view-files.ts';
export { CorruptBatchViewError } from './errors.ts';
export { eraseFrozenParts, frozenErasedFile, withFrozenOutcomes, frozenValueMeasure, splitsFrozen, type FrozenErasing, type FrozenErasure, type FrozenFiles, type FrozenPartsErased } from './frozen-erasure.ts';
