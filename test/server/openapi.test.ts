import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import type { RouteOptions } from 'fastify';
import { keyDigest } from '../../src/definitions/index.ts';
import type { TandemConfig } from '../../src/index.ts';
import { STATUS_BY_CODE } from '../../src/server/http-errors.ts';
import { answerValidator } from '../support/answer-validator.ts';
import { shopConfig } from '../support/shop-config.ts';
import { openTestServer, type TestServer } from '../support/test-server.ts';

interface Operation {
  readonly operationId: string;
  readonly requestBody?: { readonly required: boolean; readonly content: Record<string, { readonly schema: Schema }> };
  readonly responses: Record<string, { readonly description: string; readonly headers?: Record<string, unknown>; readonly content?: Record<string, { readonly schema: Schema }> }>;
  readonly security?: unknown;
  readonly 'x-tandem-scope'?: string;
}
type Schema = Record<string, unknown>;
interface Document {
  readonly openapi: string;
  readonly info: { readonly description: string };
  readonly paths: Record<string, Record<string, Operation>>;
  readonly components: { readonly schemas: Record<string, Schema> };
}

const ADMIN_KEY = 'admin-key-0123456789abcdef';
const withKeys: TandemConfig = { ...shopConfig, server: { apiKeys: [{ name: 'ops', scopes: ['admin', 'ingest', 'query'], sha256: keyDigest(ADMIN_KEY).toString('hex') }] } };

/** A server with the routes it declared (HEAD ones too), seen through an onRoute hook added before they load. */
async function openWithRoutes(config: TandemConfig): Promise<{ opened: TestServer; routes: RouteOptions[] }> {
  const opened = await openTestServer(config);
  const routes: RouteOptions[] = [];
  opened.server.app.addHook('onRoute', (route) => void routes.push(route));
  await opened.server.app.ready();
  return { opened, routes };
}

async function documentOf(opened: TestServer, headers: Record<string, string> = {}): Promise<Document> {
  const response = await opened.server.app.inject({ url: '/openapi.json', headers });
  assert.equal(response.statusCode, 200, response.body);
  return response.json() as Document;
}

/** The codes an operation documents at a status, from its Error schema's narrowed `code`. */
function codesAt(operation: Operation, status: number): readonly string[] {
  const schema = operation.responses[status]?.content?.['application/json']?.schema as { allOf?: { properties?: { error?: { properties?: { code?: { enum?: string[] } } } } }[] } | undefined;
  return schema?.allOf?.[1]?.properties?.error?.properties?.code?.enum ?? [];
}

const openApiPath = (url: string) => url.replace(/:(\w+)/g, '{$1}');

