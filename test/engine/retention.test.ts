/**
 * Retention (issue #31): whatever the schedule of ingests (late events
 * included), clock moves, batch cycles and restarts,
 * - a view that keeps its aggregates answers as the reference over every
 *   accepted event, retired or not;
 * - a view that does not answers exactly over the range from the horizon on
 *   (files leave whole, and only once all their events are older);
 * - its events counted plus the events retention took out are every
 *   accepted event: nothing is lost nor counted twice;
 * and once every event is past the horizon, it all leaves, the retired files
 * are deleted after the grace period, and nothing of them stays on disk.
 */
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  compileConfig, defineConfig, defineEventType, defineView, FrozenAggregatesError, InvalidDefinitionError, Tandem, type Query,
} from '../../src/index.ts';
import { assertProperty } from '../support/assert-property.ts';
import { canonicalRows, referenceQuery } from '../support/reference.ts';
import { order } from '../support/shop-config.ts';
import { AcceptedEvents, shopEvent, type GeneratedEvent } from '../support/shop-events.ts';
import { withTempDir } from '../support/temp-dir.ts';

const DAY = 86_400_000;
/** The shop events' times span 120 days from here. */
const BASE = Date.UTC(2024, 2, 1);
const retained = defineEventType({ ...order, retention: '30d' });
const byDay = defineView(retained, {
  name: 'by_country_day', dimensions: ['country'], granularity: 'day',
  measures: { orders: { type: 'count' }, revenue: { type: 'sum', field: 'amount' }, devices: { type: 'countDistinct', field: 'device' }, spread: { type: 'quantiles', field: 'qty', quantiles: [0.5] } },
});
const kept = defineView(retained, {
  name: 'kept_by_month', dimensions: ['country'], granularity: 'month', keepAggregates: true,
  measures: { orders: { type: 'count' }, revenue: { type: 'sum', field: 'amount' }, smallest: { type: 'min', field: 'amount' }, buyers: { type: 'countDistinct', field: 'id' } },
});
const config = defineConfig({ eventTypes: [retained], views: [byDay, kept] });
const GRACE_MS = 5 * DAY;

type Step =
  | { readonly kind: 'ingest'; readonly events: readonly GeneratedEvent[] }
  | { readonly kind: 'batch'; readonly seal: boolean }
  | { readonly kind: 'advance'; readonly days: number }
  | { readonly kind: 'restart' };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: fc.array(shopEvent, { maxLength: 40 }).map((events) => ({ kind: 'ingest' as const, events })) },
  { weight: 3, arbitrary: fc.boolean().map((seal) => ({ kind: 'batch' as const, seal })) },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 40 }).map((days) => ({ kind: 'advance' as const, days })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'restart' as const }) },
);

/** A clock the test moves: the engine reads retention's horizons from it. */
class Clock {
  now = BASE + 100 * DAY;
  readonly read = (): number => this.now;
}

async function answers(engine: Tandem, query: Query): Promise<string[]> {
  return canonicalRows((await engine.query(query)).rows);
}

/** The checks of the module comment that hold after any step. */
async function checkRetention(engine: Tandem, accepted: AcceptedEvents, clock: Clock): Promise<void> {
  for (const query of [{ view: kept.name, groupBy: ['country'] }, { view: kept.name, granularity: 'all' }] satisfies Query[]) {
    assert.deepEqual(await answers(engine, query), canonicalRows(referenceQuery(kept, accepted.events, query)), `${JSON.stringify(query)} keeps every event`);
  }
  const from = new Date(Math.ceil((clock.now - 30 * DAY) / DAY) * DAY).toISOString();
  const recent: Query = { view: byDay.name, groupBy: ['country'], from };
  assert.deepEqual(await answers(engine, recent), canonicalRows(referenceQuery(byDay, accepted.events, recent)), `the range from ${from} on is whole`);
  const { rows, meta } = await engine.query({ view: byDay.name, granularity: 'all' });
  const counted = Number(rows[0]?.orders ?? 0);
  assert.equal(counted + (engine.status().retention?.retiredEvents ?? 0), accepted.events.length, 'events counted plus events retired are every event');
  assert.equal(meta.retention?.horizon, new Date(clock.now - 30 * DAY).toISOString());
}

async function parquetFilesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile() && e.name.endsWith('.parquet')).map((e) => join(e.parentPath, e.name));
}

