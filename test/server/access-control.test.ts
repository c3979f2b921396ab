import fc from 'fast-check';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { TandemServer } from '../../src/server/index.ts';
import { type Tandem, type TandemConfig } from '../../src/index.ts';
import { keyDigest } from '../../src/definitions/index.ts';
import { shopConfig } from '../support/shop-config.ts';
import { openTestServer, type TestServer } from '../support/test-server.ts';

const INGEST_KEY = 'ingest-key-0123456789abcdef';
const QUERY_KEY = 'query-key-0123456789abcdef';
const ADMIN_KEY = 'admin-key-0123456789abcdef';

/** Keys as a deployment writes them: one secret in the file, the others only as digests. */
const config: TandemConfig = {
  ...shopConfig,
  server: {
    apiKeys: [
      { name: 'loader', scopes: ['ingest'], key: INGEST_KEY },
      { name: 'analyst', scopes: ['query'], sha256: keyDigest(QUERY_KEY).toString('hex') },
      { name: 'ops', scopes: ['admin'], sha256: keyDigest(ADMIN_KEY).toString('hex') },
    ],
    limits: { bodyBytes: 4096 },
  },
};

let opened: TestServer;
let tandem: Tandem;
let server: TandemServer;

before(async () => {
  opened = await openTestServer(config);
  ({ tandem, server } = opened);
});
after(() => opened.close());

const order = { id: 'a1', at: '2024-05-01T12:30:00Z', country: 'DE', mobile: true, amount: 12.5, qty: 2 };
const QUERY = JSON.stringify({ view: 'all_time', granularity: 'all', groupBy: ['country'] });

const ROUTES = {
  ingest: { method: 'POST', url: '/v1/events/order', headers: { 'content-type': 'application/x-ndjson' }, payload: JSON.stringify(order) },
  query: { method: 'POST', url: '/v1/query', headers: { 'content-type': 'application/json' }, payload: QUERY },
  batch: { method: 'POST', url: '/v1/batch', headers: { 'content-type': 'application/json' }, payload: '{}' },
  status: { method: 'GET', url: '/v1/status', headers: {} },
  metrics: { method: 'GET', url: '/metrics', headers: {} },
  views: { method: 'GET', url: '/v1/views', headers: {} },
} as const;

function call(route: keyof typeof ROUTES, key?: string) {
  const { method, url, headers, ...rest } = ROUTES[route];
  const payload = 'payload' in rest ? rest.payload : undefined;
  return server.app.inject({ method, url, payload, headers: { ...headers, ...(key === undefined ? {} : { authorization: `Bearer ${key}` }) } });
}

test('access: without a key every data route answers 401 with a Bearer challenge; health and the dashboard page stay public', async () => {
  for (const route of Object.keys(ROUTES) as (keyof typeof ROUTES)[]) {
    const response = await call(route);
    assert.equal(response.statusCode, 401, route);
    assert.equal(response.headers['www-authenticate'], 'Bearer realm="tandem"');
    assert.equal(response.json().error.code, 'unauthorized');
    assert.match(response.json().error.message, /^This server needs an API key: send it as the header "Authorization: Bearer <key>"\.$/);
  }
  for (const url of ['/healthz', '/']) assert.equal((await server.app.inject({ url })).statusCode, 200, url);
  // HEAD takes its GET route's scope; the status stream is checked before it takes over the connection.
  for (const [method, url] of [['HEAD', '/v1/status'], ['HEAD', '/metrics'], ['GET', '/v1/status/stream'], ['GET', '/openapi.json']] as const) {
    assert.equal((await server.app.inject({ method, url })).statusCode, 401, `${method} ${url}`);
  }
  assert.equal((await server.app.inject({ url: '/v1/status/stream', headers: { authorization: `Bearer ${QUERY_KEY}` } })).statusCode, 403);
  const openapi = (await server.app.inject({ url: '/openapi.json', headers: { authorization: `Bearer ${INGEST_KEY}` } })).json();
  assert.deepEqual(openapi.paths['/v1/query'].post.security, [{ apiKey: [] }]);
  assert.equal(openapi.paths['/v1/batch'].post['x-tandem-scope'], 'admin');
  assert.equal(openapi.components.securitySchemes.apiKey.scheme, 'bearer');
  assert.equal(tandem.status().logEnd, 0);
});

