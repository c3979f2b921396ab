/**
 * The master dataset: a durable, append-only log of events on local disk
 * whose sealed segments become Parquet files.
 *
 * @module
 */
export { EventLog, type AppendOutcome, type EventLogOptions, type LogListener, type SealedSegment } from './event-log.ts';
export { CorruptLogError, CorruptMasterFileError, DiskFullError, LogClosedError, LogEncodeError, LogOverloadedError, LogWriteError, StoredSchemaConflictError } from './errors.ts';
export { StoredSchema, type StoredField } from './stored-schema.ts';
export { ParquetExporter, removeTemporaryFiles } from './parquet-export.ts';
export { readSegmentManifests, rebuildSegmentManifest, verifyMasterFiles, type DamagedManifest } from './master-integrity.ts';
export type { SegmentManifest } from './master-layout.ts';
export type { LoggedRow } from './segment-scan.ts';
export { encodeFrame, decodeFrame } from './frame.ts';
export { segmentPath, listSegmentBases } from './segment-files.ts';
export { repairLog, LOST_RANGE_TYPE, type LogRepair } from './repair-log.ts';
