/**
 * Turns an error answer, `{ "error": { "code", "message", "field"? } }`, into
 * the class the engine or the server threw, chosen by its code, so that
 * `instanceof UnknownViewError` reads the same in a client as in the engine.
 * The message is the server's own; a class's other fields come from the
 * request (the view, the event type, the name a field path points at) or
 * from the numbers the message states, and are NaN or '' where neither says.
 * An unknown code becomes a {@link TandemHttpError}.
 *
 * @module
 */
import { InvalidDefinitionError, InvalidErasureError, InvalidEventError, UnknownEventTypeError, UnknownFieldError, UnknownMeasureTypeError, type TandemError } from '../definitions/errors.ts';
import { DiskFullError, LogClosedError, LogOverloadedError, LogWriteError } from '../log/errors.ts';
import {
  BodyTooLargeError, CrossOriginError, ForbiddenError, HeadersTooLargeError, HostNotAllowedError, InvalidCompressionError, InvalidUtf8Error, MalformedBodyError,
  MalformedHttpError, RequestTimeoutError, ShuttingDownError, TooManyEventsError, UnauthorizedError, UnsupportedCharsetError, UnsupportedEncodingError,
  UnsupportedMediaTypeError, HistoryImportRunningError, HistoryUploadTooLargeError,
} from '../server/errors.ts';
import { HistoryFileError, HistoryImportUnsupportedError } from '../master/history-errors.ts';
import {
  InvalidQueryError, QueryTimeoutError, ResultTooLargeError, TimeZoneRollUpError, UnknownDimensionError, UnknownMeasureError, UnknownTimeZoneError, UnknownViewError,
} from '../serving/errors.ts';
import { EngineDrainingError, ErasureFrozenValueError, ErasureUnsupportedError, FrozenAggregatesError, NoViewChangeError, SpeedLayerFullError, ViewBackfillingError, ViewChangesUnsupportedError } from '../engine/errors.ts';
import {
  InvalidSqlValueError, MeasureMisuseError, SqlParameterError, SqlSyntaxError, SqlTooLargeError, TimeBucketError, UnknownColumnError, UnsupportedSqlError,
} from '../sql/errors.ts';
import { TandemHttpError } from './client-errors.ts';

/**
 * The `error` member of an error answer.
 *
 * @example
 * ```ts
 * const answer: ErrorAnswer = { code: 'invalid_query', message: 'limit must be a non-negative integer.', field: 'limit' };
 * ```
 */
export interface ErrorAnswer {
  readonly code: string;
  readonly message: string;
  readonly field?: string;
}

/**
 * What the client sent, to fill in the fields an answer leaves out.
 *
 * @example
 * ```ts
 * const context: RequestContext = { query: { view: 'v', groupBy: ['contry'] } };
 * ```
 */
export interface RequestContext {
  /** The event type of an ingest. */
  readonly eventType?: string;
  /** The body of a query. */
  readonly query?: unknown;
}

type Build = (answer: ErrorAnswer, context: RequestContext) => TandemError;

/**
 * The first two numbers a message states, thousands separators and all
 * ("holds 1,200 events, more than … 1,000" → [1200, 1000]); NaN for each it
 * does not state.
 */
function stated(message: string): [number, number] {
  const found = [...message.matchAll(/\d[\d,]*(?:\.\d+)?/g)].map((m) => Number(m[0].replaceAll(',', '')));
  return [found[0] ?? Number.NaN, found[1] ?? Number.NaN];
}

/** The first name a message quotes: "Unknown view 'x'." → x. */
function quoted(message: string): string {
  return /'([^']*)'/.exec(message)?.[1] ?? '';
}

/**
 * The value at a field path of the query: `groupBy[1]` → its second
 * dimension, `orderBy[0].measure` → that measure, `where.country` → the key
 * itself, `country`.
 */