test('access: each scope opens its own routes and gets 403 naming the missing scope elsewhere', async () => {
  const allowed: Record<string, readonly (keyof typeof ROUTES)[]> = {
    [INGEST_KEY]: ['ingest', 'views'],
    [QUERY_KEY]: ['query', 'views'],
    [ADMIN_KEY]: ['batch', 'status', 'metrics', 'views'],
  };
  const needs = { ingest: 'ingest', query: 'query', batch: 'admin', status: 'admin', metrics: 'admin' } as const;
  for (const [key, routes] of Object.entries(allowed)) {
    for (const route of Object.keys(ROUTES) as (keyof typeof ROUTES)[]) {
      const response = await call(route, key);
      if (routes.includes(route)) {
        assert.equal(response.statusCode, 200, `${route} with a key for ${routes.join(', ')}`);
        continue;
      }
      assert.equal(response.statusCode, 403, route);
      const error = response.json().error;
      assert.equal(error.code, 'forbidden');
      assert.match(error.message, new RegExp(`^This API key may not .+; that needs a key with the '${needs[route as keyof typeof needs]}' scope\\.$`));
    }
  }
  // The ingest key's one event is there for the query key to see.
  assert.deepEqual((await call('query', QUERY_KEY)).json().rows, [{ country: 'DE', orders: 1, revenue: 12.5, sizes: 1, typical: { p50: 2, p90: 2, p99: 2 } }]);
  assert.match((await call('metrics', ADMIN_KEY)).body, /tandem_http_denied_total\{reason="forbidden"\} [1-9]/);
});

test('access: a wrong, malformed or mangled key is refused with the same sentence, and the key is checked before the body is read', async () => {
  const refusals = new Set<string>();
  for (const authorization of [`Bearer ${INGEST_KEY}x`, `Bearer ${INGEST_KEY.slice(1)}`, `Basic ${INGEST_KEY}`, INGEST_KEY, 'Bearer', `Bearer ${QUERY_KEY.toUpperCase()}`]) {
    const response = await server.app.inject({ method: 'POST', url: '/v1/query', headers: { 'content-type': 'application/json', authorization }, payload: QUERY });
    assert.equal(response.statusCode, 401, authorization);
    refusals.add(response.json().error.code);
  }
  assert.deepEqual([...refusals], ['unauthorized']);
  // A body over the limit from a stranger is refused for the key, not parsed for its size.
  const big = await server.app.inject({ method: 'POST', url: '/v1/events/order', headers: { 'content-type': 'application/x-ndjson' }, payload: 'x'.repeat(10_000) });
  assert.equal(big.statusCode, 401);
});

test('access: no header value, however hostile, gets past the check or crashes the server (fast-check, seeded)', async () => {
  const before = tandem.status().logEnd;
  await fc.assert(fc.asyncProperty(
    fc.oneof(fc.string({ maxLength: 200 }), fc.string().map((s) => `Bearer ${s}`), fc.constantFrom(`Bearer ${ADMIN_KEY} extra`, `Bearer  ${'\u0000'.repeat(40)}`)),
    async (authorization) => {
      const response = await server.app.inject({ method: 'POST', url: '/v1/events/order', headers: { 'content-type': 'application/x-ndjson', authorization: authorization.replace(/[\r\n]/g, '') }, payload: JSON.stringify(order) });
      assert.ok(response.statusCode === 401 || response.statusCode === 403, `${JSON.stringify(authorization)} got ${response.statusCode}`);
    },
  ), { seed: 20261125, numRuns: 300 });
  assert.equal(tandem.status().logEnd, before);
});
