/**
 * The HTTP API over one engine. Routes are thin: they parse, call the engine,
 * and shape the answer; every decision about data lives in the engine.
 *
 * @module
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyPluginAsync, type FastifyReply, type FastifyServerOptions } from 'fastify';
import type { ApiKey, ServerLimits } from '../definitions/index.ts';
import { InvalidQueryError, type Query } from '../serving/index.ts';
import type { BatchOptions, BatchSummary, ServedEngine } from '../engine/index.ts';
import { AccessControl } from './access-control.ts';
import { connectionLimits, connectionOptions, registerConnectionLimits, type ConnectionLimits } from './connection-limits.ts';
import { MalformedBodyError } from './errors.ts';
import { fromJsonBody, parseNdjsonBytes, requestRejections, type BodyLimits, type ParsedEvents } from './events-body.ts';
import { httpError } from './http-errors.ts';
import { IngestRate } from './ingest-rate.ts';
import { registerLoopbackGuard } from './loopback-guard.ts';
import { registerBodyParsers } from './media-types.ts';
import { hiddenFromDocument, registerOpenApi } from './openapi.ts';
import { apiRoutes } from './route-schemas.ts';
import { ServerMetrics } from './server-metrics.ts';
import { DiskUsageProbe } from './disk-usage.ts';
import { StatusStream } from './status-stream.ts';
import { registerDashboard } from '../dashboard/index.ts';
import { SqlRunner } from '../sql/index.ts';
import { registerSqlRoute } from './sql-route.ts';
import { HistoryUploadTracker } from './history-progress.ts';
import { registerHistoryRoute } from './history-route.ts';
import { PACKAGE_VERSION } from '../util/package-version.ts';

export interface ServerOptions {
  readonly tandem: ServedEngine;
  /** Request limits; each one not given comes from the config's `server.limits`, else its default. */
  readonly limits?: Partial<ServerLimits>;
  /** Time limits, the most open connections and the shutdown grace period; each one not given is its default. */
  readonly connections?: Partial<ConnectionLimits>;
  /** API keys, replacing the config's `server.apiKeys`; none means every route is open. */
  readonly apiKeys?: readonly ApiKey[];
  /** A pino logger for requests and errors; silent when absent. */
  readonly logger?: FastifyBaseLogger;
  /** Reported in `/openapi.json` and `/v1/status`; the package's own version by default. */
  readonly version?: string;
  /** A path the routes sit under, such as `/tandem` (the dashboard then stays out: its pages call the API at the root). */
  readonly prefix?: string;
}

/**
 * Options of {@link tandemPlugin}: the engine and what {@link ServerOptions}
 * says of the routes. Time limits and the most open connections belong to
 * the host application's server, so they are not here; give `prefix` to
 * Fastify's `register`, as for any plugin.
 */
export type TandemPluginOptions = Omit<ServerOptions, 'connections' | 'logger' | 'prefix'>;

/** What the server adds to a Fastify instance, for the CLI and the dashboard. */
export interface TandemServer {
  readonly app: FastifyInstance;
  readonly metrics: ServerMetrics;
  readonly ingestRate: IngestRate;
}

/**
 * Builds (but does not start) the HTTP server for an open engine.
 *
 * @example
 * ```ts
 * const tandem = await Tandem.open({ dataDir: './data', config });
 * const { app } = createServer({ tandem });
 * await app.listen({ host: '127.0.0.1', port: 7070 });
 * ```
 */