describe('openapi - a server without keys', () => {
  let opened: TestServer;
  let routes: RouteOptions[];
  let doc: Document;
  before(async () => {
    ({ opened, routes } = await openWithRoutes(shopConfig));
    doc = await documentOf(opened);
  });
  after(() => opened.close());

  test('openapi - the served document is valid OpenAPI 3.1', async () => {
    const result = await new Validator().validate(structuredClone(doc) as unknown as Record<string, unknown>);
    assert.equal(result.valid, true, JSON.stringify(result.errors, null, 1));
    assert.equal(doc.openapi, '3.1.0');
  });

  test('openapi - every route the server declares is documented with its methods, and nothing else; the dashboard is left out', () => {
    const declared = routes.filter((r) => r.method !== 'HEAD');
    assert.ok(declared.some((r) => r.url === '/v1/batch'), 'the onRoute hook saw the routes');
    const hidden = declared.filter((r) => r.schema?.hide === true).map((r) => r.url);
    assert.ok(hidden.includes('/') && hidden.some((url) => url.startsWith('/dashboard/')), `the dashboard is hidden: ${hidden.join(', ')}`);
    const expected = declared.filter((r) => r.schema?.hide !== true).flatMap((r) => [r.method].flat().map((m) => `${m} ${openApiPath(r.url)}`)).sort();
    const documented = Object.entries(doc.paths).flatMap(([path, operations]) => Object.keys(operations).map((m) => `${m.toUpperCase()} ${path}`)).sort();
    assert.deepEqual(documented, expected);
    for (const url of hidden) assert.equal(doc.paths[url], undefined, url);
  });

  test('openapi - POST /v1/batch documents its optional {"full": true, "seal": true} body, its summary and its 409, 503 and 507 answers', () => {
    const batch = doc.paths['/v1/batch']!.post!;
    assert.equal(batch.requestBody?.required, false);
    const body = batch.requestBody!.content['application/json']!.schema;
    assert.deepEqual(Object.keys(body.properties as object), ['full', 'seal']);
    for (const option of Object.values(body.properties as Record<string, { type: string; description: string }>)) {
      assert.equal(option.type, 'boolean');
      assert.ok(option.description.length > 20);
    }
    assert.equal(body.additionalProperties, false);
    assert.deepEqual(codesAt(batch, 409), ['batch_lease_held', 'batch_fenced']);
    assert.ok(codesAt(batch, 503).includes('log_closed'));
    // A cluster's batch node that restarted refuses cycles until its previous process's lease expires: a wait, not a conflict.
    assert.ok(codesAt(batch, 503).includes('batch_lease_expiring'));
    assert.ok(batch.responses[503]!.headers?.['retry-after'], 'Retry-After is documented');
    assert.deepEqual(codesAt(batch, 507), ['disk_full']);
    const summary = doc.components.schemas.BatchSummary!;
    for (const field of ['version', 'cutoff', 'events', 'durationMs', 'exportMs', 'mode', 'inputEvents', 'views']) assert.ok(field in (summary.properties as object), field);
  });

  test('openapi - the Query schema has exactly the keys the query planner takes, quantiles among them', async () => {
    const refused = await opened.server.app.inject({ method: 'POST', url: '/v1/query', payload: { view: 'all_time', bogus: 1 } });
    // Tandem's own sentence, not a schema validator's: the route's schema only documents.
    const message = (refused.json() as { error: { message: string } }).error.message;
    const allowed = /allowed keys are (.+)\.$/.exec(message)?.[1]?.split(', ');
    assert.ok(allowed !== undefined, message);
    const query = doc.components.schemas.Query!;
    assert.deepEqual(Object.keys(query.properties as object).sort(), [...allowed].sort());
    assert.deepEqual((query.properties as { quantiles: Schema }).quantiles.additionalProperties, { type: 'array', minItems: 1, maxItems: 32, items: { type: 'number', minimum: 0, maximum: 1 } });
    assert.deepEqual(doc.paths['/v1/query']!.post!.requestBody!.content['application/json']!.schema, { $ref: '#/components/schemas/Query' });
  });

  test('openapi - each event type has a schema, which the ingest route refers to', () => {
    const ingest = doc.paths['/v1/events/{eventType}']!.post!;
    const items = (ingest.requestBody!.content['application/json']!.schema.items as { anyOf: Schema[] }).anyOf;
    assert.deepEqual(items, [{ $ref: '#/components/schemas/Event_order' }]);
    const event = doc.components.schemas.Event_order!;
    assert.deepEqual(event.required, ['id', 'at', 'country', 'mobile', 'amount', 'qty']);
    assert.ok('application/x-ndjson' in ingest.requestBody!.content);
  });

  test('openapi - each route documents, at the status http-errors.ts maps it to, every code it can answer with', () => {
    for (const [path, method, codes] of ROUTE_CODES) {
      const operation = doc.paths[path]?.[method];
      assert.ok(operation, `${method} ${path}`);
      for (const code of [...codes, ...KEYLESS_CODES, ...EVERY_ROUTE_CODES]) {
        const status = STATUS_BY_CODE[code] ?? OTHER_STATUS[code]!;
        assert.ok(codesAt(operation, status).includes(code), `${method} ${path}: ${status} ${code}`);
      }
    }
  });

  test('openapi - the answers the server gives are the answers the document lists, and validate against their schemas', async () => {
    const validate = answerValidator(doc.components);
    assert.match(validate({ $ref: '#/components/schemas/BatchSummary' }, { version: 1 }) ?? '', /required/, 'the validator resolves the document\'s schemas');
    const app = opened.server.app;
    const ingest = await app.inject({ method: 'POST', url: '/v1/events/order', headers: { 'content-type': 'application/x-ndjson' }, payload: '{"id":"a","at":"2024-05-01T12:00:00Z","country":"DE","mobile":true,"amount":"12.50","qty":2}\n{"id":"b"}' });
    const batch = await app.inject({ method: 'POST', url: '/v1/batch', payload: { full: true } });
    const answers = [
      ['/v1/events/{eventType}', 'post', ingest],
      ['/v1/batch', 'post', batch],
      ['/v1/batch', 'post', await app.inject({ method: 'POST', url: '/v1/batch' })],
      ['/v1/query', 'post', await app.inject({ method: 'POST', url: '/v1/query', payload: { view: 'by_country_hour', groupBy: ['country'], granularity: 'all', quantiles: { spread: [0.5, 0.99] } } })],
      ['/v1/query', 'post', await app.inject({ method: 'POST', url: '/v1/query', payload: { view: 'all_time', states: true } })],
      ['/v1/status', 'get', await app.inject({ url: '/v1/status' })],
      ['/v1/views', 'get', await app.inject({ url: '/v1/views' })],
      ['/healthz', 'get', await app.inject({ url: '/healthz' })],
      ['/v1/events/{eventType}', 'post', await app.inject({ method: 'POST', url: '/v1/events/nope', headers: { 'content-type': 'application/json' }, payload: '[]' })],
      ['/v1/events/{eventType}', 'post', await app.inject({ method: 'POST', url: '/v1/events/order', headers: { 'content-type': 'text/plain' }, payload: 'x' })],
      ['/v1/events/{eventType}', 'post', await app.inject({ method: 'POST', url: '/v1/events/order', headers: { 'content-type': 'application/json' }, payload: '[{"id":' })],
      ['/v1/query', 'post', await app.inject({ method: 'POST', url: '/v1/query', payload: { view: 'nope' } })],
      ['/v1/query', 'post', await app.inject({ method: 'POST', url: '/v1/query', payload: { view: 'all_time', quantiles: { orders: [0.5] } } })],
      ['/v1/batch', 'post', await app.inject({ method: 'POST', url: '/v1/batch', payload: { full: 1 } })],
      ['/v1/status', 'get', await app.inject({ url: '/v1/status', headers: { host: 'example.com' } })],
      ['/v1/query', 'post', await app.inject({ method: 'POST', url: '/v1/query', headers: { origin: 'https://example.com' }, payload: { view: 'all_time' } })],
    ] as const;
    assert.equal(ingest.statusCode, 200, ingest.body);
    assert.equal(batch.statusCode, 200, batch.body);
    for (const [path, method, response] of answers) {
      const operation = doc.paths[path]![method]!;
      const documented = operation.responses[response.statusCode];
      assert.ok(documented, `${method} ${path} answered ${response.statusCode}, which it does not document`);
      if (response.statusCode >= 400) assert.ok(codesAt(operation, response.statusCode).includes((response.json() as { error: { code: string } }).error.code), `${path}: ${response.body}`);
      const schema = documented.content!['application/json']!.schema;
      assert.equal(validate(schema, response.json()), undefined, `${method} ${path} ${response.statusCode}: ${response.body.slice(0, 300)}`);
    }
  });
});

