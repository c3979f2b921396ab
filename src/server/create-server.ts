/**
 * The HTTP API over one engine. Routes are thin: they parse, call the engine,
 * and shape the answer; every decision about data lives in the engine.
 *
 * @module
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyServerOptions } from 'fastify';
import type { BatchSummary, Query, Tandem } from '../serving/index.ts';
import { MalformedBodyError } from './errors.ts';
import { fromJsonBody, parseNdjson, requestRejections, type ParsedEvents } from './events-body.ts';
import { httpError } from './http-errors.ts';
import { IngestRate } from './ingest-rate.ts';
import { openApiDocument } from './openapi.ts';
import { ServerMetrics } from './server-metrics.ts';
import { DiskUsageProbe } from './disk-usage.ts';
import { StatusStream } from './status-stream.ts';
import { registerDashboard } from '../dashboard/index.ts';

export interface ServerOptions {
  readonly tandem: Tandem;
  /** Largest request body accepted, in bytes. Default 16 MiB. */
  readonly bodyLimit?: number;
  /** A pino logger for requests and errors; silent when absent. */
  readonly logger?: FastifyBaseLogger;
  /** Reported in `/openapi.json` and `/v1/status`. */
  readonly version?: string;
}

/** What the server adds to a Fastify instance, for the CLI and the dashboard. */
export interface TandemServer {
  readonly app: FastifyInstance;
  readonly metrics: ServerMetrics;
  readonly ingestRate: IngestRate;
  /** Records a batch published outside the `/v1/batch` route (e.g. by the schedule). */
  recordBatch(summary: BatchSummary): void;
}

const DEFAULT_BODY_LIMIT = 16 * 1024 * 1024;

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
  const { tandem } = options;
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const version = options.version ?? '0.0.0';
  // Per-request logs would dominate at ingest rates; errors are still logged by the error handler.
  const logController = new LogController({ disableRequestLogging: true });
  // Errors the router raises before any route (a malformed URL, an over-long parameter) get the same shape as the rest.
  const frameworkErrors: FastifyServerOptions['frameworkErrors'] = (error, _request, reply) => {
    const { status, body } = httpError(error, bodyLimit);
    // The option's reply type is generic over route schemas this handler never sees.
    void (reply as FastifyReply).status(status).send(body);
  };
  const app = options.logger === undefined
    ? Fastify({ logger: false, bodyLimit, logController, frameworkErrors })
    : Fastify({ loggerInstance: options.logger, bodyLimit, logController, frameworkErrors });
  const metrics = new ServerMetrics(tandem);
  const ingestRate = new IngestRate();
  const disk = new DiskUsageProbe(tandem.dataDir);
  const status = async () => ({
    version,
    ...tandem.status(),
    ingestRate: ingestRate.perSecond(),
    memory: { rssBytes: process.memoryUsage.rss(), heapUsedBytes: process.memoryUsage().heapUsed },
    disk: await disk.read(),
  });
  const stream = new StatusStream(status);
  const recordBatch = (summary: BatchSummary) => {
    metrics.batchSeconds.observe(summary.durationMs / 1000);
    stream.push();
  };

  app.addContentTypeParser('application/x-ndjson', { parseAs: 'string', bodyLimit }, (_request, body, done) => done(null, body));
  app.setErrorHandler((error, request, reply) => {
    const { status, body, retryAfterSeconds } = httpError(error, bodyLimit);
    // Clients get a safe sentence; the log keeps the detail (an overload is expected under load and not logged).
    if (status >= 500 && body.error.code !== 'log_overloaded') request.log.error({ err: error }, 'request failed');
    if (retryAfterSeconds !== undefined) void reply.header('retry-after', String(retryAfterSeconds));
    void reply.status(status).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({ error: { code: 'not_found', message: `There is no route ${request.method} ${request.url.slice(0, 200)}.` } });
  });

  app.post<{ Params: { eventType: string } }>('/v1/events/:eventType', async (request) => {
    const { eventType } = request.params;
    const parsed = parseEvents(request.body);
    const stopTimer = metrics.ingestSeconds.startTimer();
    const result = await tandem.ingest(eventType, parsed.events);
    stopTimer();
    const rejected = requestRejections(parsed, result.rejected);
    metrics.accepted.inc({ event_type: eventType }, result.accepted);
    metrics.duplicates.inc({ event_type: eventType }, result.duplicates);
    metrics.rejected.inc({ event_type: eventType }, rejected.length);
    ingestRate.record(result.accepted);
    return { accepted: result.accepted, duplicates: result.duplicates, rejected, firstOffset: result.firstOffset, lastOffset: result.lastOffset };
  });

  app.post('/v1/query', async (request) => {
    const body = request.body;
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new MalformedBodyError('The query must be a JSON object such as {"view": "..."}.');
    const started = performance.now();
    const result = await tandem.query(body as Query);
    // Labelled only after success: the view exists, so clients cannot blow up label cardinality.
    metrics.querySeconds.observe({ view: (body as Query).view }, (performance.now() - started) / 1000);
    return result;
  });

  app.post('/v1/batch', async () => {
    const summary = await tandem.runBatch();
    recordBatch(summary);
    return summary;
  });

  app.get('/v1/views', async () => ({
    eventTypes: [...tandem.catalog.eventTypes.values()].map((e) => e.definition),
    views: [...tandem.catalog.views.values()].map((v) => v.definition),
  }));

  app.get('/v1/status', status);
  stream.register(app, '/v1/status/stream');
  registerDashboard(app);

  app.get('/healthz', async () => ({ ok: true }));

  app.get('/metrics', async (_request, reply) => {
    void reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  const document = openApiDocument(tandem.catalog, version);
  app.get('/openapi.json', async () => document);

  return { app, metrics, ingestRate, recordBatch };
}

function parseEvents(body: unknown): ParsedEvents {
  if (typeof body === 'string') return parseNdjson(body);
  if (body === undefined || body === null) throw new MalformedBodyError('The body is empty; send NDJSON or a JSON array of events.');
  return fromJsonBody(body);
}
