/**
 * The typed client against the real server (the engine and `createServer`,
 * in this process, on a free port): batched ingest, typed rows, and error
 * answers turned into the engine's classes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  createClient, ForbiddenError, InvalidQueryError, ResultTooLargeError, UnauthorizedError, UnknownDimensionError, UnknownEventTypeError,
  UnknownMeasureError, UnknownViewError, type IngestProgress, type Query, type TandemClient,
} from '../../src/client/index.ts';
import { defineConfig, defineEventType, defineView } from '../../src/index.ts';
import { openTestServer, type TestServer } from '../support/test-server.ts';

const sale = defineEventType({
  name: 'sale',
  time: 'at',
  idempotencyKey: 'id',
  fields: { id: 'string', at: 'timestamp', shop: 'string', online: 'boolean', amount: { type: 'number', scale: 2 }, note: { type: 'string', optional: true } },
});
const config = defineConfig({
  eventTypes: [sale],
  views: [
    defineView(sale, {
      name: 'sales_by_shop',
      dimensions: ['shop', 'online'],
      granularity: 'hour',
      measures: {
        sales: { type: 'count' }, revenue: { type: 'sum', field: 'amount' }, basket: { type: 'avg', field: 'amount' },
        largest: { type: 'max', field: 'amount' }, last: { type: 'max', field: 'at' },
      },
    }),
    defineView(sale, { name: 'per_sale', dimensions: ['id'], granularity: 'none', measures: { n: { type: 'count' } } }),
  ],
  server: { limits: { eventsPerRequest: 10, queryRows: 50 } },
});

const at = (minute: number) => new Date(Date.UTC(2024, 4, 1, 12, minute)).toISOString();
const saleEvent = (i: number) => ({ id: `s${i}`, at: at(i % 60), shop: i % 2 === 0 ? 'berlin' : 'paris', online: i % 3 === 0, amount: 10 + (i % 5) });

/** A fetch that counts requests and the events each ingest carried. */
function countingFetch() {
  const ingests: number[] = [];
  let requests = 0;
  const fetcher: typeof fetch = (input, init) => {
    requests++;
    if (String(input).includes('/v1/events/')) ingests.push(String(init?.body).split('\n').length);
    return fetch(input, init);
  };
  return { fetcher, ingests, requests: () => requests };
}

