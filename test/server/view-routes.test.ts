/**
 * Views changed over HTTP (issue #31): `PUT /v1/views/{name}`,
 * `DELETE /v1/views/{name}` and `DELETE /v1/views/{name}/change` through the
 * typed client, with the admin scope, their progress in `/v1/status` and
 * `/v1/views`, and each refusal as one sentence with its own code.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createClient, ForbiddenError, InvalidDefinitionError, NoViewChangeError, UnknownFieldError, UnknownViewError, type TandemClient } from '../../src/client/index.ts';
import { defineConfig, defineEventType, defineView } from '../../src/index.ts';
import { openTestServer, type TestServer } from '../support/test-server.ts';

const visit = defineEventType({ name: 'visit', time: 'at', fields: { at: 'timestamp', page: 'string', plan: 'string', ms: { type: 'number', scale: 0 } } });
const config = defineConfig({
  eventTypes: [visit],
  views: [defineView(visit, { name: 'by_page', dimensions: ['page'], granularity: 'hour', measures: { visits: { type: 'count' } } })],
  server: { apiKeys: [{ name: 'ops', key: 'k'.repeat(32), scopes: ['admin', 'query', 'ingest'] }, { name: 'app', key: 'a'.repeat(32), scopes: ['query', 'ingest'] }] },
});
const byPlan = { name: 'by_plan', eventType: 'visit', dimensions: ['plan'], granularity: 'day', measures: { visits: { type: 'count' }, p: { type: 'quantiles', field: 'ms', quantiles: [0.5] } } } as const;

async function settled(client: TandemClient): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if ((await client.status()).viewChanges.length === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.fail('the view change did not settle');
}

describe('view routes - over HTTP', () => {
  let opened: TestServer;
  let ops: TandemClient;
  let app: TandemClient;

  before(async () => {
    opened = await openTestServer(config);
    const address = await opened.server.app.listen({ host: '127.0.0.1', port: 0 });
    ops = createClient({ url: address, apiKey: 'k'.repeat(32) });
    app = createClient({ url: address, apiKey: 'a'.repeat(32) });
    const events = Array.from({ length: 300 }, (_, i) => ({ at: Date.UTC(2024, 4, 1 + (i % 7), i % 24), page: `/p${i % 5}`, plan: i % 3 === 0 ? 'pro' : 'free', ms: i }));
    for (let i = 0; i < events.length; i += 50) await ops.ingest('visit', events.slice(i, i + 50));
    await ops.batch();
  });
  after(() => opened.close());

  test('a new view is backfilled, then answers exactly; /v1/views lists it with its version', async () => {
    const answer = await ops.applyView(byPlan);
    assert.deepEqual(answer, { view: 'by_plan', action: 'add', version: 1, state: 'backfilling' });
    await settled(ops);
    const { rows, meta } = await app.query({ view: 'by_plan', groupBy: ['plan'], granularity: 'all', orderBy: [{ measure: 'visits', desc: true }] });
    assert.deepEqual(rows.map((r) => [r.plan, r.visits]), [['free', 200], ['pro', 100]]);
    assert.equal(meta.viewVersion, 1);
    const defs = await app.views();
    assert.deepEqual(defs.versions, { by_page: 1, by_plan: 1 });
    assert.deepEqual(defs.changes, []);
  });

  test('a changed view keeps answering with version 1 while version 2 is backfilled, and a version not served is named', async () => {
    // The events the view holds: replaced by a sum over ms, then changed back; each change raises the version.
    const answer = await ops.applyView({ ...byPlan, measures: { visits: { type: 'count' }, total: { type: 'sum', field: 'ms' } } });
    assert.equal(answer.version, 2);
    const during = await app.query({ view: 'by_plan', granularity: 'all' });
    assert.ok([1, 2].includes(during.meta.viewVersion!), 'the old version answers until the switch, then the new');
    await settled(ops);
    const { rows, meta } = await app.query({ view: 'by_plan', granularity: 'all' });
    assert.equal(meta.viewVersion, 2);
    assert.deepEqual(rows, [{ visits: 300, total: (299 * 300) / 2 }]);
    await assert.rejects(app.query({ view: 'by_plan', version: 1 }), /is at version 2; version 1 is not served/);
  });

  test('refusals: a bad definition names the field, a name that differs from the path, no admin scope, nothing to cancel or drop', async () => {
    await assert.rejects(ops.applyView({ ...byPlan, dimensions: ['country'] } as never), (error: unknown) => (error instanceof UnknownFieldError || error instanceof InvalidDefinitionError) && /country/.test(error.message));
    const mismatch = await fetch(new URL('v1/views/other', ops.url), { method: 'PUT', headers: { authorization: `Bearer ${'k'.repeat(32)}`, 'content-type': 'application/json' }, body: JSON.stringify(byPlan) });
    assert.equal(mismatch.status, 400);
    assert.match(((await mismatch.json()) as { error: { message: string } }).error.message, /is not the name in the path, 'other'/);
    await assert.rejects(app.applyView(byPlan), ForbiddenError);
    await assert.rejects(ops.cancelViewChange('by_page'), (error: unknown) => error instanceof NoViewChangeError && error.message === "View 'by_page' has no change under way to cancel.");
    await assert.rejects(ops.dropView('nope'), UnknownViewError);
  });

  test('a dropped view answers unknown_view at once, and /v1/views no longer lists it', async () => {
    const dropped = await ops.dropView('by_plan');
    assert.deepEqual(dropped, { view: 'by_plan', action: 'drop', version: 2, state: 'dropped' });
    await assert.rejects(app.query({ view: 'by_plan' }), UnknownViewError);
    assert.deepEqual((await app.views()).views.map((v) => v.name), ['by_page']);
  });
});