export function createServer(options: ServerOptions): TandemServer {
  const bodyLimit = limitsOf(options).bodyBytes;
  const connections = connectionLimits(options.connections);
  // Per-request logs would dominate at ingest rates; errors are still logged by the error handler.
  const logController = new LogController({ disableRequestLogging: true });
  // Errors the router raises before any route (a malformed URL, an over-long parameter) get the same shape as the rest.
  const frameworkErrors: FastifyServerOptions['frameworkErrors'] = (error, _request, reply) => {
    const { status, body } = httpError(error, bodyLimit);
    // The option's reply type is generic over route schemas this handler never sees.
    void (reply as FastifyReply).status(status).send(body);
  };
  // The metrics are made with the routes, after the instance whose connection limits count into them.
  let parts: Omit<TandemServer, 'app'> | undefined;
  const serverOptions = { bodyLimit, logController, frameworkErrors, ...connectionOptions(connections, () => parts?.metrics.requestTimeouts.inc()) };
  const app = options.logger === undefined
    ? Fastify({ logger: false, ...serverOptions })
    : Fastify({ loggerInstance: options.logger, ...serverOptions });
  registerConnectionLimits(app, connections, {
    onRefused: () => parts?.metrics.connectionsRefused.inc(),
    onForcedClose: () => app.log.warn(`closing the connections still open ${connections.closeGraceMs} ms after shutdown began`),
  });
  const idleMs = connections.responseIdleTimeoutMs;
  if (options.prefix === undefined || options.prefix === '') {
    parts = registerTandem(app, options, idleMs);
  } else {
    // A prefixed scope is registered once the app is readied: until then, its parts are not there to hand out.
    void app.register(async (scope) => void (parts = registerTandem(scope, options, idleMs)), { prefix: options.prefix });
  }
  return { app, get metrics() { return parts!.metrics; }, get ingestRate() { return parts!.ingestRate; } };
}

/**
 * Tandem's routes as a Fastify plugin, for an application that has its own
 * Fastify server: ingest, queries, SQL, views, erasure, status, metrics and
 * the OpenAPI document, under the prefix it is registered with. Its error
 * handler, body parsers, API keys and (without keys) loopback guard apply
 * to its own routes only. Without a prefix it also serves the dashboard.
 * Closing the application closes what the plugin opened, not the engine.
 *
 * @example
 * ```ts
 * import Fastify from 'fastify';
 * import { tandemPlugin } from 'tandem/server';
 *
 * const app = Fastify();
 * const tandem = await Tandem.open({ dataDir: './data', config, batchEvery: 60_000 });
 * await app.register(tandemPlugin, { tandem, prefix: '/tandem' });   // POST /tandem/v1/events/order, …
 * await app.listen({ port: 3000 });
 * ```
 */
export const tandemPlugin: FastifyPluginAsync<TandemPluginOptions> = async (app, options) => {
  registerTandem(app, options, connectionLimits(undefined).responseIdleTimeoutMs);
};

/** The request limits: the options', else the config's `server.limits`, else the defaults. */
function limitsOf(options: TandemPluginOptions): ServerLimits {
  return { ...options.tandem.catalog.server.limits, ...definedOnly(options.limits ?? {}) };
}

