import fc from 'fast-check';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createServer, type TandemServer } from '../../src/server/index.ts';
import { Tandem, type Query, type QueryResult } from '../../src/index.ts';
import { canonicalRows, referenceQuery } from '../support/reference.ts';
import { shopConfig, views } from '../support/shop-config.ts';
import { AcceptedEvents, shopEvent } from '../support/shop-events.ts';
import { shopQueries } from '../support/shop-queries.ts';

const BODY_LIMIT = 64 * 1024;
let dir: string;
let tandem: Tandem;
let server: TandemServer;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tandem-http-'));
  tandem = await Tandem.open({ dataDir: dir, config: shopConfig });
  server = createServer({ tandem, limits: { bodyBytes: BODY_LIMIT }, version: '9.9.9' });
});
after(async () => {
  await server.app.close();
  await tandem.close();
  await rm(dir, { recursive: true, force: true });
});

const ndjson = (events: readonly unknown[]) => events.map((e) => JSON.stringify(e)).join('\n');
const order = (id: string, extra: Record<string, unknown> = {}) =>
  ({ id, at: '2024-05-01T12:30:00Z', country: 'DE', mobile: true, amount: 12.5, qty: 2, ...extra });

function post(url: string, payload: string, contentType = 'application/x-ndjson') {
  return server.app.inject({ method: 'POST', url, headers: { 'content-type': contentType }, payload });
}

function errorOf(response: { json(): unknown }): { code: string; message: string; field?: string } {
  return (response.json() as { error: { code: string; message: string; field?: string } }).error;
}

describe('POST /v1/events/:eventType', () => {
  test('NDJSON: a bad line is rejected alone, by index and with the field at fault; the rest is durable and visible', async () => {
    const body = [JSON.stringify(order('a1')), '{not json', JSON.stringify(order('a2', { amount: 'ten' })), '', JSON.stringify(order('a3'))].join('\n');
    const response = await post('/v1/events/order', body);
    assert.equal(response.statusCode, 200);
    const result = response.json() as { accepted: number; rejected: { index: number; field: string; error: string }[]; lastOffset: number };
    assert.equal(result.accepted, 2);
    assert.deepEqual(result.rejected.map((r) => r.index), [1, 2]);
    assert.equal(result.rejected[0]!.error, 'This line is not valid JSON.');
    assert.equal(result.rejected[1]!.field, 'amount');
    assert.match(result.rejected[1]!.error, /amount/);
    assert.equal(result.lastOffset, 1);
    const answer = await post('/v1/query', JSON.stringify({ view: 'by_country_hour', granularity: 'all' }), 'application/json');
    assert.equal((answer.json() as QueryResult).rows[0]!.orders, 2);
  });

  test('a JSON array is accepted too, and a repeated idempotency key is counted as a duplicate', async () => {
    const response = await post('/v1/events/order', JSON.stringify([order('b1'), order('a1')]), 'application/json');
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), { accepted: 2, stored: 1, duplicates: 1, rejected: [], firstOffset: 2, lastOffset: 2, position: [3] });
  });

  test('errors: unknown type 404, malformed 400, not an array 400, empty 400, too large 413, wrong media type 415', async () => {
    const cases: [string, string, string, number, string, RegExp][] = [
      ['/v1/events/refund', ndjson([order('c1')]), 'application/x-ndjson', 404, 'unknown_event_type', /Unknown event type 'refund'/],
      ['/v1/events/order', '[{"id":', 'application/json', 400, 'bad_request', /JSON/],
      ['/v1/events/order', JSON.stringify(order('c1')), 'application/json', 400, 'malformed_body', /JSON array/],
      ['/v1/events/order', 'x'.repeat(BODY_LIMIT + 1), 'application/x-ndjson', 413, 'body_too_large', /./],
      ['/v1/events/order', ndjson([order('c1')]), 'text/csv', 415, 'unsupported_media_type', /./],
    ];
    for (const [url, payload, type, status, code, message] of cases) {
      const response = await post(url, payload, type);
      assert.equal(response.statusCode, status, `${url} ${type} → ${response.body}`);
      const error = errorOf(response);
      assert.equal(error.code, code);
      assert.match(error.message, message);
      assert.match(error.message, /^[A-Z].*[.!?]$/s, 'one sentence');
    }
    const empty = await server.app.inject({ method: 'POST', url: '/v1/events/order' });
    assert.equal(empty.statusCode, 400);
  });
});

