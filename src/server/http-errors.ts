/**
 * One place that decides how an error looks over HTTP: a status code and
 * `{ "error": { "code", "message", "field"? } }`. User mistakes keep their
 * one-sentence message; anything unexpected becomes a 500 without detail, so
 * internals (paths, SQL, stack traces) never leak to clients.
 *
 * @module
 */
import { TandemError } from '../definitions/index.ts';
import { BodyTooLargeError } from './errors.ts';

export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string; readonly field?: string };
}

/** The status each Tandem error code answers with; error-responses.ts documents each route's codes by it. */
export const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  unknown_event_type: 404,
  unknown_view: 400,
  unknown_dimension: 400,
  unknown_measure: 400,
  invalid_query: 400,
  unknown_time_zone: 400,
  time_zone_roll_up: 400,
  invalid_event: 400,
  // A view definition sent to PUT /v1/views/{name}: `field` is its path (view.…).
  invalid_definition: 400,
  unknown_field: 400,
  unknown_measure_type: 400,
  malformed_body: 400,
  log_closed: 503,
  log_write_failed: 503,
  log_overloaded: 503,
  disk_full: 507,
  speed_layer_full: 503,
  unauthorized: 401,
  forbidden: 403,
  too_many_events: 413,
  result_too_large: 400,
  query_timeout: 503,
  unsupported_media_type: 415,
  unsupported_charset: 415,
  unsupported_encoding: 415,
  invalid_compression: 400,
  invalid_utf8: 400,
  body_too_large: 413,
  host_not_allowed: 421,
  cross_origin: 403,
  shutting_down: 503,
  draining: 503,
  request_timeout: 408,
  headers_too_large: 431,
  malformed_http: 400,
  // SQL over the views (src/sql): a statement that does not parse, or that a query over the views cannot answer.
  sql_syntax: 400,
  sql_too_large: 400,
  sql_unsupported: 400,
  unknown_column: 400,
  measure_misuse: 400,
  time_bucket_unsupported: 400,
  invalid_sql_value: 400,
  sql_parameter: 400,
  // A damaged or missing file of the data directory: nothing transient, but the server itself, not the request.
  data_missing: 503,
  corrupt_master_file: 503,
  // Cluster mode.
  position_wait_timeout: 503,
  append_unacknowledged: 503,
  append_rejected: 503,
  cluster_log_closed: 503,
  event_too_large: 413,
  batch_lease_held: 409,
  // The batch node restarted and waits for the lease its previous process held to expire: it passes by itself.
  batch_lease_expiring: 503,
  batch_fenced: 409,
  view_not_ready: 503,
  // Views changed while serving.
  view_backfilling: 503,
  view_changes_unsupported: 501,
  no_view_change: 409,
  frozen_aggregates: 409,
  // Erasures.
  invalid_erasure: 400,
  erasure_unsupported: 501,
  erasure_frozen_value: 409,
  erasure_not_served: 503,
  erasure_pending: 503,
  // History files sent to a running server (POST /v1/history/{eventType}).
  history_import_running: 409,
  history_upload_too_large: 413,
  history_file_unreadable: 400,
  history_import_unsupported: 501,
  cluster_record_invalid: 503,
  archive_damaged: 503,
  cluster_bucket_missing: 503,
  bucket_stalled: 503,
  cluster_bucket_broken: 503,
  log_behind_archive: 503,
  // A query's speed layer gathered from the partitions' owners: some could not be read, or new versions kept coming.
  partitions_unavailable: 503,
  served_version_changing: 503,
  share_too_large: 400,
  remote_share_failed: 502,
  share_message_invalid: 502,
  // A batch cycle asked of the lease's holder: it cannot be reached, or went silent, or is still running; or it failed there, or answered garbage.
  batch_holder_unreachable: 503,
  batch_holder_silent: 503,
  batch_request_timeout: 503,
  remote_batch_failed: 502,
  batch_message_invalid: 502,
};

/** Fastify's own errors (bad JSON, body too large, wrong media type) carry a 4xx status and a safe message. */
interface FrameworkError {
  readonly statusCode?: number;
  readonly code?: string;
  readonly message: string;
}

/** Framework messages that say too little to act on, replaced by ones that say what to do. */
function frameworkMessage(error: FrameworkError, bodyLimit: number): string {
  switch (error.statusCode) {
    case 413: return new BodyTooLargeError(bodyLimit).message;
    case 414: return 'A name in the URL is too long; event type names have at most 64 characters.';
    case 415: return 'Send events as application/x-ndjson (one JSON event per line) or application/json (an array), and queries as application/json.';
    default: return sentence(error.message);
  }
}

/** Engine messages that name files or OS errors: logged by the server, replaced by a safe sentence for clients. */
const SAFE_MESSAGES: Readonly<Record<string, string>> = {
  log_write_failed: 'The server could not write to its event log, so nothing in this request was stored; try again later.',
  log_closed: 'The server is shutting down and accepts no more events; try again when it is back.',
  disk_full: "The server's disk is full, so nothing was written; retry once space has been freed.",
  data_missing: "A file of the server's data directory is missing, so no batch run can go ahead; its log names the file, and 'tandem repair' rebuilds it.",
  corrupt_master_file: "A file of the server's master dataset is damaged, so no batch run can go ahead; its log names the file to restore.",
};

