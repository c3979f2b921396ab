/**
 * The OpenAPI 3.1 description served at `/openapi.json`. Event schemas are
 * generated from the catalog, so the document always matches the config.
 *
 * @module
 */
import type { Catalog, Field } from '../definitions/index.ts';
import type { RouteScope } from './access-control.ts';

const ERROR = { $ref: '#/components/schemas/Error' };
const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: ERROR } } });

function fieldSchema(field: Field): object {
  switch (field.type) {
    case 'string': return { type: 'string', maxLength: field.maxLength };
    case 'number': return { type: 'number' };
    case 'boolean': return { type: 'boolean' };
    case 'timestamp': return { oneOf: [{ type: 'string', format: 'date-time' }, { type: 'integer', description: 'epoch milliseconds' }] };
  }
}

function eventSchemas(catalog: Catalog): Record<string, object> {
  return Object.fromEntries([...catalog.eventTypes.values()].map((type) => [`Event_${type.name}`, {
    type: 'object',
    properties: Object.fromEntries(type.fields.map((f) => [f.name, fieldSchema(f)])),
    required: type.fields.filter((f) => !f.optional).map((f) => f.name),
  }]));
}

const QUERY_SCHEMA = {
  type: 'object',
  required: ['view'],
  properties: {
    view: { type: 'string' },
    from: { oneOf: [{ type: 'string', format: 'date-time' }, { type: 'integer', minimum: -2208988800000, maximum: 253402300800000 }], description: 'Inclusive start of the time range, from 1900-01-01 up to 10000-01-01.' },
    to: { oneOf: [{ type: 'string', format: 'date-time' }, { type: 'integer', minimum: -2208988800000, maximum: 253402300800000 }], description: 'Exclusive end of the time range, from 1900-01-01 up to 10000-01-01.' },
    where: { type: 'object', additionalProperties: true, description: 'Dimension → value or array of values.' },
    groupBy: { type: 'array', items: { type: 'string' }, uniqueItems: true, description: 'Each dimension at most once.' },
    granularity: { enum: ['minute', 'hour', 'day', 'week', 'month', 'all'] },
    orderBy: {
      type: 'array',
      items: {
        oneOf: [
          { type: 'object', required: ['measure'], properties: { measure: { type: 'string' }, desc: { type: 'boolean' }, quantile: { type: 'number', minimum: 0, maximum: 1 } } },
          { type: 'object', required: ['dimension'], properties: { dimension: { type: 'string', description: 'A dimension in groupBy.' }, desc: { type: 'boolean' } } },
          { type: 'object', required: ['time'], properties: { time: { const: true }, desc: { type: 'boolean' } } },
        ],
      },
      description: 'Keys in order: measures, grouped dimensions and the time bucket, each at most once; ascending unless desc, nulls last.',
    },
    limit: { type: 'integer', minimum: 1 },
    layer: { enum: ['merged', 'batch', 'speed'] },
    states: { type: 'boolean', description: 'Answer each countDistinct and quantiles measure with its state ({ type, format, state: base64, and its parameters }) instead of its estimate, so that states of several answers can be merged.' },
    after: { type: 'array', items: { type: 'integer', minimum: 0 }, maxItems: 256, description: 'Cluster mode: the position an ingest answered with; the node answers once it has applied it (503 with Retry-After after a bounded wait).' },
  },
};

const META_SCHEMA = {
  type: 'object',
  properties: {
    batchVersion: { type: ['integer', 'null'] }, batchCutoff: { type: 'integer' }, logEnd: { type: 'integer' },
    batchAgeMs: { type: ['number', 'null'] }, layer: { enum: ['merged', 'batch', 'speed'] },
    partialBuckets: { type: 'array', items: { type: 'string', format: 'date-time' }, description: 'Time buckets the range cuts (only part of their view buckets are in range).' },
    applied: { type: 'array', items: { type: 'integer' }, description: 'Cluster mode: per partition, the last sequence this node has applied.' },
    batchCutoffs: { type: 'array', items: { type: 'integer' }, description: 'Cluster mode: per partition, the batch version\'s cutoff.' },
  },
};

/** Marks an operation as needing a key with `scope` (when the server has keys), with the answers a refusal gets. */
interface Operation {
  readonly summary: string;
  readonly responses: object;
  readonly [more: string]: unknown;
}

function scoped(scope: RouteScope, keys: boolean, operation: Operation): object {
  if (!keys) {
    return {
      ...operation,
      responses: {
        ...operation.responses,
        421: errorResponse('A server without keys on a loopback address answers only requests addressed to localhost, 127.0.0.1 or [::1].'),
        403: errorResponse('A server without keys on a loopback address refuses requests from web pages of other sites (by their Origin).'),
      },
    };
  }
  return {
    ...operation,
    'x-tandem-scope': scope,
    security: [{ apiKey: [] }],
    responses: {
      ...operation.responses,
      401: errorResponse('No API key, or one this server does not know.'),
      ...(scope === 'any' ? {} : { 403: errorResponse(`The key lacks the '${scope}' scope.`) }),
    },
  };
}