describe('POST /v1/query', () => {
  test('unknown view, dimension and measure, and non-object bodies, get 400 naming the culprit', async () => {
    const cases: [unknown, string, RegExp][] = [
      [{ view: 'nope' }, 'unknown_view', /'nope'/],
      [{ view: 'by_country_hour', groupBy: ['city'] }, 'unknown_dimension', /'city'/],
      [{ view: 'by_country_hour', orderBy: [{ measure: 'profit' }] }, 'unknown_measure', /'profit'/],
      [{ view: 'by_country_hour', from: 'yesterday' }, 'invalid_query', /from/],
      [[{ view: 'by_country_hour' }], 'malformed_body', /JSON object/],
      ['by_country_hour', 'malformed_body', /JSON object/],
    ];
    for (const [body, code, message] of cases) {
      const response = await post('/v1/query', JSON.stringify(body), 'application/json');
      assert.equal(response.statusCode, 400, response.body);
      assert.equal(errorOf(response).code, code);
      assert.match(errorOf(response).message, message);
    }
    const unknownField = await post('/v1/query', JSON.stringify({ view: 'by_country_hour', groupBy: ['city'] }), 'application/json');
    assert.equal(errorOf(unknownField).field, 'groupBy[0]');
  });
});

describe('POST /v1/batch and the read endpoints', () => {
  test('a batch publishes; concurrent requests join one run', async () => {
    const [a, b] = await Promise.all([server.app.inject({ method: 'POST', url: '/v1/batch' }), server.app.inject({ method: 'POST', url: '/v1/batch' })]);
    assert.equal(a.statusCode, 200);
    const summary = a.json() as { version: number; cutoff: number; events: number; durationMs: number };
    assert.deepEqual(b.json(), a.json());
    assert.equal(summary.cutoff, tandem.status().logEnd);
    assert.equal(summary.events, summary.cutoff);
    assert.ok(summary.durationMs > 0);
  });

  test('a batch body may ask to seal; anything but true or false for it is refused in one sentence', async () => {
    const sealed = await server.app.inject({ method: 'POST', url: '/v1/batch', payload: { seal: true, full: true } });
    assert.equal(sealed.statusCode, 200, sealed.body);
    assert.equal((sealed.json() as { cutoff: number }).cutoff, tandem.status().logEnd);
    const wrong = await server.app.inject({ method: 'POST', url: '/v1/batch', payload: { seal: 'yes' } });
    assert.equal(wrong.statusCode, 400);
    assert.deepEqual(errorOf(wrong), { code: 'malformed_body', message: '"seal" must be true or false.' });
  });

  test('views, status, healthz, metrics and openapi answer', async () => {
    const get = (url: string) => server.app.inject({ method: 'GET', url });
    const viewsAnswer = (await get('/v1/views')).json() as { eventTypes: { name: string }[]; views: { name: string }[] };
    assert.deepEqual(viewsAnswer.views.map((v) => v.name), views.map((v) => v.name));
    assert.deepEqual(viewsAnswer.eventTypes.map((e) => e.name), ['order']);

    const status = (await get('/v1/status')).json() as Record<string, unknown>;
    for (const key of ['logEnd', 'batch', 'recentBatches', 'speed', 'ingestRate', 'memory']) assert.ok(key in status, key);
    assert.equal(status.version, '9.9.9');

    assert.deepEqual((await get('/healthz')).json(), { ok: true });

    const metrics = await get('/metrics');
    assert.match(metrics.headers['content-type'] as string, /text\/plain/);
    assert.match(metrics.body, /tandem_events_accepted_total\{event_type="order"\} 4/);
    assert.match(metrics.body, /tandem_events_rejected_total\{event_type="order"\} 2/);
    assert.match(metrics.body, /tandem_disk_free_bytes \d+/);
    assert.match(metrics.body, new RegExp(`tandem_log_end_offset ${tandem.status().logEnd}`));
    assert.match(metrics.body, /tandem_process_resident_memory_bytes/);

    const openapi = (await get('/openapi.json')).json() as { openapi: string; paths: Record<string, unknown>; components: { schemas: Record<string, unknown> } };
    assert.equal(openapi.openapi, '3.1.0');
    for (const path of ['/v1/events/{eventType}', '/v1/query', '/v1/batch', '/v1/views', '/v1/status', '/healthz', '/metrics']) assert.ok(path in openapi.paths, path);
    assert.ok('Event_order' in openapi.components.schemas);

    const missing = await get('/v2/nothing');
    assert.equal(missing.statusCode, 404);
    assert.equal(errorOf(missing).code, 'not_found');
  });
});

