/**
 * Tandem: an embedded Lambda Architecture engine for TypeScript. This entry
 * is the public API, listed name by name: the definition helpers, the engine,
 * the query types and the error classes. The layers' internals (tables,
 * SQL, the log's framing) are not part of it.
 *
 * @example
 * ```ts
 * import { defineConfig, defineEventType, defineView, Tandem } from 'tandem';
 *
 * const order = defineEventType({ name: 'order', time: 'at', fields: { at: 'timestamp', country: 'string', amount: { type: 'number', scale: 2 } } });
 * const revenue = defineView(order, { name: 'revenue', dimensions: ['country'], granularity: 'hour', measures: { revenue: { type: 'sum', field: 'amount' } } });
 * const tandem = await Tandem.open({ dataDir: './data', config: defineConfig({ eventTypes: [order], views: [revenue] }) });
 * await tandem.ingest('order', [{ at: Date.now(), country: 'DE', amount: 19.99 }]);
 * const { rows } = await tandem.query({ view: 'revenue', groupBy: ['country'], granularity: 'all' });
 * ```
 *
 * @module
 */

// Definitions: what a user declares, in TypeScript or JSON.
export { defineConfig, defineEventType, defineView, compileConfig } from './definitions/index.ts';
export type {
  TandemConfig, EventTypeJson, UndeclaredFields, ViewJson, EventTypeDefinition, ViewDefinition, ViewSpec, MeasureSpec, MeasureFilter, FilterSpec, FilterJson, ComparisonOp,
  FieldsSpec, FieldSpecInput, FieldType, Granularity, QueryGranularity, MeasureType, MeasureValue, QuantileValues, Value,
  EventTypeName, ViewName, EventTypeOf, ViewOf, EventOf, Catalog, ErasureRequest, ClusterConfigJson,
} from './definitions/index.ts';
export { MIN_TIME, MAX_TIME } from './definitions/index.ts';

// The engine.
export { Tandem, type LocalIngestResult, type HistoryImportOptions, type HistoryImportSummary, type HistoryProgress } from './backends/local/index.ts';
export type {
  TandemOptions, IngestResult, RejectedEvent, BatchSummary, BatchOptions, BatchProgress, BatchFailure, EngineStatus, EngineLogger,
  ViewChangeStatus, ViewChangeAnswer, ErasureAudit, RetentionStatus,
} from './engine/index.ts';

// Queries and their answers.
export type {
  Query, QueryResult, QueryRow, QueryMeta, Layer, DimensionInput, QueryLimits,
  ViewQuery, QueryRowOf, NumberForm, FormedMeasure, DimensionName, MeasureName, QueryGranularityFor, OrderBy, QuantileKey, QuantileName, QuantileValuesOf,
} from './serving/index.ts';

// SQL over the views: each view a table of time, its dimensions and its measures.
export { answerIncludes, type AppliedMeta } from './client/answer-includes.ts';
export { SqlRunner } from './sql/index.ts';
export type { SqlEngine, SqlRequest, SqlResult, SqlColumn, SqlCell, SqlType } from './sql/index.ts';

// Errors: one class per failure mode, each with a stable `code` and the field or file at fault.
export {
  TandemError, InvalidDefinitionError, UnknownFieldError, UnknownMeasureTypeError, InvalidEventError, UnknownEventTypeError, InvalidErasureError,
} from './definitions/index.ts';
export {
  InvalidQueryError, UnknownViewError, UnknownDimensionError, UnknownMeasureError, UnknownTimeZoneError, TimeZoneRollUpError, QueryTimeoutError, ResultTooLargeError,
} from './serving/index.ts';
export {
  DataDirectoryLockedError, EngineDrainingError, InvalidEngineOptionError, ServedVersionChangingError, SpeedLayerFullError,
  ViewBackfillingError, ViewChangesUnsupportedError, RetentionUnsupportedError, FrozenAggregatesError, ErasureUnsupportedError, ErasureFrozenValueError, NoViewChangeError, EventTypesChangedError,
} from './engine/index.ts';
export { CorruptMasterFileError, HistoryFileError, HistoryFormatError, HistoryImportUnsupportedError } from './master/index.ts';
export {
  CorruptLogError, DiskFullError, LogClosedError, LogEncodeError, LogOverloadedError, LogWriteError,
  StoredSchemaConflictError, type LogRepair,
} from './log/index.ts';
export { CorruptBatchViewError, type BatchManifest, type FrozenErasure, type IncrementalPolicy } from './batch/index.ts';
export {
  SqlSyntaxError, SqlTooLargeError, SqlClauseError, UnsupportedSqlError, UnknownColumnError, MeasureMisuseError, TimeBucketError, InvalidSqlValueError, SqlParameterError,
} from './sql/index.ts';
