/**
 * The typed client of a Tandem server: the same definitions that configure
 * the engine type its events, queries and rows.
 *
 * @module
 */
import type { EventOf, EventTypeName, TandemConfig, ViewJson, ViewName, ViewOf } from '../definitions/definition-types.ts';
import type { BatchSummary, ErasureAudit, IngestResult, ViewChangeAnswer } from '../engine/engine-types.ts';
import type { HistoryImportSummary } from '../engine/history-import-types.ts';
import type { ErasureRequest } from '../definitions/index.ts';
import type { DimensionName, Query, QueryGranularityFor, QueryResult, QueryRowOf, ViewQuery } from '../serving/query.ts';
import type { SqlResult } from '../sql/sql-answer.ts';
import type { SqlRequest } from '../sql/sql-runner.ts';
import type { ServerDefinitions, ServerStatus } from './answer-types.ts';
import { DEFAULT_BATCH_SIZE, type ClientOptions, type IngestOptions, type RequestOptions, type UploadHistoryOptions } from './client-options.ts';
import { baseName, counted, formatOfName, HISTORY_MEDIA_TYPES, historyBody, type HistoryFile } from './history-body.ts';
import { HttpTransport } from './http-transport.ts';
import { NOTHING_INGESTED, sendInBatches } from './ingest-batches.ts';

/**
 * A client of one Tandem server. `C` is the config's type (`typeof config`
 * for a config from `defineConfig`): event type names, events, views,
 * dimensions and measures are checked against it, and rows come back typed.
 * Without it, names are strings and rows are {@link QueryRow}s.
 *
 * Error answers throw the engine's and the server's own error classes
 * (`UnknownViewError`, `InvalidQueryError`, `SpeedLayerFullError`,
 * `UnauthorizedError`, …), chosen by the answer's code; a code without a
 * class throws a {@link TandemHttpError}, an unreachable server a
 * {@link ServerUnreachableError}.
 *
 * @example
 * ```ts
 * import { createClient } from 'tandem/client';
 * import type config from './tandem.config.ts';
 *
 * const client = createClient<typeof config>({ url: 'http://127.0.0.1:7070', apiKey: process.env.TANDEM_API_KEY });
 * const { lastOffset } = await client.ingest('order', [{ orderId: 'o1', at: Date.now(), country: 'DE', amount: 19.99 }]);
 * const { rows } = await client.query({ view: 'revenue_by_country', groupBy: ['country'], granularity: 'all' });
 * rows[0]?.revenue;   // number | string
 * ```
 */
