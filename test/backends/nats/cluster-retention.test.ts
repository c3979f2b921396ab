/**
 * Retention in cluster mode (issue #31), on three nodes of a real 3-server
 * JetStream cluster, with a clock the test moves (every node reads the
 * horizons from it):
 * - an archive object whose events are all older than the horizon leaves
 *   the published version, and every node answers exactly as the reference
 *   over the events that remain (late old events in a newer object stay
 *   until that object is all old); meta names the horizon, status counts
 *   what retired;
 * - after the grace period the next cycle deletes the retired objects from
 *   the object store (their key-only objects stay), and every node's
 *   local copies go;
 * - every node restarted, so that each resumes its duplicate rule from the
 *   archive alone, still drops a re-sent copy of a retired event, as the
 *   nodes that kept running do;
 * - a view that keeps its aggregates answers over every accepted event,
 *   retired or not, on every node, and cannot change once it froze some;
 * - a range compaction folded records the latest event time of its events,
 *   and retires whole with it once past the horizon.
 * And as a property, over generated schedules of ingests (late events and
 * copies of keys included) through any node, cycles asked of any node, clock
 * moves, pauses (the batch node archives ahead after every event and folds
 * ranges meanwhile) and restarts: every node answers the view that keeps
 * its aggregates over every accepted event, the other view over the range
 * from the horizon on exactly, alike, and counts events plus events retired
 * as every accepted event; once all is past the horizon, nothing answers, and past
 * the grace period nothing waits for deletion.
 *
 * TANDEM_FUZZ_CASES sets the property's runs (5 by default, seconds each);
 * SEED its seed.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { ClusterNode, connectNats } from '../../../src/backends/nats/internal.ts';
import { ObjectBlobStore } from '../../../src/backends/nats/object-blob-store.ts';
import type { SharedManifest } from '../../../src/backends/nats/shared-manifest.ts';
import { defineConfig, defineEventType, defineView, FrozenAggregatesError, type Query } from '../../../src/index.ts';
import { canonicalRows, referenceQuery } from '../../support/reference.ts';
import { order } from '../../support/shop-config.ts';
import { AcceptedEvents, shopEvent, type GeneratedEvent } from '../../support/shop-events.ts';
import { eventually } from '../../support/eventually.ts';
import { bounded } from '../../support/hang-guard.ts';
import { NatsCluster, natsSkipReason } from '../../support/nats-cluster.ts';
import { withTempDir } from '../../support/temp-dir.ts';

const DAY = 86_400_000;
/** The shop events' times span 120 days from here. */
const BASE = Date.UTC(2024, 2, 1);
const GRACE_MS = 5 * DAY;
const retained = defineEventType({ ...order, retention: '30d' });
const byDay = defineView(retained, {
  name: 'by_country_day', dimensions: ['country'], granularity: 'day',
  measures: { orders: { type: 'count' }, revenue: { type: 'sum', field: 'amount' }, devices: { type: 'countDistinct', field: 'device' } },
});
const kept = defineView(retained, {
  name: 'kept_by_month', dimensions: ['country'], granularity: 'month', keepAggregates: true,
  measures: { orders: { type: 'count' }, revenue: { type: 'sum', field: 'amount' }, smallest: { type: 'min', field: 'amount' }, buyers: { type: 'countDistinct', field: 'id' } },
});
const RUNS = Number(process.env.TANDEM_FUZZ_CASES ?? 5);

/** A clock the test moves: every node reads retention's horizons from it. */
class Clock {
  now = BASE + 100 * DAY;
  readonly read = (): number => this.now;
}

/** A valid order at `at`. */
function orderAt(id: string, at: number, country = 'DE'): GeneratedEvent {
  const ref = { id, at, country, device: null, mobile: false, cents: 1_000, qty: 1 };
  return { ref, raw: { id, at, country, mobile: false, amount: 10, qty: 1 }, valid: true };
}

/** Per partition, the later of two positions. */
const later = (a: readonly number[] | undefined, b: readonly number[] | undefined) => (a ?? b ?? []).map((seq, p) => Math.max(seq, b?.[p] ?? 0));