/** Builds the document for a catalog; `keys` says whether the server requires API keys. */
export function openApiDocument(catalog: Catalog, version: string, keys: boolean): object {
  const eventTypes = [...catalog.eventTypes.keys()];
  const op = (scope: RouteScope, operation: Operation) => scoped(scope, keys, operation);
  return {
    openapi: '3.1.0',
    info: { title: 'Tandem', version, description: 'Lambda Architecture engine: durable ingest, batch ⊕ speed views, exact merged queries.' },
    paths: {
      '/v1/events/{eventType}': {
        post: op('ingest', {
          summary: 'Append events durably; answers once they are fsynced and visible to queries.',
          parameters: [{ name: 'eventType', in: 'path', required: true, schema: { enum: eventTypes } }],
          requestBody: {
            required: true,
            description: 'UTF-8 (a charset parameter other than utf-8 gets 415); may be compressed with Content-Encoding gzip or deflate, and the body limit counts the decompressed bytes.',
            content: {
              'application/x-ndjson': { schema: { type: 'string', description: 'One JSON event per line.' } },
              'application/json': { schema: { type: 'array', items: { type: 'object' } } },
            },
          },
          responses: {
            200: { description: 'Valid events stored; bad ones listed by index.', content: { 'application/json': { schema: { $ref: '#/components/schemas/IngestResult' } } } },
            400: errorResponse('The body is not JSON, NDJSON or an array, a JSON body is not UTF-8, or a compressed body does not decompress.'),
            404: errorResponse('Unknown event type.'),
            413: errorResponse('The body (decompressed), or its number of events, exceeds the configured limit.'),
            415: errorResponse('Another media type, a charset other than UTF-8, or a Content-Encoding other than gzip and deflate.'),
            503: errorResponse('The log cannot accept writes now (overloaded, failing or closing); see Retry-After.'),
          },
        }),
      },
      '/v1/query': {
        post: op('query', {
          summary: 'Query a view: batch view merged with the speed layer.',
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/Query' } } } },
          responses: {
            200: { description: 'Rows and where they came from.', content: { 'application/json': { schema: { type: 'object', properties: { rows: { type: 'array', items: { type: 'object' } }, meta: META_SCHEMA } } } } },
            400: errorResponse('Unknown view, dimension or measure, a malformed query, or an answer over the row limit.'),
            415: errorResponse('A body that is not application/json in UTF-8, or a Content-Encoding other than gzip and deflate.'),
            503: errorResponse('The query ran past the time limit.'),
          },
        }),
      },
      '/v1/batch': {
        post: op('admin', {
          summary: 'Run a batch cycle now (or join the running one) and answer when it is published.',
          responses: { 200: { description: 'The published version.', content: { 'application/json': { schema: { type: 'object', properties: { version: { type: 'integer' }, cutoff: { type: 'integer' }, events: { type: 'integer' }, durationMs: { type: 'number' } } } } } } },
        }),
      },
      '/v1/views': { get: op('any', { summary: 'Event types and view definitions.', responses: { 200: { description: 'The definitions as JSON config.' } } }) },
      '/v1/status': { get: op('admin', { summary: 'Log, batch and speed-layer state.', responses: { 200: { description: 'Status snapshot.' } } }) },
      '/v1/status/stream': { get: op('admin', { summary: 'The status snapshot every second, as Server-Sent Events.', responses: { 200: { description: 'text/event-stream of `status` events.' } } }) },
      '/healthz': { get: { summary: 'Liveness.', responses: { 200: { description: 'The server is up.' } } } },
      '/metrics': { get: op('admin', { summary: 'Prometheus metrics.', responses: { 200: { description: 'Prometheus text format.', content: { 'text/plain': {} } } } }) },
    },
    components: {
      ...(keys ? { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'An API key from the server config, with the scope the operation names in x-tandem-scope.' } } } : {}),
      schemas: {
        Error: { type: 'object', properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' }, field: { type: 'string' } } } } },
        IngestResult: {
          type: 'object',
          properties: {
            accepted: { type: 'integer' }, duplicates: { type: 'integer' }, lastOffset: { type: ['integer', 'null'] }, firstOffset: { type: ['integer', 'null'] },
            position: { type: 'array', items: { type: 'integer' }, description: 'Cluster mode: per partition, the sequence this ingest was acknowledged at; send it as a query\'s `after`.' },
            rejected: { type: 'array', items: { type: 'object', properties: { index: { type: 'integer' }, field: { type: 'string' }, error: { type: 'string' } } } },
            ignoredFields: { type: 'array', items: { type: 'string' }, description: 'Fields the events had and their type does not declare, left out (event types with undeclaredFields: ignore); absent when none.' },
          },
        },
        Query: QUERY_SCHEMA,
        ...eventSchemas(catalog),
      },
    },
  };
}