describe('openapi - a server with keys', () => {
  let opened: TestServer;
  let doc: Document;
  before(async () => {
    ({ opened } = await openWithRoutes(withKeys));
    doc = await documentOf(opened, { authorization: `Bearer ${ADMIN_KEY}` });
  });
  after(() => opened.close());

  test('openapi - with keys the document is valid, names the bearer scheme, and each scoped operation its scope, 401 and 403', async () => {
    const result = await new Validator().validate(structuredClone(doc) as unknown as Record<string, unknown>);
    assert.equal(result.valid, true, JSON.stringify(result.errors, null, 1));
    for (const [path, method, scope] of [['/v1/events/{eventType}', 'post', 'ingest'], ['/v1/query', 'post', 'query'], ['/v1/batch', 'post', 'admin'], ['/v1/status', 'get', 'admin'], ['/metrics', 'get', 'admin']] as const) {
      const operation = doc.paths[path]![method]!;
      assert.equal(operation['x-tandem-scope'], scope);
      assert.deepEqual(operation.security, [{ apiKey: [] }]);
      assert.deepEqual(codesAt(operation, 401), ['unauthorized']);
      assert.deepEqual(codesAt(operation, 403), ['forbidden']);
      assert.equal(codesAt(operation, 421).length, 0, 'no loopback guard with keys');
    }
    assert.deepEqual(codesAt(doc.paths['/v1/views']!.get!, 403), [], 'any key reads the views');
    assert.equal(doc.paths['/healthz']!.get!.security, undefined, '/healthz is public');
  });
});