/** Registers every route, hook and handler on `app` (an instance, or a plugin's scope) over one engine. */
function registerTandem(app: FastifyInstance, options: TandemPluginOptions, statusIdleMs: number): Omit<TandemServer, 'app'> {
  const { tandem } = options;
  const limits = limitsOf(options);
  const bodyLimit = limits.bodyBytes;
  const access = new AccessControl(options.apiKeys ?? tandem.catalog.server.apiKeys);
  const version = options.version ?? PACKAGE_VERSION;
  const disk = new DiskUsageProbe(tandem.dataDir);
  const metrics = new ServerMetrics(tandem, disk);
  const errorLog = new LogThrottle(10_000);
  const denied = (reason: string) => metrics.denied.inc({ reason });
  access.register(app, denied);
  // With keys, the keys protect the server; without, a server on loopback answers only this machine's programs and pages.
  if (!access.enabled) registerLoopbackGuard(app, denied);
  const ingestRate = new IngestRate();
  const uploads = new HistoryUploadTracker();
  const status = async () => ({
    version,
    ...tandem.status(),
    ...optional('history', uploads.status()),
    ingestRate: ingestRate.perSecond(),
    memory: { rssBytes: process.memoryUsage.rss(), heapUsedBytes: process.memoryUsage().heapUsed },
    disk: await disk.read(),
  });
  const stream = new StatusStream(status, statusIdleMs);
  // Every publication counts, whoever started it: a request, the schedule, or the engine under memory pressure.
  const unsubscribe = tandem.onPublished((summary: BatchSummary) => {
    metrics.batchSeconds.observe(summary.durationMs / 1000);
    stream.push();
  });
  app.addHook('onClose', async () => unsubscribe());
  // SQL is parsed on a small DuckDB instance of its own, closed with the server.
  const sql = new SqlRunner(tandem);
  app.addHook('onClose', () => sql.close());

  registerBodyParsers(app, bodyLimit);
  app.setErrorHandler((error, request, reply) => {
    const { status, body, headers } = httpError(error, bodyLimit);
    // A refusal before the body arrived in full (no key, wrong media type, too large) ends the connection: its
    // remaining bytes are not a next request, and reading them would only keep a stalled client connected.
    if (!request.raw.complete) void reply.header('connection', 'close');
    // Clients get a safe sentence; the log keeps the detail, once per 10 s for a condition that lasts (a full
    // disk answers every request alike), and never for an overload or a shutdown, which are expected.
    if (status >= 500 && !EXPECTED.has(body.error.code) && errorLog.due(body.error.code)) request.log.error({ err: error }, 'request failed');
    void reply.status(status).headers(headers).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({ error: { code: 'not_found', message: `There is no route ${request.method} ${request.url.slice(0, 200)}.` } });
  });

  const bodyLimits: BodyLimits = { lineBytes: limits.lineBytes, events: limits.eventsPerRequest };
  const queryLimits = { maxRows: limits.queryRows, timeoutMs: limits.queryTimeoutMs };
  // Each route's scope, media types, body and answers, declared once for the server and for /openapi.json.
  const routes = apiRoutes(tandem.catalog, access.enabled);
  registerOpenApi(app, { catalog: tandem.catalog, version, keys: access.enabled });

  // In a plugin registered after @fastify/swagger, whose onRoute hook collects the routes into the document.
  void app.register(async (api) => {
    api.post<{ Params: { eventType: string } }>('/v1/events/:eventType', routes.ingest, async (request) => {
      const { eventType } = request.params;
      const parsed = parseEvents(request.body, bodyLimits);
      const stopTimer = metrics.ingestSeconds.startTimer();
      const result = await tandem.ingest(eventType, parsed.events);
      stopTimer();
      const rejected = requestRejections(parsed, result.rejected);
      metrics.accepted.inc({ event_type: eventType }, result.accepted);
      metrics.duplicates.inc({ event_type: eventType }, result.duplicates);
      metrics.rejected.inc({ event_type: eventType }, rejected.length);
      ingestRate.record(result.accepted);
      const answer = {
        accepted: result.accepted, stored: result.stored, duplicates: result.duplicates, rejected,
        ...(result.ignoredFields === undefined ? {} : { ignoredFields: result.ignoredFields }),
        firstOffset: result.firstOffset, lastOffset: result.lastOffset,
      };
      // Cluster mode: the position to send back as a query's `after`, on any node.
      return result.position === undefined ? answer : { ...answer, position: result.position };
    });

    api.post('/v1/query', routes.query, async (request) => {
      const body = request.body;
      if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new MalformedBodyError('The query must be a JSON object such as {"view": "..."}.');
      if ((body as Query).numbers === 'bigint') throw new InvalidQueryError('numbers', 'numbers "bigint" is for the library, since JSON has no bigint; ask for "text" over HTTP.');
      const started = performance.now();
      const result = await tandem.query(body as Query, queryLimits);
      // Labelled only after success: the view exists, so clients cannot blow up label cardinality.
      metrics.querySeconds.observe({ view: (body as Query).view }, (performance.now() - started) / 1000);
      return result;
    });

    registerHistoryRoute(api, { tandem, tracker: uploads, limit: limits.historyBytes, keys: access.enabled });

    registerSqlRoute(api, { runner: sql, keys: access.enabled, limits: queryLimits, observe: (view, seconds) => metrics.querySeconds.observe({ view }, seconds) });

    api.post('/v1/batch', routes.batch, (request) => tandem.runBatch(batchOptions(request.body)));

    api.get('/v1/views', routes.views, async () => {
      const { viewVersions, viewChanges } = tandem.status();
      return {
        eventTypes: [...tandem.catalog.eventTypes.values()].map((e) => e.definition),
        views: [...tandem.catalog.views.values()].map((v) => v.definition),
        versions: viewVersions,
        changes: viewChanges,
      };
    });

    api.put<{ Params: { name: string } }>('/v1/views/:name', routes.applyView, async (request) => {
      const answer = await tandem.applyView(viewBody(request.params.name, request.body));
      stream.push();
      return answer;
    });
    api.delete<{ Params: { name: string } }>('/v1/views/:name', routes.dropView, async (request) => {
      const answer = await tandem.dropView(request.params.name);
      stream.push();
      return answer;
    });
    api.delete<{ Params: { name: string } }>('/v1/views/:name/change', routes.cancelViewChange, async (request) => {
      const answer = await tandem.cancelViewChange(request.params.name);
      stream.push();
      return answer;
    });

    api.post('/v1/erase', routes.erase, async (request) => {
      const answer = await tandem.erase(request.body, { by: access.enabled ? `key:${access.identify(request.headers.authorization).name}` : 'anonymous' });
      stream.push();
      return answer;
    });
    api.get('/v1/erasures', routes.erasures, () => tandem.erasures());

    api.get('/v1/status', routes.status, status);
    stream.register(api, '/v1/status/stream', routes.statusStream);
    // The dashboard's pages call the API at the root, so under a prefix it stays out.
    if (app.prefix === '') void api.register(hiddenFromDocument(registerDashboard));

    api.get('/healthz', routes.health, async () => ({ ok: true }));

    api.get('/metrics', routes.metrics, async (_request, reply) => {
      void reply.header('content-type', metrics.registry.contentType);
      return metrics.registry.metrics();
    });

    api.get('/openapi.json', routes.openapi, async () => api.swagger());
  });

  return { metrics, ingestRate };
}

