import { TandemError } from '../definitions/errors.ts';

/**
 * The request body cannot be read as events or as a query.
 *
 * @example
 * ```ts
 * // As the typed client throws it, from the server's answer:
 * await client.ingest('order', events).catch((error) => {
 *   if (error instanceof MalformedBodyError) console.error(error.message);
 * });
 * ```
 */
export class MalformedBodyError extends TandemError {
  readonly code = 'malformed_body';
}

/**
 * The request carries no API key, or one the server does not know.
 *
 * @example
 * ```ts
 * // As the typed client throws it, from the server's answer:
 * await client.ingest('order', events).catch((error) => {
 *   if (error instanceof UnauthorizedError) console.error(error.message);
 * });
 * ```
 */
export class UnauthorizedError extends TandemError {
  readonly code = 'unauthorized';
}

/**
 * The request's API key is valid but lacks the scope the route needs.
 *
 * @example
 * ```ts
 * // As the typed client throws it, from the server's answer:
 * await client.ingest('order', events).catch((error) => {
 *   if (error instanceof ForbiddenError) console.error(error.message);
 * });
 * ```
 */
export class ForbiddenError extends TandemError {
  readonly code = 'forbidden';
  constructor(readonly scope: string, message: string) {
    super(message);
  }
}

/**
 * A request holds more events than the server takes at once.
 *
 * @example
 * ```ts
 * // As the typed client throws it, from the server's answer:
 * await client.ingest('order', events).catch((error) => {
 *   if (error instanceof TooManyEventsError) console.error(error.message);
 * });
 * ```
 */
export class TooManyEventsError extends TandemError {
  readonly code = 'too_many_events';
  constructor(readonly events: number, readonly limit: number) {
    super(`This request holds ${events.toLocaleString('en-US')} events, more than this server's limit of ${limit.toLocaleString('en-US')} per request; send smaller batches.`);
  }
}

/**
 * A request body of a media type the route does not take (browsers send `text/plain` cross-site without asking first).
 *
 * @example
 * ```ts
 * // As the typed client throws it, from the server's answer:
 * await client.ingest('order', events).catch((error) => {
 *   if (error instanceof UnsupportedMediaTypeError) console.error(error.message);
 * });
 * ```
 */
export class UnsupportedMediaTypeError extends TandemError {
  readonly code = 'unsupported_media_type';
  constructor(readonly mediaType: string | undefined, wanted: string) {
    const what = mediaType === undefined ? 'A body without a Content-Type header' : `Content-Type '${mediaType}'`;
    super(`${what} is not accepted here; send ${wanted}.`);
  }
}

/**
 * A body declared in a charset other than UTF-8: decoding it as UTF-8 would change its text silently.
 *
 * @example
 * ```ts
 * // As the typed client throws it, from the server's answer:
 * await client.ingest('order', events).catch((error) => {
 *   if (error instanceof UnsupportedCharsetError) console.error(error.message);
 * });
 * ```
 */
export class UnsupportedCharsetError extends TandemError {
  readonly code = 'unsupported_charset';
  constructor(readonly charset: string) {
    super(`The charset '${charset}' is not supported; send text encoded as UTF-8, with charset=utf-8 or no charset.`);
  }
}

/**
 * A body compressed in a way the server does not decode.
 *
 * @example
 * ```ts
 * // As the typed client throws it, from the server's answer:
 * await client.ingest('order', events).catch((error) => {
 *   if (error instanceof UnsupportedEncodingError) console.error(error.message);
 * });
 * ```
 */
export class UnsupportedEncodingError extends TandemError {
  readonly code = 'unsupported_encoding';
  constructor(readonly encoding: string) {
    super(`Content-Encoding '${encoding}' is not supported; send the body uncompressed, or compressed with gzip or deflate.`);
  }
}

/**
 * A compressed body that does not decompress as its Content-Encoding says.
 *
 * @example
 * ```ts
 * // As the typed client throws it, from the server's answer:
 * await client.ingest('order', events).catch((error) => {
 *   if (error instanceof InvalidCompressionError) console.error(error.message);
 * });
 * ```
 */
export class InvalidCompressionError extends TandemError {
  readonly code = 'invalid_compression';
  constructor(readonly encoding: string) {
    super(`The body is not valid ${encoding} data; compress it as its Content-Encoding says, or send it uncompressed without that header.`);
  }
}

/**
 * A JSON body with bytes that are not UTF-8: replacing them would change keys and values silently.
 *
 * @example
 * ```ts
 * // As the typed client throws it, from the server's answer:
 * await client.ingest('order', events).catch((error) => {
 *   if (error instanceof InvalidUtf8Error) console.error(error.message);
 * });
 * ```
 */
export class InvalidUtf8Error extends TandemError {
  readonly code = 'invalid_utf8';
  constructor() {
    super('The body is not valid UTF-8; send JSON text encoded as UTF-8.');
  }
}

/**
 * A body over the byte limit, counted after decompression.
 *
 * @example
 * ```ts
 * // As the typed client throws it, from the server's answer:
 * await client.ingest('order', events).catch((error) => {
 *   if (error instanceof BodyTooLargeError) console.error(error.message);
 * });
 * ```
 */
