/**
 * Erasure (issue #31): the events an erasure matches are gone from every
 * answer once it resolves, and from every file of the data directory; the
 * rest answer as before, exactly; the audit record names who, when, what
 * and how many, never the values.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defineConfig, defineEventType, defineView, InvalidErasureError, Tandem } from '../../src/index.ts';
import { answers, ERASED_CUSTOMER, erasureConfig, filesHolding, reference, usageEvents, type UsageEvent } from '../support/erasure-fixture.ts';
import { withTempDir } from '../support/temp-dir.ts';

const HOUR = 3_600_000;

test('erase: the events matched are gone from every answer and every file; the rest answer exactly; the audit keeps no value', { timeout: 120_000 }, async () => {
  await withTempDir(async (dir) => {
    const engine = await Tandem.open({ dataDir: dir, config: erasureConfig, segmentBytes: 8192 });
    try {
      const first = usageEvents(0, 3000);
      await engine.ingest('usage', first);
      await engine.runBatch({ seal: true });
      const second = usageEvents(3000, 500);
      await engine.ingest('usage', second);
      const erasedIds = [...first, ...second].filter((e) => e.customer === ERASED_CUSTOMER).map((e) => e.id);
      assert.ok((await filesHolding(dir, ERASED_CUSTOMER)).length > 0, 'the value is stored before the erasure');

      const audit = await engine.erase({ eventType: 'usage', where: { customer: ERASED_CUSTOMER } }, { by: 'dpo@example.com' });
      assert.equal(audit.events, erasedIds.length);
      assert.deepEqual([audit.by, audit.eventType, audit.fields], ['dpo@example.com', 'usage', ['customer']]);
      assert.ok(audit.files > 0);
      const kept = [...first, ...second].filter((e) => e.customer !== ERASED_CUSTOMER);
      assert.deepEqual(await answers(engine), await reference(kept));
      assert.deepEqual(await filesHolding(dir, ERASED_CUSTOMER), [], 'no file holds the erased customer');
      assert.deepEqual(await filesHolding(dir, erasedIds[0]!), [], 'no file holds an erased event\'s id');

      // Its keys are forgotten: the same event sent again is new, and a kept one is still a duplicate.
      const again = await engine.ingest('usage', [first[0]!, first[1]!]);
      assert.deepEqual([again.accepted, again.duplicates, again.stored], [2, 1, 1]);
      const audits = await engine.erasures();
      assert.equal(audits.length, 1);
      assert.ok(!JSON.stringify(audits).includes(ERASED_CUSTOMER));
    } finally {
      await engine.close();
    }
  });
});

test('erase: a list of values and several fields match together; an event stored after it stays', async () => {
  await withTempDir(async (dir) => {
    const engine = await Tandem.open({ dataDir: dir, config: erasureConfig });
    try {
      const events = usageEvents(0, 400);
      await engine.ingest('usage', events);
      const audit = await engine.erase({ eventType: 'usage', where: { customer: ['cust-1', 'cust-2'], plan: 'pro' } });
      const gone = (e: UsageEvent) => ['cust-1', 'cust-2'].includes(e.customer) && e.plan === 'pro';
      assert.equal(audit.events, events.filter(gone).length);
      const later = { ...events.find(gone)!, id: 'later', at: events[0]!.at + HOUR };
      await engine.ingest('usage', [later]);
      assert.deepEqual(await answers(engine), await reference([...events.filter((e) => !gone(e)), later]));
    } finally {
      await engine.close();
    }
  });
});

test('erase: a malformed request is refused in one sentence naming the part at fault', async () => {
  await withTempDir(async (dir) => {
    const engine = await Tandem.open({ dataDir: dir, config: erasureConfig });
    try {
      const refused = async (request: unknown, path: string) => {
        await assert.rejects(engine.erase(request), (e: unknown) => e instanceof InvalidErasureError && e.path === path && /^[^\n]+\.$/.test((e as Error).message));
      };
      await refused({ eventType: 'nope', where: { customer: 'x' } }, 'eventType');
      await refused({ eventType: 'usage', where: {} }, 'where');
      await refused({ eventType: 'usage', where: { nobody: 'x' } }, 'where.nobody');
      await refused({ eventType: 'usage', where: { units: 'ten' } }, 'where.units');
      await refused({ eventType: 'usage', where: { customer: null } }, 'where.customer');
      await refused({ eventType: 'usage', where: { customer: 'x' }, extra: 1 }, 'extra');
    } finally {
      await engine.close();
    }
  });
});

test('erase: an event whose field is null matches no value, so it stays', { timeout: 120_000 }, async () => {
  const visit = defineEventType({ name: 'visit', time: 'at', idempotencyKey: 'id', fields: { id: 'string', at: 'timestamp', customer: { type: 'string', optional: true } } });
  const config = defineConfig({ eventTypes: [visit], views: [defineView(visit, { name: 'visits', dimensions: ['customer'], granularity: 'day', measures: { n: { type: 'count' } } })] });
  // Every third visit has no customer: `customer = 'c1'` is null there, and `NOT (null)` would drop it too.
  const visits = Array.from({ length: 30 }, (_, i) => ({ id: `v${i}`, at: Date.UTC(2025, 0, 1) + i * 60_000, ...(i % 3 === 0 ? {} : { customer: `c${i % 2}` }) }));
  const kept = visits.filter((v) => v.customer !== 'c1');
  const count = async (events: typeof visits, erase: boolean) => withTempDir(async (dir) => {
    const engine = await Tandem.open({ dataDir: dir, config });
    try {
      assert.deepEqual((await engine.ingest('visit', events)).rejected, []);
      await engine.runBatch({ seal: true });
      if (erase) assert.equal((await engine.erase({ eventType: 'visit', where: { customer: 'c1' } })).events, visits.length - kept.length);
      return (await engine.query({ view: 'visits', groupBy: ['customer'], granularity: 'all' })).rows;
    } finally {
      await engine.close();
    }
  });
  assert.deepEqual(await count(visits, true), await count(kept, false));
});

test('erase: erasures asked together share their cycles, each erased, not one full recompute each', { timeout: 120_000 }, async () => {
  await withTempDir(async (dir) => {
    const engine = await Tandem.open({ dataDir: dir, config: erasureConfig });
    try {
      const events = usageEvents(0, 1200);
      await engine.ingest('usage', events);
      const before = (await engine.runBatch({ seal: true })).version;
      const customers = [...new Set(events.map((e) => e.customer))].slice(0, 6);
      const audits = await Promise.all(customers.map((customer) => engine.erase({ eventType: 'usage', where: { customer } })));
      audits.forEach((audit, i) => assert.equal(audit.events, events.filter((e) => e.customer === customers[i]).length, customers[i]));
      // The first cycle takes the erasures recorded before it starts; one more takes all the others.
      const cycles = engine.status().batch!.version - before;
      assert.ok(cycles >= 1 && cycles <= 2, `${cycles} cycles for ${customers.length} erasures`);
      assert.deepEqual(await answers(engine), await reference(events.filter((e) => !customers.includes(e.customer))));
    } finally {
      await engine.close();
    }
  });
});