test('retention: any schedule answers exactly over what remains, and a view that keeps its aggregates over everything', { timeout: 600_000 }, async () => {
  await assertProperty(
    fc.asyncProperty(fc.array(step, { minLength: 4, maxLength: 14 }), async (steps) => {
      await withTempDir(async (dir) => {
        const clock = new Clock();
        const open = () => Tandem.open({ dataDir: dir, config, segmentBytes: 2048, now: clock.read, retentionGraceMs: GRACE_MS });
        let engine = await open();
        const accepted = new AcceptedEvents();
        try {
          for (const s of steps) {
            if (s.kind === 'ingest') {
              await engine.ingestUntyped('order', s.events.map((e) => e.raw));
              accepted.add(s.events);
            } else if (s.kind === 'batch') await engine.runBatch({ seal: s.seal });
            else if (s.kind === 'advance') clock.now += s.days * DAY;
            else {
              await engine.close();
              engine = await open();
            }
            await checkRetention(engine, accepted, clock);
          }
          // Every event past the horizon: the first sealing cycle absorbs the rest, the next retires it all.
          clock.now = BASE + 400 * DAY;
          await engine.runBatch({ seal: true });
          await engine.runBatch({ seal: true });
          await checkRetention(engine, accepted, clock);
          assert.deepEqual((await engine.query({ view: byDay.name, granularity: 'all' })).rows, []);
          assert.equal(engine.status().retention?.retiredEvents, accepted.events.length);
          // Phase 2: past the grace period the next cycle deletes the retired files, and no master Parquet file is left.
          clock.now += GRACE_MS + DAY;
          await engine.runBatch({ seal: true });
          assert.equal(engine.status().retention?.awaitingDeletion, 0);
          assert.deepEqual(await parquetFilesUnder(join(dir, 'master')), []);
          await engine.close();
          engine = await open();
          await checkRetention(engine, accepted, clock);
        } finally {
          await engine.close();
        }
      });
    }),
    { numRuns: 12 },
  );
});

test('retention: a retired file waits under master/_retired for the grace period, and the version no longer reads it', async () => {
  await withTempDir(async (dir) => {
    const clock = new Clock();
    const engine = await Tandem.open({ dataDir: dir, config, now: clock.read, retentionGraceMs: GRACE_MS });
    try {
      await engine.ingest('order', [{ id: 'a', at: BASE, country: 'DE', mobile: true, amount: 1.5, qty: 1 }]);
      await engine.runBatch({ seal: true });
      clock.now = BASE + 31 * DAY;
      await engine.ingest('order', [{ id: 'b', at: clock.now, country: 'FR', mobile: false, amount: 2, qty: 2 }]);
      const retiring = await engine.runBatch({ seal: true });
      assert.equal(retiring.mode, 'full', 'a cycle that retires recomputes');
      assert.equal((await parquetFilesUnder(join(dir, 'master', '_retired'))).length, 1);
      assert.deepEqual(engine.status().retention, { horizons: { order: new Date(clock.now - 30 * DAY).toISOString() }, retiredFiles: 1, retiredEvents: 1, awaitingDeletion: 1 });
      const { rows } = await engine.query({ view: byDay.name, groupBy: ['country'], granularity: 'all' });
      assert.deepEqual(rows.map((r) => [r.country, r.orders]), [['FR', 1]]);
      const all = await engine.query({ view: kept.name, groupBy: ['country'], granularity: 'all' });
      assert.deepEqual(all.rows.map((r) => [r.country, r.orders]).sort(), [['DE', 1], ['FR', 1]]);
      assert.equal(all.meta.retention?.keepsAggregates, true);
      const recent = await engine.query({ view: byDay.name, granularity: 'all', from: new Date(clock.now - 10 * DAY).toISOString() });
      assert.equal(recent.meta.retention, undefined, 'a range inside the horizon says nothing of retention');
      await assert.rejects(engine.applyView({ ...kept, eventType: 'order', granularity: 'day' }), FrozenAggregatesError);
      assert.equal((await engine.applyView({ ...byDay, eventType: 'order', granularity: 'hour' })).state, 'backfilling', 'a view without frozen aggregates changes');
      await engine.cancelViewChange(byDay.name);
      clock.now += GRACE_MS + 1;
      assert.equal((await engine.runBatch({ seal: true })).mode, 'incremental', 'deleting retired files recomputes nothing');
      assert.deepEqual(await parquetFilesUnder(join(dir, 'master', '_retired')), []);
      assert.equal(engine.status().retention?.awaitingDeletion, 0);
    } finally {
      await engine.close();
    }
  });
});

test('retention: the config refuses a malformed retention, and keepAggregates without one, naming the field', () => {
  const bad = (retention: unknown) => () => compileConfig({ eventTypes: [{ ...order, retention }], views: [] });
  for (const value of ['400', '400 days', '0d', '1y', 400]) assert.throws(bad(value), (e: unknown) => e instanceof InvalidDefinitionError && e.path === 'eventTypes[0].retention');
  assert.throws(
    () => compileConfig({ eventTypes: [order], views: [{ ...kept, eventType: 'order' }] }),
    (e: unknown) => e instanceof InvalidDefinitionError && e.path === 'views[0].keepAggregates' && /declare a retention/.test(e.message),
  );
  const hashOf = (c: unknown) => compileConfig(c).views.get('by_country_day')!.hash;
  assert.equal(hashOf({ eventTypes: [order], views: [byDay] }), hashOf(config), 'a retention recomputes no view');
});