describe('client - against the real server', () => {
  let opened: TestServer;
  let url: string;
  const counter = countingFetch();
  let client: TandemClient<typeof config>;

  before(async () => {
    opened = await openTestServer(config);
    url = await opened.server.app.listen({ host: '127.0.0.1', port: 0 });
    client = createClient<typeof config>({ url, batchSize: 25, fetch: counter.fetcher });
  });
  after(async () => {
    await opened?.close();
  });

  test('ingest - sends a large array in batches, shrinks them to the limit a 413 states, and adds the answers up', async () => {
    const events = Array.from({ length: 57 }, (_, i) => saleEvent(i));
    // Two bad events: their indexes must come back as positions in the whole call.
    const bad = [...events] as unknown[];
    bad[5] = { ...saleEvent(5), amount: 'ten' };
    bad[33] = { ...saleEvent(33), shop: undefined };
    const progress: IngestProgress[] = [];
    const result = await client.ingest('sale', bad as typeof events, { onBatch: (p) => progress.push(p) });
    assert.equal(result.accepted, 55);
    assert.equal(result.duplicates, 0);
    assert.deepEqual(result.rejected.map((r) => [r.index, r.field]), [[5, 'amount'], [33, 'shop']]);
    assert.equal(result.firstOffset, 0);
    assert.equal(result.lastOffset, 54);
    // 25 refused whole (413 too_many_events: the limit is 10), then 10 at a time.
    assert.deepEqual(counter.ingests, [25, 10, 10, 10, 10, 10, 7]);
    assert.deepEqual(progress.map((p) => p.sent), [10, 20, 30, 40, 50, 57]);
    assert.deepEqual(progress.map((p) => p.batch.rejected.map((r) => r.index)), [[5], [], [], [33], [], []]);

    // The limit is remembered: the next ingest starts at 10 events a request. Resent events are duplicates;
    // the one rejected before (s5) is stored now, at the next offset.
    counter.ingests.length = 0;
    const again = await client.ingest('sale', events.slice(0, 12));
    assert.deepEqual(counter.ingests, [10, 2]);
    assert.deepEqual(again, { accepted: 12, stored: 1, duplicates: 11, rejected: [], firstOffset: 55, lastOffset: 55, position: [56] });
    assert.deepEqual(await client.ingest('sale', []), { accepted: 0, stored: 0, duplicates: 0, rejected: [], firstOffset: null, lastOffset: null });
  });

  test('query - typed rows carry the grouped dimensions, time unless all, and each measure as the server returns it', async () => {
    const { lastOffset } = await client.ingest('sale', [{ id: 'late', at: '2024-05-01T13:30:00Z', shop: 'rome', online: true, amount: 0.1, note: null }]);
    const { rows, meta } = await client.query({ view: 'sales_by_shop', where: { shop: 'rome' }, groupBy: ['shop', 'online'] });
    // Read-your-writes: the answer covers the log up to and past the ingest's last offset.
    assert.ok(meta.logEnd > lastOffset!);
    assert.equal(meta.layer, 'merged');
    assert.deepEqual(rows, [{ shop: 'rome', online: true, time: '2024-05-01T13:00:00.000Z', sales: 1, revenue: 0.1, basket: 0.1, largest: 0.1, last: '2024-05-01T13:30:00.000Z' }]);
    const shop: string | null = rows[0]!.shop;
    assert.equal(shop, 'rome');

    // Stored so far: s0–s56 but s33 (rejected), and 'late'.
    const stored = Array.from({ length: 57 }, (_, i) => saleEvent(i)).filter((e) => e.id !== 's33');
    const expected = (shop: string) => {
      const of = stored.filter((e) => e.shop === shop);
      return [shop, of.length, of.reduce((sum, e) => sum + e.amount, 0)];
    };
    const totals = await client.query({ view: 'sales_by_shop', groupBy: ['shop'], granularity: 'all', orderBy: [{ measure: 'revenue', desc: true }] });
    assert.deepEqual(totals.rows.map((r) => [r.shop, r.sales, r.revenue]), [expected('berlin'), expected('paris'), ['rome', 1, 0.1]]);
    assert.ok(totals.rows.every((r) => !('time' in r)), 'no time column at granularity all');

    const none = await client.query({ view: 'per_sale', where: { id: ['s1', 's2'] }, groupBy: ['id'] });
    assert.deepEqual(none.rows, [{ id: 's1', n: 1 }, { id: 's2', n: 1 }]);
  });

  test('query - a value or sum a double cannot print comes back as exact decimal text, as MeasureValue says', async () => {
    // 9e13 at scale 2, just inside the ±2^53 / 100 a value may hold: the double nearest 90000000000000.01 prints as .02.
    const huge = '90000000000000.01';
    await client.ingest('sale', [0, 1].map((i) => ({ id: `huge${i}`, at: at(0), shop: 'vault', online: false, amount: huge })));
    const { rows } = await client.query({ view: 'sales_by_shop', where: { shop: 'vault' }, groupBy: ['shop'], granularity: 'all' });
    const revenue: number | string = rows[0]!.revenue;
    assert.equal(revenue, '180000000000000.02');
    assert.equal(rows[0]!.largest, huge);
    await client.ingest('sale', [{ id: 'round', at: at(0), shop: 'round', online: false, amount: 90_000_000_000_000 }]);
    const round = await client.query({ view: 'sales_by_shop', where: { shop: 'round' }, groupBy: ['shop'], granularity: 'all' });
    assert.equal(round.rows[0]!.revenue, 90_000_000_000_000, 'a number wherever it prints as the stored decimal');
  });

  test('errors - answers become the engine\'s classes, with the fields the request and answer tell', async () => {
    const dynamic = (query: Query) => client.queryUntyped(query);
    await assert.rejects(dynamic({ view: 'no_such_view' }), (e: unknown) =>
      e instanceof UnknownViewError && e.code === 'unknown_view' && e.view === 'no_such_view' && e.message === "Unknown view 'no_such_view'.");
    await assert.rejects(dynamic({ view: 'sales_by_shop', groupBy: ['online', 'contry'] }), (e: unknown) =>
      e instanceof UnknownDimensionError && e.field === 'groupBy[1]' && e.dimension === 'contry' && e.view === 'sales_by_shop');
    await assert.rejects(dynamic({ view: 'sales_by_shop', where: { contry: 'x' } }), (e: unknown) =>
      e instanceof UnknownDimensionError && e.field === 'where.contry' && e.dimension === 'contry');
    await assert.rejects(dynamic({ view: 'sales_by_shop', orderBy: [{ measure: 'revenu' }] }), (e: unknown) =>
      e instanceof UnknownMeasureError && e.field === 'orderBy[0].measure' && e.measure === 'revenu' && e.view === 'sales_by_shop');
    await assert.rejects(dynamic({ view: 'sales_by_shop', limit: -1 }), (e: unknown) =>
      e instanceof InvalidQueryError && e.field === 'limit' && /non-negative integer/.test(e.message));
    await assert.rejects(client.query({ view: 'per_sale', groupBy: ['id'] }), (e: unknown) =>
      e instanceof ResultTooLargeError && e.field === 'limit' && e.maxRows === 50 && e.rows > 50);
    await assert.rejects(client.ingestUntyped('refund', [{}]), (e: unknown) =>
      e instanceof UnknownEventTypeError && e.eventType === 'refund' && e.code === 'unknown_event_type');
  });

  test('batch, status and views', async () => {
    const summary = await client.batch();
    assert.ok(summary.version >= 1);
    assert.equal(summary.cutoff, (await client.status()).batch?.cutoff);
    const status = await client.status();
    assert.ok(status.logEnd >= summary.cutoff);
    assert.equal(typeof status.version, 'string');
    // The typed definitions are the plain JSON config, exactly: the server hands back what JSON.stringify writes.
    const { eventTypes, views } = await client.views();
    assert.deepEqual({ eventTypes, views }, JSON.parse(JSON.stringify({ eventTypes: config.eventTypes, views: config.views })));
    // Answers from the batch view are the same rows, typed the same.
    const { rows, meta } = await client.query({ view: 'sales_by_shop', groupBy: ['shop'], granularity: 'all', layer: 'batch' });
    assert.equal(meta.layer, 'batch');
    assert.deepEqual(rows.find((r) => r.shop === 'rome'), { shop: 'rome', sales: 1, revenue: 0.1, basket: 0.1, largest: 0.1, last: '2024-05-01T13:30:00.000Z' });
  });
});