// `any` as the default, as for `Tandem`: a typed client must be assignable to a plain `TandemClient`.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface TandemClient<C extends TandemConfig = any> {
  /** The server's base URL. */
  readonly url: string;

  /**
   * Sends events of one type; resolves once the accepted ones are durable
   * and visible to queries. Large arrays go in batches (the client's
   * `batchSize`, default 1,000 events), one request at a time, in order.
   * Invalid events are rejected one by one (`rejected[].index` is the
   * position in `events`); the rest are stored. `firstOffset` and
   * `lastOffset` are the log positions of the first and last event this call
   * stored (null if it stored none, and in cluster mode). `position` says
   * where they are, in either mode: `answerIncludes(meta, position)` tells
   * whether an answer includes them, and a query with `after: position`
   * waits for them. An empty array sends nothing. With a typed
   * client, `eventType` is one of the config's event types and each event is
   * checked against its fields (`EventOf<C, E>`) at compile time.
   *
   * @example
   * ```ts
   * const r = await client.ingest('order', orders, { onBatch: (p) => console.log(`${p.sent}/${p.total}`) });
   * console.log(r.accepted, r.duplicates, r.rejected, r.lastOffset);
   * ```
   */
  // One signature, no overloads: a misspelt name then fails against the list of names, not against a fallback.
  ingest<const E extends EventTypeName<C>>(eventType: E, events: readonly EventOf<C, E>[], options?: IngestOptions): Promise<IngestResult>;

  /**
   * {@link TandemClient.ingest} for an event type only known at run time (a
   * `string`), or events of no known shape: only the server checks them.
   *
   * @example
   * ```ts
   * const type: string = process.argv[2]!;
   * await client.ingestUntyped(type, JSON.parse(text));
   * ```
   */
  ingestUntyped(eventType: string, events: readonly unknown[], options?: IngestOptions): Promise<IngestResult>;

  /**
   * Sends a history file (Parquet, CSV, NDJSON or a JSON array) to the
   * running server (`POST /v1/history/{eventType}`; needs the `ingest`
   * scope), which imports it straight into its master dataset and publishes
   * it with one batch cycle: resolves with the import's summary once every
   * answer counts its events. Rows are checked as live events are; with an
   * idempotency key, a file sent twice adds nothing the second time. The
   * file is streamed from a path (Node), a `Blob`, bytes or a stream, never
   * read whole into memory; its format comes from `options.format`, else
   * from its name. One import runs at a time on a server: a second is
   * refused with `HistoryImportRunningError`, a file past the server's limit
   * with `HistoryUploadTooLargeError`. While it runs, `status().history`
   * says where it is. A cluster node refuses it (`HistoryImportUnsupportedError`):
   * import into a cluster with `tandem ingest --history --nats`.
   *
   * @example
   * ```ts
   * const summary = await client.uploadHistory('order', 'exports/orders-2023.parquet', {
   *   onBytes: (sent, total) => console.log(`${sent} of ${total} bytes sent`),
   * });
   * console.log(`${summary.imported} imported, ${summary.duplicates} already stored, ${summary.rejected} rejected`);
   * await client.uploadHistory('order', createReadStream('orders.csv.part'), { format: 'csv', name: 'orders.csv' });
   * ```
   */
  uploadHistory(eventType: EventTypeName<C>, file: HistoryFile, options?: UploadHistoryOptions): Promise<HistoryImportSummary>;

  /**
   * Answers a query over one view (`POST /v1/query`). A query that names its
   * view literally is checked against the config, and its rows are typed: the
   * grouped dimensions, `time` unless the granularity is `all`, and every
   * measure. A query whose view is only known at run time goes through
   * {@link TandemClient.queryUntyped}.
   *
   * @example
   * ```ts
   * const { rows, meta } = await client.query({
   *   view: 'revenue_by_country', groupBy: ['country'], granularity: 'all',
   *   orderBy: [{ measure: 'revenue', desc: true }], limit: 10,
   * });
   * // rows: readonly { country: string | null; orders: number; revenue: number | string; … }[]
   * const billed = await client.query({ view: 'revenue_by_country', granularity: 'all', numbers: 'text' });
   * // billed.rows: readonly { orders: string; revenue: string; … }[]: every count and sum exact decimal text
   * ```
   */
  query<
    const N extends ViewName<C>,
    const D extends readonly DimensionName<C, N>[] = readonly [],
    const G extends QueryGranularityFor<ViewOf<C, N>['granularity']> | undefined = undefined,
    // JSON has no bigint: over HTTP, counts and sums come as numbers or as text.
    const F extends 'auto' | 'text' | undefined = undefined,
  >(query: ViewQuery<C, N, D, G, F>, options?: RequestOptions): Promise<QueryResult<QueryRowOf<C, N, D, G, F>>>;

  /**
   * {@link TandemClient.query} for a query only known at run time (its
   * `view` a `string`, say from a request): the server checks it, and its
   * rows are untyped.
   *
   * @example
   * ```ts
   * const q: Query = JSON.parse(body);
   * const { rows } = await client.queryUntyped(q);   // rows: readonly QueryRow[]
   * ```
   */
  queryUntyped(query: Query, options?: RequestOptions): Promise<QueryResult>;

  /**
   * Answers one SQL SELECT over a view (`POST /v1/sql`), merged as a JSON
   * query is: its columns (names and PostgreSQL types), its rows as arrays
   * in column order, and the same `meta`. A refusal throws the SQL layer's
   * class (`MeasureMisuseError`, `UnsupportedSqlError`, …) naming the clause.
   *
   * @example
   * ```ts
   * const { columns, rows } = await client.sql({ sql: 'SELECT country, sum(revenue) FROM revenue_by_country WHERE time >= $1 GROUP BY country', params: ['2024-05-01'] });
   * ```
   */
  sql(request: SqlRequest, options?: RequestOptions): Promise<SqlResult>;

  /**
   * Runs a batch cycle now, or joins the running one (`POST /v1/batch`; needs the `admin` scope).
   *
   * @example
   * ```ts
   * const { version, cutoff, durationMs } = await client.batch();
   * ```
   */
  batch(options?: RequestOptions): Promise<BatchSummary>;

  /**
   * The server's status (`GET /v1/status`; needs the `admin` scope).
   *
   * @example
   * ```ts
   * const { logEnd, batch, speed } = await client.status();
   * ```
   */
  status(options?: RequestOptions): Promise<ServerStatus>;

  /**
   * The event types and views the server runs (`GET /v1/views`), as JSON config.
   *
   * @example
   * ```ts
   * const { eventTypes, views } = await client.views();
   * ```
   */
  views(options?: RequestOptions): Promise<ServerDefinitions>;

  /**
   * Adds a view, or replaces the view of its name, while the server serves
   * (`PUT /v1/views/{name}`; needs the `admin` scope). The old definition
   * answers until the new one is backfilled and switched in; follow it in
   * `status().viewChanges`.
   *
   * @example
   * ```ts
   * const { version } = await client.applyView({ name: 'by_plan', eventType: 'order', dimensions: ['plan'], granularity: 'day', measures: { orders: { type: 'count' } } });
   * ```
   */
  applyView(view: ViewJson, options?: RequestOptions): Promise<ViewChangeAnswer>;

  /**
   * Drops a view at once (`DELETE /v1/views/{name}`; needs the `admin` scope).
   *
   * @example
   * ```ts
   * await client.dropView('by_plan');
   * ```
   */
  dropView(name: string, options?: RequestOptions): Promise<ViewChangeAnswer>;

  /**
   * Cancels a view's change under way (`DELETE /v1/views/{name}/change`; needs the `admin` scope): the definition served stays.
   *
   * @example
   * ```ts
   * await client.cancelViewChange('by_plan');
   * ```
   */
  cancelViewChange(name: string, options?: RequestOptions): Promise<ViewChangeAnswer>;

  /**
   * Erases the events of one event type whose fields equal the values given
   * from every layer (`POST /v1/erase`; needs the `admin` scope); resolves
   * once no answer counts them, with the audit record kept of it.
   *
   * @example
   * ```ts
   * const { events } = await client.erase({ eventType: 'order', where: { customer: 'c-123' } });
   * ```
   */
  erase(request: ErasureRequest, options?: RequestOptions): Promise<ErasureAudit>;

  /**
   * The audit records of the erasures done, oldest first (`GET /v1/erasures`; needs the `admin` scope).
   *
   * @example
   * ```ts
   * for (const { by, requestedAt, events } of await client.erasures()) console.log(by, requestedAt, events);
   * ```
   */
  erasures(options?: RequestOptions): Promise<ErasureAudit[]>;
}

