/**
 * Erasure of frozen aggregates (issue #31): a view with `keepAggregates`
 * keeps rows of events retention took out. An erasure by the view's
 * dimensions drops the rows of the erased groups from its frozen parts (a
 * file written again under a new name), so that the answers over the
 * frozen range leave the erased customer out, exactly, and no file holds
 * the value; a view the predicate cannot split keeps its anonymous rows,
 * and the audit says so. A measure that would keep an erased value itself
 * (`min`, `max`, `quantiles` of a predicate's field) makes the erasure be
 * refused, naming the view.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defineConfig, defineEventType, defineView, ErasureFrozenValueError, Tandem } from '../../src/index.ts';
import { answers, byCustomer, byPlan, ERASED_CUSTOMER, filesHolding, reference, usage, usageEvents } from '../support/erasure-fixture.ts';
import { withTempDir } from '../support/temp-dir.ts';

const DAY = 86_400_000;
const OLD_BASE = Date.UTC(2025, 0, 1);
const NEW_BASE = OLD_BASE + 100 * DAY;
const retained = defineEventType({ ...usage, retention: '30d' });
/** The fixture's views, both keeping their aggregates: by customer (which the erasure splits) and by plan (which it cannot). */
const config = defineConfig({
  eventTypes: [retained],
  views: [defineView(retained, { ...byCustomer, keepAggregates: true }), defineView(retained, { ...byPlan, keepAggregates: true })],
});

test('erase: the frozen rows of the erased customer are dropped; answers over the frozen range equal the reference; no file holds the value', { timeout: 120_000 }, async () => {
  await withTempDir(async (dir) => {
    const clock = { now: NEW_BASE + DAY };
    const engine = await Tandem.open({ dataDir: dir, config, now: () => clock.now, retentionGraceMs: 5 * DAY });
    try {
      const old = usageEvents(0, 300, 7, OLD_BASE);
      await engine.ingest('usage', old);
      await engine.runBatch({ seal: true });
      const fresh = usageEvents(1_000, 100, 7, NEW_BASE);
      await engine.ingest('usage', fresh);
      // This cycle retires the old events: the views keep them as frozen parts.
      await engine.runBatch({ seal: true });
      assert.equal(engine.status().retention?.retiredEvents, old.length);
      assert.ok((await filesHolding(dir, ERASED_CUSTOMER)).some((f) => f.includes('.frozen-')), 'a frozen part holds the customer before the erasure');

      const audit = await engine.erase({ eventType: 'usage', where: { customer: ERASED_CUSTOMER } });
      const erased = (e: { customer: string }) => e.customer === ERASED_CUSTOMER;
      const frozenErased = old.filter(erased);
      assert.deepEqual(audit.frozen, [
        { view: 'by_customer', outcome: 'dropped', rows: new Set(frozenErased.map((e) => Math.floor(e.at / DAY))).size, events: frozenErased.length },
        { view: 'by_plan', outcome: 'counted' },
      ]);
      // by_customer answers as if the erased events never were; by_plan's frozen rows still count them, anonymously.
      const expected = await reference([...old, ...fresh].filter((e) => !erased(e)));
      const byPlanExpected = await reference([...old, ...fresh.filter((e) => !erased(e))]);
      const got = await answers(engine);
      assert.deepEqual(got.slice(0, 2), expected.slice(0, 2), 'by_customer answers without the erased customer over the frozen range');
      assert.deepEqual(got.slice(2), byPlanExpected.slice(2), 'by_plan keeps its frozen aggregates');
      assert.deepEqual(await filesHolding(dir, ERASED_CUSTOMER), [], 'no file holds the erased customer');

      // The next cycles carry the rewritten frozen part, and a restart loads it.
      await engine.runBatch({ seal: true });
      assert.deepEqual((await answers(engine)).slice(0, 2), expected.slice(0, 2));
    } finally {
      await engine.close();
    }
    const again = await Tandem.open({ dataDir: dir, config, now: () => clock.now, retentionGraceMs: 5 * DAY });
    try {
      assert.deepEqual((await answers(again)).slice(0, 2), (await reference([...usageEvents(0, 300, 7, OLD_BASE), ...usageEvents(1_000, 100, 7, NEW_BASE)].filter((e) => e.customer !== ERASED_CUSTOMER))).slice(0, 2));
      assert.deepEqual(await filesHolding(dir, ERASED_CUSTOMER), []);
    } finally {
      await again.close();
    }
  });
});

test('erase: a frozen part left without rows leaves the version; the answers and a restart agree', { timeout: 120_000 }, async () => {
  await withTempDir(async (dir) => {
    const clock = { now: NEW_BASE + DAY };
    const open = () => Tandem.open({ dataDir: dir, config, now: () => clock.now, retentionGraceMs: 5 * DAY });
    // Every old event is the erased customer's: by_customer's frozen part holds nothing else.
    const old = usageEvents(0, 50, 1, OLD_BASE);
    const fresh = usageEvents(1_000, 60, 7, NEW_BASE);
    const kept = fresh.filter((e) => e.customer !== ERASED_CUSTOMER);
    let engine = await open();
    try {
      await engine.ingest('usage', old);
      await engine.runBatch({ seal: true });
      await engine.ingest('usage', fresh);
      await engine.runBatch({ seal: true });
      const audit = await engine.erase({ eventType: 'usage', where: { customer: ERASED_CUSTOMER } });
      assert.deepEqual(audit.frozen?.[0], { view: 'by_customer', outcome: 'dropped', rows: 1, events: old.length });
      assert.deepEqual((await answers(engine)).slice(0, 2), (await reference(kept)).slice(0, 2));
      await engine.close();
      engine = await open();
      assert.deepEqual((await answers(engine)).slice(0, 2), (await reference(kept)).slice(0, 2));
      assert.deepEqual(await filesHolding(dir, ERASED_CUSTOMER), []);
    } finally {
      await engine.close();
    }
  });
});

test('erase: refused, naming the view, when a kept measure would keep an erased value itself', async () => {
  await withTempDir(async (dir) => {
    const extremes = defineView(retained, {
      name: 'largest', dimensions: ['plan'], granularity: 'day', keepAggregates: true, measures: { most: { type: 'max', field: 'units' } },
    });
    const engine = await Tandem.open({ dataDir: dir, config: defineConfig({ eventTypes: [retained], views: [extremes] }) });
    try {
      await assert.rejects(engine.erase({ eventType: 'usage', where: { units: 42 } }), (e: unknown) =>
        e instanceof ErasureFrozenValueError && e.view === 'largest' && e.field === 'units' && /^[^\n]+\.$/.test(e.message));
      await assert.rejects(engine.erase({ eventType: 'usage', where: { plan: 'pro', units: 42 } }), ErasureFrozenValueError, 'a dimension among the fields does not split the rows');
      // A field no measure keeps is allowed: its frozen rows keep aggregates only.
      const audit = await engine.erase({ eventType: 'usage', where: { customer: 'c-1' } });
      assert.equal(audit.events, 0);
    } finally {
      await engine.close();
    }
  });
});