test('openapi - every code http-errors.ts maps is documented, on an operation at its status (with keys or without) or as an answer before any route', async () => {
  const documented = new Set<string>();
  for (const config of [shopConfig, withKeys]) {
    const opened = await openTestServer(config);
    try {
      const doc = await documentOf(opened, { authorization: `Bearer ${ADMIN_KEY}` });
      for (const operation of Object.values(doc.paths).flatMap((operations) => Object.values(operations))) {
        for (const status of Object.keys(operation.responses)) for (const code of codesAt(operation, Number(status))) documented.add(`${status} ${code}`);
      }
      for (const code of BEFORE_ANY_ROUTE) assert.match(doc.info.description, new RegExp(`${STATUS_BY_CODE[code]} \`${code}\``), code);
    } finally {
      await opened.close();
    }
  }
  for (const [code, status] of Object.entries(STATUS_BY_CODE)) {
    if (!BEFORE_ANY_ROUTE.has(code)) assert.ok(documented.has(`${status} ${code}`), `${status} ${code}`);
  }
});

/**
 * The codes each route's own work may answer with, read from its code: the
 * engine, log and cluster errors it can meet, and its body checks.
 */
const BODY_CODES = ['unsupported_media_type', 'unsupported_charset', 'unsupported_encoding', 'invalid_compression', 'invalid_utf8', 'body_too_large', 'malformed_body', 'bad_request'];
const ROUTE_CODES: readonly (readonly [string, string, readonly string[]])[] = [
  ['/v1/events/{eventType}', 'post', [
    ...BODY_CODES, 'unknown_event_type', 'url_too_long', 'invalid_event', 'too_many_events', 'event_too_large', 'log_overloaded', 'log_write_failed',
    'log_closed', 'speed_layer_full', 'disk_full', 'append_unacknowledged', 'append_rejected', 'cluster_log_closed',
  ]],
  ['/v1/query', 'post', [...BODY_CODES, 'unknown_view', 'unknown_dimension', 'unknown_measure', 'invalid_query', 'result_too_large', 'query_timeout', 'position_wait_timeout', 'view_not_ready']],
  ['/v1/batch', 'post', [
    ...BODY_CODES, 'batch_lease_held', 'batch_lease_expiring', 'batch_fenced', 'log_closed', 'log_write_failed', 'disk_full',
    'batch_holder_unreachable', 'batch_holder_silent', 'batch_request_timeout', 'remote_batch_failed', 'batch_message_invalid',
  ]],
  ['/v1/views', 'get', []],
  ['/v1/status', 'get', []],
  ['/v1/status/stream', 'get', []],
  ['/healthz', 'get', []],
  ['/metrics', 'get', []],
  ['/openapi.json', 'get', []],
];
/** The loopback guard of a server without keys answers on every route; so do closing and failing. */
const KEYLESS_CODES = ['host_not_allowed', 'cross_origin'];
const EVERY_ROUTE_CODES = ['shutting_down', 'internal'];
const OTHER_STATUS: Readonly<Record<string, number>> = { bad_request: 400, url_too_long: 414, internal: 500 };
/** Written to the connection when node cannot read a request, before any route is found. */
const BEFORE_ANY_ROUTE: ReadonlySet<string> = new Set(['request_timeout', 'headers_too_large', 'malformed_http']);