/**
 * Makes a client of the server at `options.url`. It holds no connection of
 * its own (requests go through `fetch`), so there is nothing to close.
 *
 * @example
 * ```ts
 * import { createClient } from 'tandem/client';
 * import type config from './tandem.config.ts';
 *
 * const typed = createClient<typeof config>({ url: 'http://127.0.0.1:7070' });
 * const untyped = createClient({ url: 'http://127.0.0.1:7070' });   // names are strings, rows QueryRow
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function createClient<C extends TandemConfig = any>(options: ClientOptions): TandemClient<C> {
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer, not ${String(batchSize)}.`);
  const client: TandemClient = new HttpClient(new HttpTransport(options), batchSize);
  return client;
}

class HttpClient {
  readonly #transport: HttpTransport;
  readonly #batchSize: number;
  /** The server's events-per-request limit, once a refusal stated it. */
  #serverLimit = Number.POSITIVE_INFINITY;

  constructor(transport: HttpTransport, batchSize: number) {
    this.#transport = transport;
    this.#batchSize = batchSize;
  }

  get url(): string {
    return this.#transport.baseUrl;
  }

  async ingest(eventType: string, events: readonly unknown[], options: IngestOptions = {}): Promise<IngestResult> {
    if (events.length === 0) return NOTHING_INGESTED;
    const path = `v1/events/${encodeURIComponent(eventType)}`;
    const send = (batch: readonly unknown[]) => this.#transport.send<IngestResult>({
      method: 'POST', path, body: { mediaType: 'application/x-ndjson', text: ndjson(batch) }, context: { eventType },
    }, options.signal);
    const size = Math.min(options.batchSize ?? this.#batchSize, this.#serverLimit);
    return sendInBatches(events, size, send, (limit) => (this.#serverLimit = Math.min(this.#serverLimit, limit)), options.onBatch);
  }

  ingestUntyped(eventType: string, events: readonly unknown[], options: IngestOptions = {}): Promise<IngestResult> {
    return this.ingest(eventType, events, options);
  }

  async uploadHistory(eventType: string, file: HistoryFile, options: UploadHistoryOptions = {}): Promise<HistoryImportSummary> {
    const name = options.name ?? (typeof file === 'string' ? baseName(file) : undefined);
    const format = options.format ?? (name === undefined ? undefined : formatOfName(name));
    if (format === undefined) throw new TypeError(`The format of history file ${name ?? '(a stream)'} is unknown: name it .parquet, .csv, .ndjson, .jsonl or .json, or pass options.format.`);
    const { stream, bytes } = await historyBody(file);
    let sent = 0;
    const body = options.onBytes === undefined ? stream : counted(stream, (n) => options.onBytes!((sent += n), bytes));
    const query = new URLSearchParams({ format, ...(name === undefined ? {} : { name }) });
    return this.#transport.send({
      method: 'POST', path: `v1/history/${encodeURIComponent(eventType)}?${query}`, body: { mediaType: HISTORY_MEDIA_TYPES[format], stream: body }, context: { eventType },
    }, options.signal);
  }

  query(query: Query, options: RequestOptions = {}): Promise<QueryResult> {
    return this.#transport.send({ method: 'POST', path: 'v1/query', body: json(query), context: { query } }, options.signal);
  }

  queryUntyped(query: Query, options: RequestOptions = {}): Promise<QueryResult> {
    return this.query(query, options);
  }

  sql(request: SqlRequest, options: RequestOptions = {}): Promise<SqlResult> {
    return this.#transport.send({ method: 'POST', path: 'v1/sql', body: json(request) }, options.signal);
  }

  batch(options: RequestOptions = {}): Promise<BatchSummary> {
    return this.#transport.send({ method: 'POST', path: 'v1/batch', body: json({}) }, options.signal);
  }

  status(options: RequestOptions = {}): Promise<ServerStatus> {
    return this.#transport.send({ method: 'GET', path: 'v1/status' }, options.signal);
  }

  views(options: RequestOptions = {}): Promise<ServerDefinitions> {
    return this.#transport.send({ method: 'GET', path: 'v1/views' }, options.signal);
  }

  applyView(view: ViewJson, options: RequestOptions = {}): Promise<ViewChangeAnswer> {
    return this.#transport.send({ method: 'PUT', path: `v1/views/${encodeURIComponent(view.name)}`, body: json(view) }, options.signal);
  }

  dropView(name: string, options: RequestOptions = {}): Promise<ViewChangeAnswer> {
    return this.#transport.send({ method: 'DELETE', path: `v1/views/${encodeURIComponent(name)}` }, options.signal);
  }

  cancelViewChange(name: string, options: RequestOptions = {}): Promise<ViewChangeAnswer> {
    return this.#transport.send({ method: 'DELETE', path: `v1/views/${encodeURIComponent(name)}/change` }, options.signal);
  }

  erase(request: ErasureRequest, options: RequestOptions = {}): Promise<ErasureAudit> {
    return this.#transport.send({ method: 'POST', path: 'v1/erase', body: json(request) }, options.signal);
  }

  erasures(options: RequestOptions = {}): Promise<ErasureAudit[]> {
    return this.#transport.send({ method: 'GET', path: 'v1/erasures' }, options.signal);
  }
}

function json(value: unknown): { mediaType: 'application/json'; text: string } {
  return { mediaType: 'application/json', text: JSON.stringify(value) };
}

/**
 * One event per line. `JSON.stringify` escapes line breaks inside strings, so
 * lines and events match; a value it cannot write (undefined, a function)
 * goes as `null`, which the server rejects at its index instead of skipping
 * a blank line.
 */
function ndjson(events: readonly unknown[]): string {
  return events.map((event) => JSON.stringify(event) ?? 'null').join('\n');
}
