/**
 * `tandem/client`: a typed client of a Tandem server. It imports neither
 * DuckDB nor the server nor the engine, only the definitions' types and the
 * error classes, and talks to the server with the global `fetch`, so it runs
 * wherever Node 20+ (or Deno, or Bun) does.
 *
 * Type it with the config the server runs, imported as a type only, so that
 * nothing of the engine is loaded:
 *
 * @example
 * ```ts
 * import { createClient, UnknownViewError, SpeedLayerFullError } from 'tandem/client';
 * import type config from './tandem.config.ts';
 *
 * const client = createClient<typeof config>({ url: 'http://127.0.0.1:7070', apiKey: process.env.TANDEM_API_KEY });
 * await client.ingest('order', [{ orderId: 'o1', at: '2024-05-01T12:00:00Z', country: 'DE', amount: 19.99 }]);
 * try {
 *   const { rows } = await client.query({ view: 'revenue_by_country', groupBy: ['country'], granularity: 'all' });
 *   for (const row of rows) console.log(row.country, row.revenue);
 * } catch (error) {
 *   if (error instanceof UnknownViewError) console.error(`the server has no view ${error.view}`);
 *   else throw error;
 * }
 * ```
 *
 * @module
 */
export { createClient, type TandemClient } from './create-client.ts';
export { answerIncludes, type AppliedMeta } from './answer-includes.ts';
export type { ClientOptions, IngestOptions, IngestProgress, RequestOptions, RetryNotice, RetryOptions, UploadHistoryOptions } from './client-options.ts';
export type { HistoryFile, HistoryFileFormat } from './history-body.ts';
export type { HistoryUploadStatus } from '../server/history-progress.ts';
export type { HistoryImportSummary } from '../engine/history-import-types.ts';
export type { ServerDefinitions, ServerStatus } from './answer-types.ts';
export type { SqlCell, SqlResult } from '../sql/sql-answer.ts';
export type { SqlColumn } from '../sql/sql-columns.ts';
export type { SqlRequest } from '../sql/sql-runner.ts';
export type { SqlType } from '../sql/view-table.ts';
export { ServerUnreachableError, TandemHttpError } from './client-errors.ts';

// The errors a server's answers become, from the files that define them (see error-from-answer.ts).
export { InvalidDefinitionError, InvalidErasureError, InvalidEventError, TandemError, UnknownEventTypeError, UnknownFieldError } from '../definitions/errors.ts';
export {
  InvalidQueryError, QueryTimeoutError, ResultTooLargeError, UnknownDimensionError, UnknownMeasureError, UnknownViewError, UnknownTimeZoneError, TimeZoneRollUpError,
} from '../serving/errors.ts';
export { EngineDrainingError, ErasureFrozenValueError, ErasureUnsupportedError, EventTypesChangedError, FrozenAggregatesError, NoViewChangeError, SpeedLayerFullError, ViewBackfillingError, ViewChangesUnsupportedError } from '../engine/errors.ts';
export {
  InvalidSqlValueError, MeasureMisuseError, SqlClauseError, SqlParameterError, SqlSyntaxError, SqlTooLargeError, TimeBucketError, UnknownColumnError, UnsupportedSqlError,
} from '../sql/errors.ts';
export { DiskFullError, LogClosedError, LogOverloadedError, LogWriteError } from '../log/errors.ts';
export {
  BodyTooLargeError, CrossOriginError, ForbiddenError, HeadersTooLargeError, HostNotAllowedError, InvalidCompressionError, InvalidUtf8Error, MalformedBodyError,
  MalformedHttpError, RequestTimeoutError, ShuttingDownError, TooManyEventsError, UnauthorizedError, UnsupportedCharsetError, UnsupportedEncodingError,
  UnsupportedMediaTypeError, HistoryImportRunningError, HistoryUploadTooLargeError,
} from '../server/errors.ts';
export { HistoryFileError, HistoryImportUnsupportedError } from '../master/history-errors.ts';

// The types of definitions, queries and answers, shared with the engine.
export type {
  EventOf, EventTypeJson, EventTypeName, TandemConfig, ViewFields, ViewJson, ViewName,
} from '../definitions/definition-types.ts';
export type { MeasureValue } from '../definitions/measures/measure.ts';
export type { BatchSummary, EngineStatus, ErasureAudit, IngestResult, RejectedEvent, ViewChangeAnswer, ViewChangeStatus } from '../engine/engine-types.ts';
export type { FrozenErasure } from '../batch/frozen-erasure.ts';
export type { ErasureRequest } from '../definitions/index.ts';
export type {
  DimensionName, DimensionValue, Layer, MeasureName, MeasureResult, OrderBy, Query, QueryGranularityFor, QueryMeta, QueryResult, QueryRow, QueryRowOf,
  ViewQuery, WhereOf, FormedMeasure,
} from '../serving/query.ts';
export type { NumberForm } from '../serving/number-form.ts';
export type { QuantileKey, QuantileName, QuantileValuesOf } from '../serving/quantile-names.ts';