function namedAt(query: unknown, path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  const where = /^where\.([^[]+)/.exec(path);
  if (where !== null) return where[1];
  let value: unknown = query;
  for (const [, key, index] of path.matchAll(/([A-Za-z_]\w*)|\[(\d+)\]/g)) {
    value = (value as Record<string, unknown> | undefined)?.[key ?? Number(index)];
  }
  return typeof value === 'string' ? value : undefined;
}

function viewOf(context: RequestContext): string | undefined {
  const view = (context.query as { view?: unknown } | undefined)?.view;
  return typeof view === 'string' ? view : undefined;
}

/** Megabytes as the speed layer's message states them, back to bytes (to 0.1 MiB). */
const MIB = 2 ** 20;

const BUILDERS: Readonly<Record<string, Build>> = {
  // Definitions and events.
  unknown_event_type: (a, c) => new UnknownEventTypeError(c.eventType ?? quoted(a.message)),
  invalid_event: (a) => new InvalidEventError(a.field ?? '', a.message),
  invalid_definition: (a) => new InvalidDefinitionError(a.field ?? '', a.message),
  unknown_field: (a) => new UnknownFieldError(a.field ?? '', quoted(a.message), /event type '([^']*)'/.exec(a.message)?.[1] ?? ''),
  unknown_measure_type: (a) => new UnknownMeasureTypeError(a.field ?? '', quoted(a.message), /known types are (.*)\.$/.exec(a.message)?.[1]?.split(', ') ?? []),
  // Queries.
  invalid_query: (a) => new InvalidQueryError(a.field ?? '', a.message),
  unknown_time_zone: (a, c) => new UnknownTimeZoneError(namedAt(c.query, 'timeZone') ?? quoted(a.message)),
  time_zone_roll_up: (a, c) => new TimeZoneRollUpError(
    viewOf(c) ?? quoted(a.message), /has (\w+) buckets/.exec(a.message)?.[1] ?? '', namedAt(c.query, 'timeZone') ?? /midnights of ([^;,]+)/.exec(a.message)?.[1] ?? '',
    (/buckets, which .* with (hour|minute) buckets/.exec(a.message)?.[1] as 'hour' | 'minute' | undefined),
  ),
  unknown_view: (a, c) => new UnknownViewError(viewOf(c) ?? quoted(a.message)),
  unknown_dimension: (a, c) => new UnknownDimensionError(a.field ?? '', namedAt(c.query, a.field) ?? quoted(a.message), viewOf(c) ?? ''),
  unknown_measure: (a, c) => new UnknownMeasureError(a.field ?? '', namedAt(c.query, a.field) ?? quoted(a.message), viewOf(c) ?? ''),
  result_too_large: (a) => new ResultTooLargeError(...stated(a.message)),
  query_timeout: (a) => new QueryTimeoutError(stated(a.message)[0]),
  draining: (a) => new EngineDrainingError(quoted(a.message)),
  speed_layer_full: (a) => {
    const bytes = a.message.includes('MiB');
    const [held, limit] = stated(a.message);
    return bytes ? new SpeedLayerFullError(Math.round(held * MIB), Math.round(limit * MIB), 'bytes') : new SpeedLayerFullError(held, limit, 'keys');
  },
  // Views changed while serving.
  view_backfilling: (a, c) => {
    const number = (pattern: RegExp) => Number(pattern.exec(a.message)?.[1] ?? Number.NaN);
    const serving = /version (\d+) answers/.exec(a.message);
    return new ViewBackfillingError(viewOf(c) ?? quoted(a.message), /^View /.test(a.message) ? 1 : number(/^Version (\d+)/), number(/(\d+)% done/), serving === null ? null : Number(serving[1]));
  },
  no_view_change: (a) => new NoViewChangeError(quoted(a.message), a.message.includes('switching in')),
  view_changes_unsupported: () => new ViewChangesUnsupportedError(),
  frozen_aggregates: (a) => new FrozenAggregatesError(quoted(a.message)),
  invalid_erasure: (a) => new InvalidErasureError(a.field ?? '', a.message),
  erasure_unsupported: () => new ErasureUnsupportedError(),
  erasure_frozen_value: (a) => {
    const [view = '', measure = '', field = ''] = [...a.message.matchAll(/'([^']*)'/g)].map((m) => m[1]!);
    return new ErasureFrozenValueError(view, measure, field);
  },
  // SQL: the clause at fault is the answer's field.
  sql_syntax: (a) => new SqlSyntaxError(a.message),
  sql_too_large: (a) => new SqlTooLargeError(stated(a.message)[1], a.message),
  sql_unsupported: (a) => new UnsupportedSqlError(a.field ?? '', a.message),
  unknown_column: (a) => new UnknownColumnError(a.field ?? '', quoted(a.message), /view '([^']*)'/.exec(a.message)?.[1] ?? '', []),
  measure_misuse: (a) => new MeasureMisuseError(a.field ?? '', /'([^']*)' is an? /.exec(a.message)?.[1] ?? '', a.message),
  time_bucket_unsupported: (a) => new TimeBucketError(a.field ?? '', a.message),
  invalid_sql_value: (a) => new InvalidSqlValueError(a.field ?? '', a.message),
  sql_parameter: (a) => new SqlParameterError(a.field ?? '', a.message),
  // The log.
  log_closed: () => new LogClosedError(),
  log_write_failed: (a) => new LogWriteError('', new Error(a.message)),
  log_overloaded: (a) => new LogOverloadedError(...stated(a.message)),
  disk_full: (a) => new DiskFullError('', new Error(a.message)),
  // The server.
  malformed_body: (a) => new MalformedBodyError(a.message),
  unauthorized: (a) => new UnauthorizedError(a.message),
  forbidden: (a) => new ForbiddenError(/'(\w+)' scope/.exec(a.message)?.[1] ?? '', a.message),
  too_many_events: (a) => new TooManyEventsError(...stated(a.message)),
  body_too_large: (a) => new BodyTooLargeError(stated(a.message)[0], a.message.includes('decompressed')),
  unsupported_media_type: (a) => new UnsupportedMediaTypeError(/^Content-Type '/.test(a.message) ? quoted(a.message) : undefined, ''),
  unsupported_charset: (a) => new UnsupportedCharsetError(quoted(a.message)),
  unsupported_encoding: (a) => new UnsupportedEncodingError(quoted(a.message)),
  invalid_compression: (a) => new InvalidCompressionError(/not valid (\S+) data/.exec(a.message)?.[1] ?? ''),
  invalid_utf8: () => new InvalidUtf8Error(),
  host_not_allowed: () => new HostNotAllowedError(),
  cross_origin: () => new CrossOriginError(),
  shutting_down: () => new ShuttingDownError(),
  request_timeout: (a) => new RequestTimeoutError(duration(a.message, 'headers within'), duration(a.message, 'request within')),
  headers_too_large: (a) => new HeadersTooLargeError(stated(a.message)[0]),
  malformed_http: () => new MalformedHttpError(),
  // History files sent to the server.
  history_import_running: (a) => new HistoryImportRunningError(quoted(a.message)),
  history_upload_too_large: (a) => new HistoryUploadTooLargeError(stated(a.message)[0]),
  history_file_unreadable: (a) => {
    const [, file = '', reason = a.message] = /^History file (.*?) cannot be imported: (.*?)\.?$/.exec(a.message) ?? [];
    return new HistoryFileError(file, reason);
  },
  history_import_unsupported: (a) => new HistoryImportUnsupportedError(a.message),
};

