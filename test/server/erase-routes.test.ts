/**
 * Erasure over HTTP (issue #31): `POST /v1/erase` with the admin scope
 * erases and answers the audit record (the key's name as who asked, no
 * value); `GET /v1/erasures` lists the records; a malformed request is a 400
 * naming the part at fault, and a key without the admin scope is refused.
 * With views keeping aggregates, the audit says what happened to their
 * frozen rows, and an erasure they could outlive is a 409.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createClient, ErasureFrozenValueError, InvalidErasureError } from '../../src/client/index.ts';
import { defineConfig, defineEventType, defineView, Tandem } from '../../src/index.ts';
import { createServer } from '../../src/server/index.ts';
import { byCustomer, byPlan, ERASED_CUSTOMER, usage, usageEvents } from '../support/erasure-fixture.ts';
import { withTempDir } from '../support/temp-dir.ts';
import { openTestServer, type TestServer } from '../support/test-server.ts';

const OPS = 'k'.repeat(32);
const APP = 'a'.repeat(32);
const config = defineConfig({
  eventTypes: [usage], views: [byCustomer, byPlan],
  server: { apiKeys: [{ name: 'ops', key: OPS, scopes: ['admin', 'query', 'ingest'] }, { name: 'app', key: APP, scopes: ['query', 'ingest'] }] },
});

describe('erase routes - over HTTP', () => {
  let opened: TestServer;
  let url: string;
  const call = async (path: string, key: string, body?: unknown) => {
    const response = await fetch(`${url}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: await response.json() as Record<string, unknown> };
  };

  before(async () => {
    opened = await openTestServer(config);
    url = await opened.server.app.listen({ host: '127.0.0.1', port: 0 });
    await opened.tandem.ingest('usage', usageEvents(0, 700));
  });
  after(() => opened.close());

  test('an admin key erases: the answer is the audit record, and no answer counts the customer after', async () => {
    const erased = await call('/v1/erase', OPS, { eventType: 'usage', where: { customer: ERASED_CUSTOMER } });
    assert.equal(erased.status, 200, JSON.stringify(erased.body));
    assert.equal(erased.body.events, 100);
    assert.deepEqual([erased.body.by, erased.body.eventType, erased.body.fields], ['key:ops', 'usage', ['customer']]);
    const { rows } = await opened.tandem.query({ view: 'by_customer', groupBy: ['customer'], granularity: 'all', where: { customer: ERASED_CUSTOMER } });
    assert.deepEqual(rows, []);
    const listed = await call('/v1/erasures', OPS);
    assert.equal(listed.status, 200);
    assert.equal((listed.body as unknown as unknown[]).length, 1);
    assert.ok(!JSON.stringify(listed.body).includes(ERASED_CUSTOMER), 'the audit log holds no value');
  });

  test('a malformed request is a 400 naming the part at fault; a key without the admin scope is a 403', async () => {
    const bad = await call('/v1/erase', OPS, { eventType: 'usage', where: { units: 'many' } });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.error, { code: 'invalid_erasure', field: 'where.units', message: "where.units: Field 'units' must be a number, or a decimal string such as \"12.50\"; got \"many\"." });
    const forbidden = await call('/v1/erase', APP, { eventType: 'usage', where: { customer: 'cust-1' } });
    assert.equal(forbidden.status, 403);
    assert.equal((await call('/v1/erasures', APP)).status, 403);
  });

  test('the typed client erases and lists, and throws the typed error of a refusal', async () => {
    const client = createClient({ url, apiKey: OPS });
    const audit = await client.erase({ eventType: 'usage', where: { customer: 'cust-3', plan: 'team' } });
    assert.equal(audit.by, 'key:ops');
    assert.ok(audit.events > 0);
    assert.deepEqual((await client.erasures()).map((a) => a.id).at(-1), audit.id);
    await assert.rejects(client.erase({ eventType: 'usage', where: { nobody: 1 } }), (e: unknown) => e instanceof InvalidErasureError && e.path === 'where.nobody');
  });
});

describe('erase routes - frozen aggregates over HTTP', () => {
  const DAY = 86_400_000;
  const retained = defineEventType({ ...usage, retention: '30d' });
  const frozenConfig = defineConfig({
    eventTypes: [retained],
    views: [
      defineView(retained, { ...byCustomer, keepAggregates: true }),
      defineView(retained, { name: 'largest', dimensions: ['plan'], granularity: 'day', keepAggregates: true, measures: { most: { type: 'max', field: 'units' } } }),
    ],
    server: { apiKeys: [{ name: 'ops', key: OPS, scopes: ['admin', 'query', 'ingest'] }] },
  });

  test('the audit lists each view\'s frozen outcome; an erasure a kept max could outlive is a 409 naming the view', async () => {
    await withTempDir(async (dir) => {
      const base = Date.UTC(2025, 0, 1);
      const clock = { now: base + 100 * DAY };
      const tandem = await Tandem.open({ dataDir: dir, config: frozenConfig, now: () => clock.now, retentionGraceMs: 5 * DAY });
      const server = createServer({ tandem });
      try {
        await tandem.ingest('usage', usageEvents(0, 140, 7, base));
        await tandem.runBatch({ seal: true });
        await tandem.ingest('usage', usageEvents(1_000, 20, 7, clock.now));
        await tandem.runBatch({ seal: true });
        const url = await server.app.listen({ host: '127.0.0.1', port: 0 });
        const client = createClient({ url, apiKey: OPS });
        const audit = await client.erase({ eventType: 'usage', where: { customer: ERASED_CUSTOMER } });
        assert.deepEqual(audit.frozen, [{ view: 'by_customer', outcome: 'dropped', rows: 1, events: 20 }, { view: 'largest', outcome: 'counted' }]);
        const response = await fetch(`${url}/v1/erase`, {
          method: 'POST', headers: { authorization: `Bearer ${OPS}`, 'content-type': 'application/json' }, body: JSON.stringify({ eventType: 'usage', where: { units: 42 } }),
        });
        const body = await response.json() as { error: { code: string; message: string } };
        assert.equal(response.status, 409);
        assert.equal(body.error.code, 'erasure_frozen_value');
        assert.match(body.error.message, /^View 'largest' /);
        await assert.rejects(client.erase({ eventType: 'usage', where: { units: 42 } }), (e: unknown) => e instanceof ErasureFrozenValueError && e.view === 'largest' && e.field === 'units');
      } finally {
        await server.app.close();
        await tandem.close();
      }
    });
  });
});