class Trio {
  readonly nodes: ClusterNode[] = [];
  position: readonly number[] | undefined;

  constructor(readonly dir: string, readonly name: string, readonly urls: readonly string[], readonly clock: Clock, readonly options: { readonly archiveAheadEvents?: number; readonly leaseMs?: number } = {}) {}

  open(i: number): Promise<ClusterNode> {
    const config = defineConfig({ eventTypes: [retained], views: [byDay, kept], cluster: { name: this.name, partitions: 2, replicas: 1 } });
    return ClusterNode.open({ dataDir: join(this.dir, `n${i}`), config, servers: [...this.urls], node: `n${i}`, now: this.clock.read, retentionGraceMs: GRACE_MS, keepVersions: 2, ...this.options });
  }

  async start(): Promise<void> {
    for (let i = 0; i < 3; i++) this.nodes.push(await this.open(i));
  }

  async ingest(i: number, events: readonly GeneratedEvent[], accepted: AcceptedEvents): Promise<void> {
    const result = await bounded(this.nodes[i]!.ingest('order', events.map((e) => e.raw)), 'an ingest', this.nodes);
    this.position = later(this.position, result.position ?? undefined);
    accepted.add(events);
  }

  /** A cycle asked of node `i`; resolves once every node serves it. */
  async batch(i: number): Promise<number> {
    const { version } = await bounded(this.nodes[i]!.runBatch(), 'a cycle', this.nodes);
    await eventually(() => this.nodes.every((n) => (n.status().batch?.version ?? 0) >= version), `every node to serve batch version ${version}`);
    return version;
  }

  async restart(i: number): Promise<void> {
    await bounded(this.nodes[i]!.close(), 'a close', this.nodes);
    this.nodes[i] = await bounded(this.open(i), 'an open', this.nodes);
  }

  async close(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.close()));
  }

  /** Every node's answer to `query`, read after everything ingested; they must agree. */
  async answers(query: Query): Promise<string[]> {
    const all = await Promise.all(this.nodes.map(async (n) => canonicalRows((await n.query({ ...query, ...(this.position === undefined ? {} : { after: this.position }) })).rows)));
    for (const [i, rows] of all.entries()) assert.deepEqual(rows, all[0], `node n${i} answers as n0 does: ${JSON.stringify(query)}`);
    return all[0]!;
  }
}

/** The checks that hold after any step: the range from the horizon on is whole, and events counted plus retired are every event. */
async function checkRetention(trio: Trio, accepted: AcceptedEvents, when: string): Promise<void> {
  const { now } = trio.clock;
  for (const query of [{ view: kept.name, groupBy: ['country'] }, { view: kept.name, granularity: 'all' }] satisfies Query[]) {
    assert.deepEqual(await trio.answers(query), canonicalRows(referenceQuery(kept, accepted.events, query)), `${when}: ${JSON.stringify(query)} keeps every event`);
  }
  const from = new Date(Math.ceil((now - 30 * DAY) / DAY) * DAY).toISOString();
  const recent: Query = { view: byDay.name, groupBy: ['country'], from };
  assert.deepEqual(await trio.answers(recent), canonicalRows(referenceQuery(byDay, accepted.events, recent)), `${when}: the range from ${from} on is whole`);
  for (const node of trio.nodes) {
    const { rows, meta } = await node.query({ view: byDay.name, granularity: 'all', ...(trio.position === undefined ? {} : { after: trio.position }) });
    const counted = Number(rows[0]?.orders ?? 0);
    assert.equal(counted + (node.status().retention?.retiredEvents ?? 0), accepted.events.length, `${when}, ${node.name}: events counted plus events retired are every event`);
    assert.equal(meta.retention?.horizon, new Date(now - 30 * DAY).toISOString(), `${when}, ${node.name}: meta names the horizon`);
  }
}