test('HTTP answers equal an independent recomputation, before and after a batch (NDJSON ingest in random batches)', async () => {
  const local = await mkdtemp(join(tmpdir(), 'tandem-http-ref-'));
  const engine = await Tandem.open({ dataDir: local, config: shopConfig });
  const app = createServer({ tandem: engine }).app;
  try {
    const batches = fc.sample(fc.array(shopEvent, { minLength: 1, maxLength: 60 }), { numRuns: 12, seed: 20261125 });
    const accepted = new AcceptedEvents();
    const check = async () => {
      for (const query of shopQueries()) {
        const response = await app.inject({ method: 'POST', url: '/v1/query', payload: query as object });
        assert.equal(response.statusCode, 200, response.body);
        const view = views.find((v) => v.name === query.view)!;
        assert.deepEqual(canonicalRows((response.json() as QueryResult).rows), canonicalRows(referenceQuery(view, accepted.events, query as Query)), JSON.stringify(query));
      }
    };
    for (const [i, batch] of batches.entries()) {
      const response = await app.inject({
        method: 'POST', url: '/v1/events/order', headers: { 'content-type': 'application/x-ndjson' }, payload: ndjson(batch.map((e) => e.raw)),
      });
      assert.equal(response.statusCode, 200);
      accepted.add(batch);
      if (i === 5) await app.inject({ method: 'POST', url: '/v1/batch' });
    }
    await check();
    await app.inject({ method: 'POST', url: '/v1/batch' });
    await check();
  } finally {
    await app.close();
    await engine.close();
    await rm(local, { recursive: true, force: true });
  }
});

test('backpressure - when more events wait for the disk than the limit, ingest answers 503 with Retry-After and stores nothing of that request', async () => {
  const overloadDir = await mkdtemp(join(tmpdir(), 'tandem-overload-'));
  const engine = await Tandem.open({ dataDir: overloadDir, config: shopConfig, maxPendingEvents: 150 });
  const overloaded = createServer({ tandem: engine });
  try {
    const bodies = Array.from({ length: 8 }, (_, b) => ndjson(Array.from({ length: 100 }, (_, i) => order(`o${b}-${i}`))));
    const responses = await Promise.all(bodies.map((payload) =>
      overloaded.app.inject({ method: 'POST', url: '/v1/events/order', headers: { 'content-type': 'application/x-ndjson' }, payload })));
    const refused = responses.filter((r) => r.statusCode === 503);
    assert.ok(refused.length > 0, 'some requests are refused');
    for (const r of refused) {
      assert.equal(r.headers['retry-after'], '1');
      assert.equal(errorOf(r).code, 'log_overloaded');
      assert.match(errorOf(r).message, /retry/);
    }
    const accepted = responses.filter((r) => r.statusCode === 200).length * 100;
    const answer = await overloaded.app.inject({ method: 'POST', url: '/v1/query', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ view: 'all_time', granularity: 'all' }) });
    const rows = (answer.json() as QueryResult).rows as { orders: number }[];
    assert.equal(rows.reduce((n, r) => n + r.orders, 0), accepted);
  } finally {
    await overloaded.app.close();
    await engine.close();
    await rm(overloadDir, { recursive: true, force: true });
  }
});