describe('client - against a server with API keys', () => {
  const loader = 'loader-key-0123456789';
  const reader = 'reader-key-0123456789';
  let opened: TestServer;
  let url: string;

  before(async () => {
    opened = await openTestServer(defineConfig({
      ...config,
      server: { apiKeys: [{ name: 'loader', scopes: ['ingest'], key: loader }, { name: 'reader', scopes: ['query'], key: reader }] },
    }));
    url = await opened.server.app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(async () => {
    await opened?.close();
  });

  test('auth - the key is sent as a bearer token; 401 and 403 become UnauthorizedError and ForbiddenError', async () => {
    const result = await createClient<typeof config>({ url, apiKey: loader }).ingest('sale', [saleEvent(1)]);
    assert.equal(result.accepted, 1);
    const { rows } = await createClient<typeof config>({ url, apiKey: reader }).query({ view: 'per_sale', groupBy: ['id'] });
    assert.deepEqual(rows, [{ id: 's1', n: 1 }]);
    await assert.rejects(createClient({ url }).query({ view: 'per_sale' }), (e: unknown) => e instanceof UnauthorizedError && e.code === 'unauthorized');
    await assert.rejects(createClient({ url, apiKey: 'not-a-key-0123456789' }).status(), UnauthorizedError);
    await assert.rejects(createClient({ url, apiKey: reader }).batch(), (e: unknown) => e instanceof ForbiddenError && e.scope === 'admin' && /'admin' scope/.test(e.message));
  });
});
