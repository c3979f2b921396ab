/**
 * The event log: every event, durable and in offset order, in framed
 * segments on local disk until the batch layer absorbs them (the master
 * dataset's write-ahead part). It also keeps the idempotency keys and the
 * record of how stored events were written.
 *
 * @module
 */
export type { AppendOutcome, EventLog, SealedSegment } from './event-log.ts';
export { LocalEventLog, type EventLogOptions, type LogListener } from './local-event-log.ts';
export { CorruptLogError, DiskFullError, LogClosedError, LogEncodeError, LogGapError, LogOverloadedError, LogWriteError, NewestSegmentMissingError, StoredSchemaConflictError } from './errors.ts';
export { readActiveBase } from './active-record.ts';
export { StoredSchema, checkTypes, covers, fieldsOf, type StoredField, type StoredTypes } from './stored-schema.ts';
export { scanSegment, scanSegmentBytes, type LoggedRow } from './segment-scan.ts';
export { encodeFrame, decodeFrame } from './frame.ts';
export { segmentPath, listSegmentBases, offsetName } from './segment-files.ts';
export { repairLog, LOST_RANGE_TYPE, type LogRepair, type RestoreSegment } from './repair-log.ts';
export { HISTORY_RANGE_TYPE, encodeHistoryFrame, historyRangeOf, type HistoryRange } from './history-range.ts';
export { IdempotencyIndex } from './idempotency-index.ts';
export { KeySet } from './key-set.ts';
export { KeySnapshot, type RestoredKeys } from './key-snapshot.ts';
export { ndjsonBytes } from './ndjson-bytes.ts';
export { packColumns } from './packed-columns.ts';