/** `POST /v1/batch`'s body: nothing, `{}`, or `{"full": true, "seal": true}` (either or both). */
function batchOptions(body: unknown): BatchOptions {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw new MalformedBodyError('The batch request body must be a JSON object such as {"full": true}.');
  const { full, seal, ...rest } = body as { full?: unknown; seal?: unknown };
  const unknown = Object.keys(rest)[0];
  if (unknown !== undefined) throw new MalformedBodyError(`The batch request takes only "full" and "seal"; '${unknown.slice(0, 64)}' is not known.`);
  if (full !== undefined && typeof full !== 'boolean') throw new MalformedBodyError('"full" must be true or false.');
  if (seal !== undefined && typeof seal !== 'boolean') throw new MalformedBodyError('"seal" must be true or false.');
  return { ...(full === true ? { full: true } : {}), ...(seal === true ? { seal: true } : {}) };
}

/** `PUT /v1/views/:name`'s body: a view definition, whose name is the path's (given or left out). */
function viewBody(name: string, body: unknown): unknown {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new MalformedBodyError('The body must be a view definition, a JSON object such as {"eventType": "order", "granularity": "day", "measures": {"orders": {"type": "count"}}}.');
  const given = (body as { name?: unknown }).name;
  if (given !== undefined && given !== name) throw new MalformedBodyError(`The view's name ${JSON.stringify(given).slice(0, 80)} is not the name in the path, '${name}'.`);
  return { ...body, name };
}

/** Server errors that are part of normal operation, not worth a log line. */
// States a live system passes through and clients wait out: a restarted batch node's old lease running out, a view
// switching in or backfilling, a query meeting a version switch. Each retrying client would otherwise log it again.
const EXPECTED: ReadonlySet<string> = new Set(['log_overloaded', 'shutting_down', 'batch_lease_expiring', 'view_not_ready', 'view_backfilling', 'served_version_changing']);

function parseEvents(body: unknown, limits: BodyLimits): ParsedEvents {
  if (Buffer.isBuffer(body)) return parseNdjsonBytes(body, limits);
  if (body === undefined || body === null) throw new MalformedBodyError('The body is empty; send NDJSON or a JSON array of events.');
  return fromJsonBody(body, limits);
}

/** Says whether a message of a kind is due: the first one, then at most one per interval. */
class LogThrottle {
  readonly #last = new Map<string, number>();
  constructor(private readonly intervalMs: number) {}

  due(kind: string): boolean {
    if (kind === 'internal') return true;
    const now = Date.now();
    if (now - (this.#last.get(kind) ?? -Infinity) < this.intervalMs) return false;
    this.#last.set(kind, now);
    return true;
  }
}

/** `{ [name]: value }`, or nothing when the value is undefined. */
function optional<K extends string, V>(name: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [name]: value } as Record<K, V>);
}

function definedOnly<T extends object>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Partial<T>;
}
