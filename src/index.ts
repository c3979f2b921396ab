/**
 * Tandem: an embedded Lambda Architecture engine for TypeScript.
 *
 * @module
 */
export * from './definitions/index.ts';
export * from './serving/index.ts';
export { CorruptLogError, CorruptMasterFileError, DiskFullError, LogClosedError, LogWriteError, StoredSchemaConflictError, type LogRepair } from './log/index.ts';
export { CorruptBatchViewError, type BatchManifest } from './batch/index.ts';
