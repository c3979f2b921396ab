/**
 * `timeZone` over HTTP and through the typed client: local days in the
 * answer, `meta.timeZone`, the OpenAPI document, and each refusal as a 400
 * with its code, the field `timeZone`, and the client's own error class.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createClient, TimeZoneRollUpError, UnknownTimeZoneError, type TandemClient } from '../../src/client/index.ts';
import { defineConfig, defineEventType, defineView } from '../../src/index.ts';
import { openTestServer, type TestServer } from '../support/test-server.ts';

const sale = defineEventType({ name: 'sale', time: 'at', idempotencyKey: 'id', fields: { id: 'string', at: 'timestamp', region: 'string' } });
const config = defineConfig({
  eventTypes: [sale],
  views: [
    defineView(sale, { name: 'by_hour', dimensions: ['region'], granularity: 'hour', measures: { orders: { type: 'count' } } }),
    defineView(sale, { name: 'by_day', dimensions: ['region'], granularity: 'day', measures: { orders: { type: 'count' } } }),
  ],
});

let opened: TestServer;
let client: TandemClient<typeof config>;

before(async () => {
  opened = await openTestServer(config);
  // 23:00 and 23:30 UTC on 31 December 2025: 1 January 2026 in Berlin (from its midnight on), still 31 December in New York.
  await opened.tandem.ingest('sale', [
    { id: 'a', at: '2025-12-31T23:00:00Z', region: 'north' }, { id: 'b', at: '2025-12-31T23:30:00Z', region: 'north' }, { id: 'c', at: '2026-01-01T06:00:00Z', region: 'north' },
  ]);
  client = createClient<typeof config>({ url: await opened.server.app.listen({ host: '127.0.0.1', port: 0 }), retry: false });
});
after(async () => {
  await opened.close();
});

test('time zone route - POST /v1/query answers local days of the zone it names, and meta names the zone', async () => {
  const post = async (timeZone?: string) => {
    const response = await opened.server.app.inject({ method: 'POST', url: '/v1/query', payload: { view: 'by_hour', granularity: 'year', ...(timeZone === undefined ? {} : { timeZone }) } });
    assert.equal(response.statusCode, 200, response.body);
    return response.json() as { rows: { time: string; orders: number }[]; meta: { timeZone: string } };
  };
  const berlin = await post('Europe/Berlin');
  assert.deepEqual(berlin.rows, [{ time: '2026-01-01T00:00:00.000+01:00', orders: 3 }]);
  assert.equal(berlin.meta.timeZone, 'Europe/Berlin');
  const utc = await post();
  assert.deepEqual(utc.rows, [{ time: '2025-01-01T00:00:00.000Z', orders: 2 }, { time: '2026-01-01T00:00:00.000Z', orders: 1 }]);
  assert.equal(utc.meta.timeZone, 'UTC');
});

test('time zone route - an unknown zone and buckets that do not fit are 400s naming timeZone, each with its code', async () => {
  const unknown = await opened.server.app.inject({ method: 'POST', url: '/v1/query', payload: { view: 'by_hour', granularity: 'day', timeZone: 'Europe/Atlantis' } });
  assert.equal(unknown.statusCode, 400);
  assert.deepEqual(unknown.json(), {
    error: { code: 'unknown_time_zone', field: 'timeZone', message: "timeZone 'Europe/Atlantis' is not an IANA time zone name this server knows; use one such as 'Europe/Berlin', 'America/New_York' or 'UTC'." },
  });
  const coarse = await opened.server.app.inject({ method: 'POST', url: '/v1/query', payload: { view: 'by_day', granularity: 'month', timeZone: 'Europe/Berlin' } });
  assert.equal(coarse.statusCode, 400);
  assert.deepEqual((coarse.json() as { error: object }).error, {
    code: 'time_zone_roll_up', field: 'timeZone',
    message: "View 'by_day' has day buckets, which straddle local midnights of Europe/Berlin; define a view with hour buckets of the same measures to query it in that time zone.",
  });
});

test('time zone route - the typed client sends timeZone and throws each refusal as its own class', async () => {
  const { rows, meta } = await client.query({ view: 'by_hour', groupBy: ['region'], granularity: 'day', timeZone: 'America/New_York' });
  assert.deepEqual(rows.map((r) => [r.region, r.time, r.orders]), [['north', '2025-12-31T00:00:00.000-05:00', 2], ['north', '2026-01-01T00:00:00.000-05:00', 1]]);
  assert.equal(meta.timeZone, 'America/New_York');
  await assert.rejects(client.query({ view: 'by_hour', granularity: 'day', timeZone: 'Nowhere/Special' }), (error: unknown) => {
    assert.ok(error instanceof UnknownTimeZoneError);
    assert.equal(error.timeZone, 'Nowhere/Special');
    return true;
  });
  await assert.rejects(client.query({ view: 'by_hour', granularity: 'quarter', timeZone: 'Asia/Kolkata' }), (error: unknown) => {
    assert.ok(error instanceof TimeZoneRollUpError);
    assert.deepEqual([error.view, error.granularity, error.timeZone, error.needs], ['by_hour', 'hour', 'Asia/Kolkata', 'minute']);
    return true;
  });
});

test('time zone route - the OpenAPI document describes timeZone, quarter and year, meta.timeZone and both refusals', async () => {
  const doc = (await opened.server.app.inject({ url: '/openapi.json' })).json() as {
    components: { schemas: Record<string, { properties: Record<string, { enum?: string[]; type?: string; properties?: Record<string, unknown> }> }> };
    paths: Record<string, { post: { responses: Record<string, { description: string }> } }>;
  };
  const query = doc.components.schemas.Query!.properties;
  assert.equal(query.timeZone?.type, 'string');
  assert.deepEqual(query.granularity?.enum, ['minute', 'hour', 'day', 'week', 'month', 'quarter', 'year', 'all']);
  assert.ok('timeZone' in (doc.components.schemas.QueryResult!.properties.meta!.properties ?? {}));
  const refusals = doc.paths['/v1/query']!.post.responses['400']!.description;
  assert.match(refusals, /`unknown_time_zone`/);
  assert.match(refusals, /`time_zone_roll_up`/);
});
