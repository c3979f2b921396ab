/**
 * `POST /v1/history/{eventType}`: a history file (Parquet, CSV, NDJSON or a
 * JSON array) sent to a running embedded server as the raw request body,
 * streamed to a temporary file in the data directory's `uploads/` (never held
 * in memory, and at most `server.limits.historyBytes` of it), then imported
 * by `importHistory` as `tandem ingest --history --data` would, and removed
 * whatever happens. One import runs at a time; `GET /v1/status` follows it.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { UnknownEventTypeError } from '../definitions/index.ts';
import type { HistoryImportSummary, ServedEngine } from '../engine/index.ts';
import { HistoryFileError, HistoryImportUnsupportedError } from '../master/index.ts';
import { dataDirectory } from '../util/data-directory.ts';
import { decodeContent, printable } from './content-encoding.ts';
import { BodyTooLargeError, HistoryUploadTooLargeError, MalformedBodyError, UnsupportedMediaTypeError } from './errors.ts';
import type { HistoryUploadTracker, Upload } from './history-progress.ts';
import { routeOptions, type RouteContract } from './route-contract.ts';
import { parseContentType } from './media-types.ts';

/** A history file's format, as `formatOf` tells it by the file's extension. */
export type UploadFormat = 'parquet' | 'csv' | 'ndjson' | 'json';

const FORMATS: readonly UploadFormat[] = ['parquet', 'csv', 'ndjson', 'json'];

/**
 * The media types taken, and the format each says (`undefined`: the `format`
 * parameter says it). No type a web page may send cross-site without the
 * browser asking first (`text/plain`, forms) is among them.
 */
const MEDIA_TYPES: ReadonlyMap<string, UploadFormat | undefined> = new Map([
  ['application/vnd.apache.parquet', 'parquet'], ['application/x-parquet', 'parquet'], ['text/csv', 'csv'],
  ['application/x-ndjson', 'ndjson'], ['application/json', 'json'], ['application/octet-stream', undefined],
]);

const WANTED = 'the file as application/vnd.apache.parquet, text/csv, application/x-ndjson or application/json (or application/octet-stream with ?format=parquet, csv, ndjson or json)';

/** The route's contract, its path parameter listing the catalog's event types as the ingest route's does. */
const historyContract = (eventTypes: readonly string[]): RouteContract => ({
  operationId: 'importHistory',
  summary: 'Import a history file into the master dataset of a running server, then publish it with one batch cycle; answers once every query counts its events.',
  description: 'The body is the file itself, streamed to the data directory\'s disk (never held in memory) up to the server\'s history limit (server.limits.historyBytes, default 10 GiB), gzip or deflate Content-Encoding allowed; '
    + 'it must arrive within the request timeout (tandem serve --request-timeout). Rows are checked as live events are; with an idempotency key, rows stored already are counted as duplicates, so sending a file twice adds nothing. '
    + 'One import runs at a time; GET /v1/status shows it under "history". A cluster node answers 501: import with tandem ingest --history --nats.',
  scope: 'ingest',
  params: { type: 'object', required: ['eventType'], properties: { eventType: { enum: eventTypes, description: 'An event type of the config.' } } },
  querystring: {
    type: 'object',
    properties: {
      format: { enum: FORMATS, description: 'The file\'s format, if the Content-Type does not say it (application/octet-stream); it wins over the Content-Type.' },
      name: { type: 'string', maxLength: 200, description: 'The file\'s name, as the answer and /v1/status name it: its last path segment, in printable ASCII, cut to 64 characters (default upload.<format>).' },
    },
  },
  body: {
    content: {
      'application/vnd.apache.parquet': { schema: { type: 'string', format: 'binary' } },
      'text/csv': { schema: { type: 'string', description: 'With a header row naming the fields.' } },
      'application/x-ndjson': { schema: { type: 'string', description: 'One JSON event per line.' } },
      'application/json': { schema: { type: 'string', description: 'A JSON array of events.' } },
      'application/octet-stream': { schema: { type: 'string', format: 'binary', description: 'Any of the above, with ?format= saying which.' } },
    },
  },
  answer: { description: 'What the import did, and the batch version that published it.', content: { 'application/json': { schema: { $ref: 'HistoryImportSummary#' } } } },
  errors: [
    'unknown_event_type', 'url_too_long', 'unsupported_media_type', 'unsupported_encoding', 'invalid_compression', 'malformed_body', 'history_upload_too_large',
    'history_import_running', 'history_file_unreadable', 'history_import_unsupported', 'log_closed', 'log_write_failed', 'disk_full', 'data_missing', 'corrupt_master_file',
  ],
  notes: {
    400: 'The file cannot be read as its format (history_file_unreadable names it), is empty, or its compression is broken.',
    404: 'No event type of that name.',
    409: 'Another history import is running on this server; send the file again once it has finished.',
    413: 'The file is larger than the server\'s history limit (server.limits.historyBytes).',
    415: 'A media type that says no format, or application/octet-stream without ?format=, or a Content-Encoding other than gzip and deflate.',
    501: 'Cluster mode: a node takes no history upload; import with tandem ingest --history --nats URLS --config FILE --url NODE.',
  },
});

