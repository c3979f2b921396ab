/**
 * The master dataset's Parquet part: sealed log segments exported to one
 * Parquet file per event type, checksummed, listed by segment manifests, and
 * read by the batch layer. An open format: any Parquet engine reads it.
 *
 * @module
 */
export { LocalMasterDataset, type MasterDataset, type MasterDatasetOptions, type RetentionFigures } from './master-dataset.ts';
export type { RetiredFile } from './retention.ts';
export type { ErasedFromMaster } from './erasure.ts';
export { CorruptMasterFileError } from './errors.ts';
export type { HistoryPart, HistorySource, MasterFile, MasterSource, SegmentManifest } from './master-layout.ts';
export { BlobCorruptError, BlobMissingError, checkBlobName, type BlobInfo, type BlobStore } from './blob-store.ts';
export { DirectoryBlobStore } from './directory-blob-store.ts';
export { exportSql } from './parquet-export.ts';
export { loadIdempotencyKeys } from './idempotency-keys.ts';
export { restoreSegment, type RestoredSegment } from './segment-restore.ts';
export { repairManifests } from './manifest-repair.ts';
export { exportedThrough } from './manifest-gaps.ts';
export { importHistoryFile, rejections, sourceOf, type HistoryFileOutcome, type HistoryFileJob } from './history-import.ts';
export { formatOf, checkedSource, type HistoryFormat, type CheckedSource } from './history-source.ts';
export { committedImports, historyDir, readHistoryRecord, removeUncommittedHistory } from './history-record.ts';
export { HistoryFileError, HistoryFormatError, HistoryImportUnsupportedError } from './history-errors.ts';