/** Seconds a client should wait before retrying, per temporary failure: an overload clears fast, a failing disk or a restart less so. */
export const RETRY_AFTER: Readonly<Record<string, number>> = { log_overloaded: 1, log_write_failed: 5, log_closed: 5, disk_full: 10, speed_layer_full: 5, shutting_down: 5, draining: 5, position_wait_timeout: 1, append_unacknowledged: 5, cluster_log_closed: 5, view_not_ready: 5, view_backfilling: 5, cluster_record_invalid: 5, archive_damaged: 10, cluster_bucket_missing: 10, bucket_stalled: 5, cluster_bucket_broken: 5, log_behind_archive: 5, batch_holder_unreachable: 5, batch_holder_silent: 5, batch_request_timeout: 10, batch_lease_expiring: 15, partitions_unavailable: 5, served_version_changing: 1, erasure_not_served: 5, erasure_pending: 5 };

export interface HttpError {
  readonly status: number;
  readonly body: ErrorBody;
  /** Headers the answer needs: Retry-After on a 503, WWW-Authenticate on a 401. */
  readonly headers: Readonly<Record<string, string>>;
}

const NO_HEADERS = {};

/**
 * The sentence a client may read: a safe one for codes whose messages name
 * files. An error that carries another node's code and sentence (a batch
 * cycle that failed on the lease's holder) has that sentence filtered alike,
 * since it names that node's files.
 */
function safeMessage(error: TandemError): string {
  const own = SAFE_MESSAGES[error.code];
  if (own !== undefined) return own;
  const { remoteCode, remoteMessage } = error as { remoteCode?: unknown; remoteMessage?: unknown };
  if (typeof remoteCode !== 'string' || typeof remoteMessage !== 'string' || !Object.hasOwn(SAFE_MESSAGES, remoteCode)) return error.message;
  return error.message.replace(remoteMessage, () => SAFE_MESSAGES[remoteCode]!);
}

const DEFINITION_CODES: ReadonlySet<string> = new Set(['invalid_definition', 'unknown_field', 'unknown_measure_type', 'invalid_erasure']);

export function httpError(error: unknown, bodyLimit: number): HttpError {
  if (error instanceof TandemError && RETRY_AFTER[error.code] !== undefined) {
    const message = safeMessage(error);
    return { status: STATUS_BY_CODE[error.code] ?? 503, body: { error: { code: error.code, message } }, headers: { 'retry-after': String(retryAfterSeconds(error)) } };
  }
  if (error instanceof TandemError && error.code === 'unauthorized') {
    return { status: 401, body: { error: { code: error.code, message: error.message } }, headers: { 'www-authenticate': 'Bearer realm="tandem"' } };
  }
  if (error instanceof TandemError) {
    // A definition's error names its path (`view.measures.x.field`), a query's its field.
    const field = DEFINITION_CODES.has(error.code) ? (error as { path?: unknown }).path : (error as { field?: unknown }).field;
    const status = STATUS_BY_CODE[error.code] ?? 500;
    if (status === 500) return internal();
    const message = safeMessage(error);
    return { status, body: { error: { code: error.code, message, ...(typeof field === 'string' ? { field } : {}) } }, headers: NO_HEADERS };
  }
  const framework = error as FrameworkError;
  if (typeof framework.statusCode === 'number' && framework.statusCode >= 400 && framework.statusCode < 500) {
    return { status: framework.statusCode, body: { error: { code: frameworkCode(framework), message: frameworkMessage(framework, bodyLimit) } }, headers: NO_HEADERS };
  }
  return internal();
}

/**
 * Seconds to wait before retrying: the error's own wait when it knows how
 * long the condition lasts (`retryAfterMs`: a lease that expires at a known
 * time), rounded up and at least one; else the one for its code.
 */
function retryAfterSeconds(error: TandemError): number {
  const { retryAfterMs } = error as { retryAfterMs?: unknown };
  if (typeof retryAfterMs === 'number' && Number.isFinite(retryAfterMs)) return Math.max(1, Math.ceil(retryAfterMs / 1000));
  return RETRY_AFTER[error.code]!;
}

function internal(): HttpError {
  return { status: 500, body: { error: { code: 'internal', message: 'The server failed to handle the request; see its log.' } }, headers: NO_HEADERS };
}

function frameworkCode(error: FrameworkError): string {
  switch (error.statusCode) {
    case 413: return 'body_too_large';
    case 414: return 'url_too_long';
    case 415: return 'unsupported_media_type';
    case 404: return 'not_found';
    default: return 'bad_request';
  }
}

function sentence(message: string): string {
  const trimmed = message.trim();
  return /[.!?]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}
