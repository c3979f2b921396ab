/**
 * What a client can be told: where the server is, its key, how long to wait
 * out temporary refusals, and how many events to send per request.
 *
 * @module
 */
import type { HistoryFileFormat } from './history-body.ts';
import type { IngestResult } from '../engine/engine-types.ts';

/**
 * How a client waits out 503 and 507 answers that carry `Retry-After`.
 *
 * @example
 * ```ts
 * const retry: RetryOptions = { maxWaitMs: 600_000, onRetry: (r) => console.warn(`${r.code}: retrying in ${r.waitMs} ms`) };
 * ```
 */
export interface RetryOptions {
  /**
   * The most time one call spends waiting before it gives up and throws the
   * server's error (for an ingest, per request of its batches). A wait that
   * would pass it is not started. Default 60,000 ms.
   */
  readonly maxWaitMs?: number;
  /** Called before each wait, e.g. to log it. */
  readonly onRetry?: (retry: RetryNotice) => void;
}

/**
 * One wait for a temporary refusal, as `onRetry` hears of it.
 *
 * @example
 * ```ts
 * const notice: RetryNotice = { status: 503, code: 'speed_layer_full', waitMs: 5_000, attempt: 1 };
 * ```
 */
export interface RetryNotice {
  /** The answer's status: 503, 507 (or 429 from a proxy). */
  readonly status: number;
  /** The answer's error code, e.g. `log_overloaded`, `speed_layer_full`, `disk_full`. */
  readonly code: string;
  readonly waitMs: number;
  /** 1 for the first retry of a request. */
  readonly attempt: number;
}

/**
 * Options of {@link createClient}.
 *
 * @example
 * ```ts
 * const options: ClientOptions = { url: 'http://127.0.0.1:7070', apiKey: process.env.TANDEM_API_KEY, batchSize: 5_000, retry: { maxWaitMs: 600_000 } };
 * ```
 */
export interface ClientOptions {
  /** The server's base URL, e.g. `http://127.0.0.1:7070` (a path prefix is kept). */
  readonly url: string | URL;
  /** Sent as `Authorization: Bearer <key>`, for a server with API keys. */
  readonly apiKey?: string;
  /** Events per ingest request; larger ingests go in several. Default 1,000. Made smaller when the server refuses a batch as too large. */
  readonly batchSize?: number;
  /** How temporary refusals (503/507 with `Retry-After`) are waited out; `false` throws them at once. */
  readonly retry?: RetryOptions | false;
  /** The `fetch` to use (a test double, or one with a proxy agent). Default: the global one. */
  readonly fetch?: typeof fetch;
  /** Headers to add to every request. */
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * Options of one call.
 *
 * @example
 * ```ts
 * await client.status({ signal: AbortSignal.timeout(2_000) });
 * ```
 */
export interface RequestOptions {
  /** Aborts the call, waits for retries included; the promise rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

/**
 * Options of one ingest.
 *
 * @example
 * ```ts
 * await client.ingest('order', orders, { batchSize: 10_000, onBatch: (p) => console.log(`${p.sent}/${p.total}`) });
 * ```
 */
export interface IngestOptions extends RequestOptions {
  /** Events per request for this call; default the client's `batchSize`. */
  readonly batchSize?: number;
  /**
   * Called after each batch the server has stored (durable and visible).
   * If a later batch fails, the events before `sent` are stored and the rest
   * are not: resend from `sent` (or everything, to an event type with an
   * idempotency key).
   */
  readonly onBatch?: (progress: IngestProgress) => void;
}

/**
 * How far an ingest has got, as `onBatch` hears of it.
 *
 * @example
 * ```ts
 * const onBatch = ({ batch, sent, total }: IngestProgress) => console.log(`${sent}/${total}: ${batch.rejected.length} rejected`);
 * ```
 */
export interface IngestProgress {
  /** What the server answered for this batch; rejected indexes are positions in the whole call. */
  readonly batch: IngestResult;
  /** Events sent and answered so far. */
  readonly sent: number;
  readonly total: number;
}

/** Events per ingest request unless told otherwise: small enough for any server's limits, large enough to amortize a request. */
export const DEFAULT_BATCH_SIZE = 1_000;
/** How long one call waits out temporary refusals unless told otherwise. */
export const DEFAULT_MAX_WAIT_MS = 60_000;

/**
 * Options of one history upload.
 *
 * @example
 * ```ts
 * await client.uploadHistory('order', 'orders-2023.parquet', { onBytes: (sent, total) => console.log(`${sent}/${total ?? '?'} bytes`) });
 * ```
 */
export interface UploadHistoryOptions extends RequestOptions {
  /** The file's format; by default its name's extension says it (.parquet, .csv, .ndjson, .jsonl, .json). */
  readonly format?: HistoryFileFormat;
  /** The name the answer and the server's status give the file; by default a path's last segment. */
  readonly name?: string;
  /** Told of the bytes sent so far, and of the file's size when known, as the body is taken. */
  readonly onBytes?: (sent: number, total: number | undefined) => void;
}