/** A duration the message states after `label`, as '10 s' or '500 ms', in ms. */
function duration(message: string, label: string): number {
  const m = new RegExp(`${label} ([\\d,.]+) (s|ms)\\b`).exec(message);
  return m === null ? Number.NaN : Number(m[1]!.replaceAll(',', '')) * (m[2] === 's' ? 1000 : 1);
}

/**
 * The error an answer stands for, with the server's message.
 *
 * @example
 * ```ts
 * errorFromAnswer(400, { code: 'unknown_view', message: "Unknown view 'x'." }, { query: { view: 'x' } });
 * // → UnknownViewError { view: 'x', message: "Unknown view 'x'." }
 * ```
 */
export function errorFromAnswer(status: number, answer: ErrorAnswer, context: RequestContext = {}): TandemError {
  const build = Object.hasOwn(BUILDERS, answer.code) ? BUILDERS[answer.code] : undefined;
  if (build === undefined) return new TandemHttpError(answer.code, status, answer.message, answer.field);
  const error = build(answer, context);
  // The constructors compose their own sentence from the fields; the server's is the one to show.
  error.message = answer.message;
  return error;
}

/**
 * Reads an error answer's body; one that is not a Tandem error (a proxy's
 * page, an empty body) becomes `unexpected_answer` with the start of its text.
 *
 * @example
 * ```ts
 * readErrorAnswer(502, '<html>Bad Gateway</html>');   // { code: 'unexpected_answer', message: 'The server answered 502: <html>…' }
 * ```
 */
export function readErrorAnswer(status: number, text: string): ErrorAnswer {
  try {
    const error = (JSON.parse(text) as { error?: Partial<ErrorAnswer> } | null)?.error;
    if (typeof error?.code === 'string' && typeof error.message === 'string') {
      return { code: error.code, message: error.message, ...(typeof error.field === 'string' ? { field: error.field } : {}) };
    }
  } catch {
    // Not JSON: described below.
  }
  const body = text.trim().slice(0, 200);
  return { code: 'unexpected_answer', message: `The server answered ${status}${body === '' ? ' with an empty body.' : `: ${body}`}` };
}