/** The manifest of the version `node` serves, from the node's disk. */
async function servedManifest(dir: string, node: ClusterNode): Promise<SharedManifest> {
  const version = node.status().batch?.version ?? 0;
  const batch = join(dir, node.name, 'cluster', 'versions', 'batch');
  const folder = (await readdir(batch)).find((f) => f.startsWith(`v${String(version).padStart(8, '0')}-`))!;
  return JSON.parse(await readFile(join(batch, folder, 'manifest.json'), 'utf8')) as SharedManifest;
}

async function cachedParquet(dir: string): Promise<string[]> {
  const entries = await readdir(join(dir, 'cluster', 'cache', 'master', 'order'), { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile() && e.name.endsWith('.parquet')).map((e) => `master/order/${e.name}`);
}

describe('retention in cluster mode', { skip: natsSkipReason(), timeout: 600_000 }, () => {
  let nats: NatsCluster | undefined;
  let clusters = 0;
  before(async () => {
    nats = await NatsCluster.start();
  });
  after(async () => {
    await nats?.stop();
  });

  test('old objects leave the published version, kept views freeze them, they are deleted after the grace period, and their keys stay across restarts', async () => {
    await withTempDir(async (dir) => {
      const clock = new Clock();
      const name = `retention${clusters++}`;
      // A short batch lease: the sweep deletes unnamed objects once they are older than one.
      const trio = new Trio(dir, name, nats!.urls, clock, { leaseMs: 3_000 });
      await trio.start();
      const nc = await connectNats({ servers: nats!.urls });
      const blobs = await ObjectBlobStore.open(nc, { bucket: `${name}_master`, replicas: 1 });
      const accepted = new AcceptedEvents();
      try {
        // Old events, alone in the first ranges; then new ones with late old ones among them.
        const old = Array.from({ length: 30 }, (_, i) => orderAt(`old-${i}`, BASE + (i % 10) * DAY, i % 2 === 0 ? 'DE' : 'FR'));
        for (let i = 0; i < 3; i++) await trio.ingest(i, old.slice(i * 10, (i + 1) * 10), accepted);
        await trio.batch(1);
        assert.equal(trio.nodes[0]!.status().retention?.retiredFiles ?? 0, 0, 'nothing retires before a version serves: the speed layers held every event');
        const before = (await blobs.list('master/order/')).map((b) => b.name);
        assert.ok(before.length >= 1);
        // The next cycle retires the objects of the first ranges (every event in them is older than the horizon) and archives the rest.
        const fresh = Array.from({ length: 20 }, (_, i) => orderAt(`new-${i}`, BASE + (90 + (i % 9)) * DAY, i % 3 === 0 ? 'US' : 'DE'));
        const late = [orderAt('late-0', BASE + 2 * DAY), orderAt('late-1', BASE + 5 * DAY, 'FR')];
        await trio.ingest(0, [...fresh.slice(0, 10), late[0]!], accepted);
        await trio.ingest(2, [...fresh.slice(10), late[1]!], accepted);
        await trio.batch(0);
        const remaining = accepted.events.filter((e) => !e.id.startsWith('old-'));
        for (const query of [{ view: byDay.name, groupBy: ['country'] }, { view: byDay.name, granularity: 'all' }, { view: byDay.name }] satisfies Query[]) {
          assert.deepEqual(await trio.answers(query), canonicalRows(referenceQuery(byDay, remaining, query)), `after retiring: ${JSON.stringify(query)} counts what remains, late old events included`);
        }
        await checkRetention(trio, accepted, 'after retiring');
        // The view that keeps its aggregates cannot change: its frozen parts count events that are gone.
        await assert.rejects(trio.nodes[1]!.applyView({ ...kept, measures: { orders: { type: 'count' } } }), (error: unknown) => error instanceof FrozenAggregatesError && error.view === kept.name);
        const figures = trio.nodes.map((n) => n.status().retention);
        for (const f of figures) assert.deepEqual(f, { horizons: { order: new Date(clock.now - 30 * DAY).toISOString() }, retiredFiles: before.length, retiredEvents: old.length, awaitingDeletion: before.length });
        // Another cycle prunes every version whose chain named them (two are kept), and the sweep runs meanwhile: the retired
        // list alone keeps them within the grace period.
        await trio.batch(2);
        await new Promise((resolve) => setTimeout(resolve, 9_000));
        const stored = new Set((await blobs.list('master/')).map((b) => b.name));
        assert.ok(before.every((b) => stored.has(b)), 'within the grace period every retired object is still stored, swept or not');
        const keyObjects = [...stored].filter((b) => b.startsWith('master/_retired-keys/order/'));
        assert.equal(keyObjects.length, figures[0]!.retiredFiles, 'each retired object left a key-only object');

        // Every node restarted: each resumes its duplicate rule from the archive alone, and drops a copy of a retired event.
        for (let i = 0; i < 3; i++) await trio.restart(i);
        await trio.ingest(1, [orderAt('old-3', BASE + 3 * DAY), orderAt('old-4', BASE + 4 * DAY, 'US')], accepted);
        await checkRetention(trio, accepted, 'after a restart and copies of retired events');
        assert.deepEqual(await trio.answers({ view: byDay.name, granularity: 'all' }), canonicalRows(referenceQuery(byDay, remaining, { view: byDay.name, granularity: 'all' })), 'copies of retired events are duplicates');

        // Phase 2: past the grace period, the next cycle deletes the retired objects; their keys stay.
        clock.now += GRACE_MS + DAY;
        await trio.batch(0);
        const after = new Set((await blobs.list('master/')).map((b) => b.name));
        const gone = before.filter((b) => !after.has(b));
        assert.equal(gone.length, figures[0]!.retiredFiles, 'the retired objects are deleted from the object store');
        assert.ok(keyObjects.every((b) => after.has(b)), 'their key-only objects stay');
        for (const node of trio.nodes) assert.equal(node.status().retention?.awaitingDeletion, 0, `${node.name}: nothing waits for deletion`);
        for (let i = 0; i < 3; i++) {
          const cached = await cachedParquet(join(dir, `n${i}`));
          assert.deepEqual(cached.filter((b) => gone.includes(b)), [], `n${i} kept no copy of a deleted object`);
        }
        // A late old event sent now is new: counted until the object holding it is retired in turn; a copy of a retired one is not.
        await trio.restart(0);
        await trio.ingest(0, [orderAt('old-5', BASE + 5 * DAY), orderAt('late-2', BASE + 6 * DAY, 'US')], accepted);
        await checkRetention(trio, accepted, 'after the deletion');
        const now = accepted.events.filter((e) => !e.id.startsWith('old-'));
        assert.deepEqual(await trio.answers({ view: byDay.name, groupBy: ['country'] }), canonicalRows(referenceQuery(byDay, now, { view: byDay.name, groupBy: ['country'] })), 'the late event counts, the copy of a retired one does not');
        await trio.batch(1);
        await trio.batch(2);
        await checkRetention(trio, accepted, 'after the late event retired');
      } finally {
        await trio.close();
        await nc.close();
      }
    });
  });

  test('a range compaction folded records its latest event time, and retires whole once it is past the horizon', async () => {
    await withTempDir(async (dir) => {
      const clock = new Clock();
      const trio = new Trio(dir, `retention${clusters++}`, nats!.urls, clock);
      await trio.start();
      const accepted = new AcceptedEvents();
      try {
        // New events, a cycle after each ingest, until compaction folded ranges and a cycle published the fold.
        let folded: SharedManifest['ranges'][number] | undefined;
        for (let i = 0; i < 16 && folded === undefined; i++) {
          await trio.ingest(i % 3, Array.from({ length: 4 }, (_, j) => orderAt(`f-${i}-${j}`, BASE + (80 + i) * DAY + j * 3_600_000, j % 2 === 0 ? 'DE' : 'FR')), accepted);
          await trio.batch(i % 3);
          await new Promise((resolve) => setTimeout(resolve, 300));
          folded = (await servedManifest(dir, trio.nodes[0]!)).ranges.find((r) => (r.folds ?? 1) > 1 && r.files.order !== undefined);
        }
        assert.ok(folded !== undefined, 'compaction folded ranges within 16 cycles');
        const times = accepted.events.map((e) => e.at);
        assert.ok(folded.files.order!.maxTime !== undefined && times.includes(folded.files.order!.maxTime), 'the fold records the latest time of its events');
        await checkRetention(trio, accepted, 'before the horizon moves');
        // Every event past the horizon: what the served chain holds retires, folded ranges whole, and the kept view keeps it all.
        clock.now = BASE + 400 * DAY;
        await trio.batch(0);
        await trio.batch(1);
        await checkRetention(trio, accepted, 'all past the horizon');
        const retired = (await servedManifest(dir, trio.nodes[0]!)).retired ?? [];
        assert.ok(retired.some((r) => r.blob === folded.files.order!.blob && r.maxTime === folded.files.order!.maxTime), 'the folded object retired with its recorded time');
        assert.deepEqual(await trio.answers({ view: byDay.name, granularity: 'all' }), []);
      } finally {
        await trio.close();
      }
    });
  });

  type Step =
    | { readonly kind: 'ingest'; readonly node: number; readonly events: readonly GeneratedEvent[] }
    | { readonly kind: 'batch'; readonly node: number }
    | { readonly kind: 'advance'; readonly days: number }
    | { readonly kind: 'restart'; readonly node: number }
    | { readonly kind: 'pause'; readonly ms: number };
  const node = fc.integer({ min: 0, max: 2 });
  const step: fc.Arbitrary<Step> = fc.oneof(
    { weight: 4, arbitrary: fc.record({ node, events: fc.array(shopEvent, { minLength: 1, maxLength: 25 }) }).map((s): Step => ({ kind: 'ingest', ...s })) },
    { weight: 3, arbitrary: node.map((n): Step => ({ kind: 'batch', node: n })) },
    { weight: 2, arbitrary: fc.integer({ min: 1, max: 40 }).map((days): Step => ({ kind: 'advance', days })) },
    { weight: 1, arbitrary: node.map((n): Step => ({ kind: 'restart', node: n })) },
    // Lets the batch node archive ahead and fold ranges between cycles.
    { weight: 1, arbitrary: fc.integer({ min: 300, max: 1_500 }).map((ms): Step => ({ kind: 'pause', ms })) },
  );

  test('any schedule answers a kept view over everything, the other from the horizon on, and counts every accepted event once', async () => {
    await fc.assert(fc.asyncProperty(fc.array(step, { minLength: 3, maxLength: 10 }), async (steps) => {
      await withTempDir(async (dir) => {
        // Archived ahead after every event, so that ranges are many, small, and folded by compaction between steps.
        const trio = new Trio(dir, `retention${clusters++}`, nats!.urls, new Clock(), { archiveAheadEvents: 1 });
        await trio.start();
        const accepted = new AcceptedEvents();
        try {
          for (const [i, s] of steps.entries()) {
            if (s.kind === 'ingest') await trio.ingest(s.node, s.events, accepted);
            else if (s.kind === 'batch') await trio.batch(s.node);
            else if (s.kind === 'advance') trio.clock.now += s.days * DAY;
            else if (s.kind === 'pause') await new Promise((resolve) => setTimeout(resolve, s.ms));
            else await trio.restart(s.node);
            await checkRetention(trio, accepted, `step ${i} (${s.kind})`);
          }
          // Every event past the horizon: the next cycle absorbs the rest, the one after retires it all.
          trio.clock.now = BASE + 400 * DAY;
          await trio.batch(0);
          await trio.batch(1);
          await checkRetention(trio, accepted, 'all past the horizon');
          assert.deepEqual(await trio.answers({ view: byDay.name, granularity: 'all' }), []);
          // Past the grace period the next cycle deletes what retired; the counts stay.
          trio.clock.now += GRACE_MS + DAY;
          await trio.batch(2);
          for (const n of trio.nodes) assert.equal(n.status().retention?.awaitingDeletion, 0, `${n.name}: nothing waits for deletion`);
          await checkRetention(trio, accepted, 'after the grace period');
        } finally {
          await trio.close();
        }
      });
    }), { seed: Number(process.env.SEED ?? 31), numRuns: RUNS, endOnFailure: true, includeErrorInReport: true });
  });
});
