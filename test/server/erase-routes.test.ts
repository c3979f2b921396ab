/**
 * Erasure over HTTP (issue #31): `POST /v1/erase` with the admin scope
 * erases and answers the audit record (the key's name as who asked, no
 * value); `GET /v1/erasures` lists the records; a malformed request is a 400
 * naming the part at fault, and a key without the admin scope is refused.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createClient, InvalidErasureError } from '../../src/client/index.ts';
import { defineConfig } from '../../src/index.ts';
import { byCustomer, byPlan, ERASED_CUSTOMER, usage, usageEvents } from '../support/erasure-fixture.ts';
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