export class BodyTooLargeError extends TandemError {
  readonly code = 'body_too_large';
  constructor(readonly limit: number, decompressed = false) {
    super(`The request body is larger than this server's limit of ${limit.toLocaleString('en-US')} bytes${decompressed ? ' once decompressed' : ''}; send smaller batches.`);
  }
}

/**
 * A keyless server on loopback got a request addressed to another name: a DNS-rebinding page, or a misrouted proxy.
 *
 * @example
 * ```ts
 * // As the typed client throws it, from the server's answer:
 * await client.ingest('order', events).catch((error) => {
 *   if (error instanceof HostNotAllowedError) console.error(error.message);
 * });
 * ```
 */
export class HostNotAllowedError extends TandemError {
  readonly code = 'host_not_allowed';
  constructor() {
    super('This server has no API keys, so it answers only requests addressed to localhost, 127.0.0.1 or [::1]; use one of those in the URL, or configure API keys.');
  }
}

/**
 * A keyless server on loopback got a request from a web page of another site.
 *
 * @example
 * ```ts
 * // As the typed client throws it, from the server's answer:
 * await client.ingest('order', events).catch((error) => {
 *   if (error instanceof CrossOriginError) console.error(error.message);
 * });
 * ```
 */
export class CrossOriginError extends TandemError {
  readonly code = 'cross_origin';
  constructor() {
    super('This server has no API keys, so it refuses requests from web pages of other sites; send them from a program or page on this machine, or configure API keys.');
  }
}

/**
 * The server is closing: it finishes the requests it has and takes no new ones.
 *
 * @example
 * ```ts
 * // As the typed client throws it, from the server's answer:
 * await client.ingest('order', events).catch((error) => {
 *   if (error instanceof ShuttingDownError) console.error(error.message);
 * });
 * ```
 */
export class ShuttingDownError extends TandemError {
  readonly code = 'shutting_down';
  constructor() {
    super('The server is shutting down and takes no new requests; retry in a few seconds.');
  }
}

/**
 * A client took longer than allowed to send its request's headers or its whole request.
 *
 * @example
 * ```ts
 * // As the typed client throws it, from the server's answer:
 * await client.ingest('order', events).catch((error) => {
 *   if (error instanceof RequestTimeoutError) console.error(error.message);
 * });
 * ```
 */
export class RequestTimeoutError extends TandemError {
  readonly code = 'request_timeout';
  constructor(readonly headersMs: number, readonly requestMs: number) {
    super(`The request did not arrive in time (headers within ${seconds(headersMs)}, the whole request within ${seconds(requestMs)}), so the connection was closed; send each request without pausing.`);
  }
}

/**
 * Request headers over node's size limit.
 *
 * @example
 * ```ts
 * // As the typed client throws it, from the server's answer:
 * await client.ingest('order', events).catch((error) => {
 *   if (error instanceof HeadersTooLargeError) console.error(error.message);
 * });
 * ```
 */
export class HeadersTooLargeError extends TandemError {
  readonly code = 'headers_too_large';
  constructor(readonly limit: number) {
    super(`The request headers are larger than this server's limit of ${limit.toLocaleString('en-US')} bytes; send fewer or shorter headers.`);
  }
}

/**
 * Bytes that do not parse as an HTTP/1.1 request.
 *
 * @example
 * ```ts
 * // As the typed client throws it, from the server's answer:
 * await client.ingest('order', events).catch((error) => {
 *   if (error instanceof MalformedHttpError) console.error(error.message);
 * });
 * ```
 */
export class MalformedHttpError extends TandemError {
  readonly code = 'malformed_http';
  constructor() {
    super('The request is not valid HTTP/1.1, so the connection was closed.');
  }
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

/**
 * A history file was sent while another import ran on this server: imports
 * run one at a time, and a second upload would only wait on the disk.
 *
 * @example
 * ```ts
 * // As the typed client throws it, from the server's answer:
 * await client.uploadHistory('order', 'orders-2023.parquet').catch((error) => {
 *   if (error instanceof HistoryImportRunningError) console.error(error.message);
 * });
 * ```
 */
export class HistoryImportRunningError extends TandemError {
  readonly code = 'history_import_running';
  constructor(readonly eventType: string) {
    super(`A history import into event type '${eventType}' is running on this server; send the file again once it has finished (GET /v1/status shows it under "history").`);
  }
}

/**
 * A history file sent to the server is larger than its limit for uploads
 * (`server.limits.historyBytes`, `tandem serve --history-limit`).
 *
 * @example
 * ```ts
 * // As the typed client throws it, from the server's answer:
 * await client.uploadHistory('order', 'orders-2023.parquet').catch((error) => {
 *   if (error instanceof HistoryUploadTooLargeError) console.error(`split the file: at most ${error.limit} bytes`);
 * });
 * ```
 */
export class HistoryUploadTooLargeError extends TandemError {
  readonly code = 'history_upload_too_large';
  constructor(readonly limit: number) {
    super(`The history file is larger than this server's upload limit of ${limit.toLocaleString('en-US')} bytes (server.limits.historyBytes); split it, raise the limit, or import it with the server stopped (tandem ingest --history --data).`);
  }
}
