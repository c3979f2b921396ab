import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createServer, type TandemServer } from '../../src/server/index.ts';
import { QueryTimeoutError, type Tandem } from '../../src/index.ts';
import { shopConfig } from '../support/shop-config.ts';
import { openTestServer, type TestServer } from '../support/test-server.ts';

let opened: TestServer;
let tandem: Tandem;
let server: TandemServer;

before(async () => {
  opened = await openTestServer({ ...shopConfig, server: { limits: { lineBytes: 300, eventsPerRequest: 5, queryRows: 3 } } });
  ({ tandem, server } = opened);
});
after(() => opened.close());

const order = (id: string, extra: Record<string, unknown> = {}) =>
  ({ id, at: '2024-05-01T12:30:00Z', country: 'DE', mobile: true, amount: 12.5, qty: 2, ...extra });

function post(url: string, payload: string, contentType = 'application/x-ndjson') {
  return server.app.inject({ method: 'POST', url, headers: { 'content-type': contentType }, payload });
}

test('limits: a line over the byte limit is rejected alone, by its index; the rest of the request is stored', async () => {
  const lines = [order('l1'), order('l2', { device: 'x'.repeat(400) }), order('l3')].map((e) => JSON.stringify(e));
  const response = await post('/v1/events/order', lines.join('\n'));
  assert.equal(response.statusCode, 200);
  const body = response.json();
  assert.equal(body.accepted, 2);
  assert.deepEqual(body.rejected, [{ index: 1, field: '', error: "This line is longer than this server's limit of 300 bytes per event." }]);
});

test('limits: more events than the per-request limit refuse the whole request with 413 (NDJSON and JSON), and store nothing', async () => {
  const before = tandem.status().logEnd;
  const six = Array.from({ length: 6 }, (_, i) => order(`m${i}`));
  for (const [payload, type] of [[six.map((e) => JSON.stringify(e)).join('\n'), 'application/x-ndjson'], [JSON.stringify(six), 'application/json']] as const) {
    const response = await post('/v1/events/order', payload, type);
    assert.equal(response.statusCode, 413);
    assert.deepEqual(response.json().error, {
      code: 'too_many_events',
      message: "This request holds 6 events, more than this server's limit of 5 per request; send smaller batches.",
    });
  }
  // Blank lines are not events: five events over seven lines are taken.
  const five = six.slice(1).map((e) => JSON.stringify(e)).join('\n\n\n');
  assert.equal((await post('/v1/events/order', five)).json().accepted, 5);
  assert.equal(tandem.status().logEnd, before + 5);
});

test('limits: an answer over the row limit is refused with 400 naming limit; a limit within it is answered', async () => {
  const countries = ['DE', 'FR', 'US', 'BR'].map((country, i) => JSON.stringify(order(`r${i}`, { country })));
  assert.equal((await post('/v1/events/order', countries.join('\n'))).statusCode, 200);
  const query = { view: 'all_time', granularity: 'all', groupBy: ['country'] };
  const refused = await post('/v1/query', JSON.stringify(query), 'application/json');
  assert.equal(refused.statusCode, 400);
  assert.deepEqual(refused.json().error, {
    code: 'result_too_large', field: 'limit',
    message: 'The answer has 4 rows, more than the limit of 3; set a smaller limit, a coarser granularity or a narrower where.',
  });
  const limited = await post('/v1/query', JSON.stringify({ ...query, limit: 3, orderBy: [{ measure: 'orders', desc: true }] }), 'application/json');
  assert.equal(limited.statusCode, 200);
  assert.equal(limited.json().rows.length, 3);
});

test('limits: a query past its time limit is stopped with a typed error, and over HTTP answers 503 with the limit', async () => {
  // Enough minute buckets that scanning them takes far longer than the limit on any machine.
  const base = Date.UTC(2024, 0, 1);
  for (let chunk = 0; chunk < 40; chunk++) {
    const events = Array.from({ length: 5000 }, (_, i) => order(`t${chunk}-${i}`, { at: base + (chunk * 5000 + i) * 60_000 }));
    await tandem.ingest('order', events);
  }
  const query = { view: 'by_country_minute', granularity: 'hour', groupBy: ['country'], limit: 1 } as const;
  await assert.rejects(tandem.query(query, { timeoutMs: 0 }), (error: unknown) => error instanceof QueryTimeoutError && error.code === 'query_timeout');
  // Without a limit the same query is answered: the error is the limit's, not the query's.
  assert.equal((await tandem.query(query)).rows.length, 1);

  const slow = createServer({ tandem, limits: { queryTimeoutMs: 1, queryRows: 1_000_000 } });
  const response = await slow.app.inject({ method: 'POST', url: '/v1/query', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(query) });
  await slow.app.close();
  assert.equal(response.statusCode, 503);
  assert.deepEqual(response.json().error, {
    code: 'query_timeout',
    message: 'The query ran longer than the limit of 1 ms and was stopped; narrow its time range or where, or use a coarser granularity.',
  });
});