export interface HistoryRouteOptions {
  readonly tandem: ServedEngine;
  readonly tracker: HistoryUploadTracker;
  /** The largest file taken, in bytes. */
  readonly limit: number;
  /** Whether the server requires API keys. */
  readonly keys: boolean;
}

interface HistoryRequest {
  Params: { eventType: string };
  Querystring: { format?: string; name?: string };
}

/**
 * Declares the route, in a scope of its own whose only body parser hands
 * the raw stream on, so that no other route takes a file.
 *
 * @example
 * ```ts
 * registerHistoryRoute(api, { tandem, tracker: new HistoryUploadTracker(), limit: limits.historyBytes, keys: access.enabled });
 * ```
 */
export function registerHistoryRoute(app: FastifyInstance, options: HistoryRouteOptions): void {
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
    scope.post<HistoryRequest>('/v1/history/:eventType', routeOptions(historyContract([...options.tandem.catalog.eventTypes.keys()]), options.keys), (request) => receive(request, options));
  });
}

/** Checks what can be checked before a byte is read, then takes the file in and imports it. */
async function receive(request: FastifyRequest<HistoryRequest>, options: HistoryRouteOptions): Promise<HistoryImportSummary> {
  const { tandem, tracker, limit } = options;
  const { eventType } = request.params;
  if (!tandem.catalog.eventTypes.has(eventType)) throw new UnknownEventTypeError(eventType);
  if (tandem.importHistory === undefined) throw new HistoryImportUnsupportedError();
  const format = uploadFormat(request.headers['content-type'], request.query.format);
  if (Number(request.headers['content-length'] ?? 0) > limit) throw new HistoryUploadTooLargeError(limit);
  if (request.body === undefined || request.body === null) throw new MalformedBodyError('The body is empty; send the history file as the body.');
  const body = decodeContent(request.body as Readable, request.headers['content-encoding'], limit);
  const name = uploadName(request.query.name, format);
  const upload = tracker.begin(eventType, name);
  const dir = dataDirectory(tandem.dataDir).uploads;
  const path = join(dir, `${randomUUID()}.${format}`);
  try {
    // Left by a server stopped during an upload: this server runs one upload at a time, so none is another's.
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    await receiveFile(body, path, limit, upload);
    const summary = await tandem.importHistory(eventType, [path], { onProgress: (p) => upload.imported(p) }).catch((error: unknown) => {
      throw error instanceof HistoryFileError ? new HistoryFileError(name, error.reason, { cause: error }) : error;
    });
    return { ...summary, files: summary.files.map((f) => ({ ...f, file: name })), skipped: [] };
  } finally {
    await rm(path, { force: true });
    upload.end();
  }
}

/** Writes the body to `path`, counting its bytes into `upload`, and refuses it past `limit` bytes. */
async function receiveFile(body: Readable, path: string, limit: number, upload: Upload): Promise<void> {
  let received = 0;
  const count = new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      received += chunk.length;
      if (received > limit) return callback(new HistoryUploadTooLargeError(limit));
      upload.received(chunk.length);
      return callback(null, chunk);
    },
  });
  try {
    await pipeline(body, count, createWriteStream(path));
  } catch (error) {
    // A compressed body is cut at the limit as it is decoded, with the body's own error.
    throw error instanceof BodyTooLargeError ? new HistoryUploadTooLargeError(limit) : error;
  }
  if (received === 0) throw new MalformedBodyError('The body is empty; send the history file as the body.');
}

/** The format the `format` parameter, else the Content-Type, says; refused (415) when neither says one. */
export function uploadFormat(contentType: string | undefined, format: string | undefined): UploadFormat {
  const mediaType = contentType === undefined ? undefined : parseContentType(contentType).mediaType;
  if (mediaType === undefined || !MEDIA_TYPES.has(mediaType)) throw new UnsupportedMediaTypeError(mediaType === undefined ? undefined : printable(mediaType), WANTED);
  if (format !== undefined) {
    if (!(FORMATS as readonly string[]).includes(format)) throw new UnsupportedMediaTypeError(printable(mediaType), WANTED);
    return format as UploadFormat;
  }
  const said = MEDIA_TYPES.get(mediaType);
  if (said === undefined) throw new UnsupportedMediaTypeError(printable(mediaType), WANTED);
  return said;
}

/** The name the client gave the file (its last path segment, printable), or `upload.<format>`. */
function uploadName(given: string | undefined, format: UploadFormat): string {
  const name = given === undefined ? '' : printable(basename(given.replaceAll('\\', '/')));
  return name === '' || name === '.' || name === '..' ? `upload.${format}` : name;
}
