/**
 * View changes in cluster mode without a cluster (issue #31): the views
 * record's changes as a batch node's cycle carries them, what a node lists
 * of changes published and not served by it yet, when a switching mark
 * holds, and which definitions a partition's speed layer keeps when a
 * version is adopted.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileConfig, withView } from '../../../src/definitions/index.ts';
import { defineView } from '../../../src/index.ts';
import { ClusterViewChanges } from '../../../src/backends/nats/cluster-view-changes.ts';
import { MemoryRevisionedStore } from '../../../src/backends/nats/revisioned-store.ts';
import { VIEWS_KEY, VIEWS_RECORD_SHAPE, type ClusterViewsRecord } from '../../../src/backends/nats/cluster-views-record.ts';
import { PartitionSpeed } from '../../../src/backends/nats/partition-speed.ts';
import { markHolds } from '../../../src/backends/nats/switching-mark.ts';
import { order as orderType, shopConfig } from '../../support/shop-config.ts';

test('the served definition asked for while another is being switched in is switched back next', async () => {
  const catalog = compileConfig(shopConfig);
  const silent = { info() {}, warn() {}, error() {} };
  const host = { catalog, backend: {} as never, logger: silent as never, closed: false, swap() {}, runSwitch: async () => ({}) as never, runBatch: async () => ({}) as never };
  const store = new MemoryRevisionedStore<ClusterViewsRecord>();
  const views = new ClusterViewChanges(host, { store, node: 'n', leaseMs: 15_000, config: shopConfig, servedVersion: () => 1, servedBatch: () => 1, cycleMayPublish: () => true });
  const original = shopConfig.views.find((v) => v.name === 'by_device_week')!;
  const other = defineView(orderType, { ...original, granularity: 'day' } as never);
  await views.apply(other);
  const carried = await views.beginSwitch(2, 1);
  assert.ok(carried.has('by_device_week'), 'the cycle carries the change');
  const back = await views.apply(original);
  assert.deepEqual(back, { view: 'by_device_week', action: 'change', version: 3, state: 'backfilling' });
  // The cycle publishes `other` and takes its change out: the change back to the served definition stays for the next cycle.
  await views.switched(carried);
  const after = (await store.get(VIEWS_KEY))!.value;
  assert.notDeepEqual(after.pending, {}, 'a change back to the definition asked for last is still recorded');
});

test('a definition a seal past the served cutoff included is kept until a version covers the seal, even on an idle partition', () => {
  const served = compileConfig(shopConfig);
  const added = withView(served, defineView(orderType, { name: 'added', dimensions: ['country'], granularity: 'day', measures: { n: { type: 'count' } } })).catalog.views.get('added')!;
  // Served cutoff 10; nothing arrives in this partition before the next cycle's seal at 20, which includes `added`.
  const speed = new PartitionSpeed(served, 10);
  speed.seal(20, [added]);
  // #serveCatalog keeps a definition it does not serve only when a seal past the cutoff included it.
  assert.ok(speed.includedPast(added), 'the definition the running cycle switches in is kept');
  speed.dropBefore(20);
  assert.ok(!speed.includedPast(added), 'once a version covers that seal, a definition it does not serve is retired');
});

/** A node's view changes over `store`, serving batch version `served.batch` with `catalog`. */
function node(store: MemoryRevisionedStore<ClusterViewsRecord>, name: string, served: { batch: number; catalog: ReturnType<typeof compileConfig>; versions?: Record<string, number> }) {
  const silent = { info() {}, warn() {}, error() {} };
  const host = { get catalog() { return served.catalog; }, backend: {} as never, logger: silent as never, closed: false, swap() {}, runSwitch: async () => ({}) as never, runBatch: async () => ({}) as never };
  return new ClusterViewChanges(host, {
    store, node: name, leaseMs: 15_000, config: shopConfig, servedVersion: (view) => served.versions?.[view] ?? 1, servedBatch: () => served.batch,
    cycleMayPublish: () => true,
  });
}

test('a change a cycle published stays listed on a node that does not serve its version yet, also once that node is asked for another change', async () => {
  const store = new MemoryRevisionedStore<ClusterViewsRecord>();
  const catalog = compileConfig(shopConfig);
  const batch = node(store, 'batch', { batch: 1, catalog });
  const slowServed = { batch: 1, catalog };
  const slow = node(store, 'slow', slowServed);
  const first = defineView(orderType, { name: 'first', dimensions: ['country'], granularity: 'day', measures: { n: { type: 'count' } } });
  const second = defineView(orderType, { name: 'second', dimensions: ['mobile'], granularity: 'day', measures: { n: { type: 'count' } } });
  await slow.apply(first);
  const carried = await batch.beginSwitch(2, 1);
  await slow.refresh();
  await batch.switched(carried);
  await slow.refresh();
  assert.deepEqual(slow.statuses().map((c) => [c.view, c.state]), [['first', 'switching']], 'published, not served here yet');
  await slow.apply(second);
  assert.deepEqual(slow.statuses().map((c) => [c.view, c.state]), [['first', 'switching'], ['second', 'backfilling']], 'still listed after a write of the record here');
  slowServed.batch = 2;
  await slow.refresh();
  assert.deepEqual(slow.statuses().map((c) => c.view), ['second'], 'gone once its version is served here');
});

test('a change left in the record after the version serving it was published asks for no cycle, and the next one takes it out', async () => {
  const store = new MemoryRevisionedStore<ClusterViewsRecord>();
  const original = shopConfig.views.find((v) => v.name === 'by_device_week')!;
  const daily = defineView(orderType, { ...original, granularity: 'day' } as never);
  // Version 2 served it as by_device_week's version 2; the write taking it out of the record was lost.
  const catalog = withView(compileConfig(shopConfig), daily).catalog;
  const definition = catalog.views.get('by_device_week')!.definition;
  await store.create(VIEWS_KEY, { pending: { by_device_week: { view: definition, version: 2, requestedAt: new Date().toISOString(), by: 'n', switching: 2, term: 1 } }, configs: [] });
  const views = node(store, 'n', { batch: 2, catalog, versions: { by_device_week: 2 } });
  await views.refresh();
  assert.deepEqual(views.pendingChanges, {}, 'nothing asks for a cycle');
  assert.deepEqual(views.statuses(), []);
  assert.equal((await views.beginSwitch(3, 1)).size, 0, 'the next cycle carries nothing');
  assert.deepEqual((await store.get(VIEWS_KEY))!.value.pending, {}, 'and took it out');
});

test('a switching mark holds while its cycle may publish, as the control record read says', () => {
  const lease = (term: number, expiresAt = Date.now() + 10_000) => ({ holder: 'a', term, expiresAt });
  const published = (version: number, term: number) => ({ version, cutoffs: [], term });
  assert.equal(markHolds({ lease: lease(3), published: published(6, 3) }, 7, 3), true, 'the cycle runs under the lease held');
  assert.equal(markHolds({ lease: lease(2), published: published(6, 2) }, 7, 3), true, 'a record read before the cycle took the lease');
  assert.equal(markHolds({ lease: null, published: null }, 1, 1), true, 'no lease read yet');
  assert.equal(markHolds({ lease: lease(3), published: published(7, 3) }, 7, 3), true, 'published by it: switched in');
  assert.equal(markHolds({ lease: lease(4), published: published(6, 3) }, 7, 3), false, 'another term holds the lease: that cycle is fenced');
  assert.equal(markHolds({ lease: lease(3, Date.now() - 1), published: published(6, 3) }, 7, 3), false, 'its lease ran out');
  assert.equal(markHolds({ lease: lease(4), published: published(7, 4) }, 7, 3), false, 'its version was published by another term');
  assert.equal(markHolds({ lease: lease(3), published: published(6, 3) }, 7, undefined), true, 'a mark naming no term holds until its version is published');
});

test('the views record\'s dropped numbers and progress are checked as read, and records without them stay valid', () => {
  const progress = { version: 4, term: 2, filesDone: 3, filesTotal: 12, eventsDone: 300, eventsTotal: 1_200, etaMs: 900, at: new Date().toISOString() };
  assert.doesNotThrow(() => VIEWS_RECORD_SHAPE.check({ pending: {}, configs: [] }));
  assert.doesNotThrow(() => VIEWS_RECORD_SHAPE.check({ pending: {}, configs: [], dropped: { gone: 3 }, progress }));
  assert.throws(() => VIEWS_RECORD_SHAPE.check({ pending: {}, configs: [], progress: { ...progress, etaMs: 'soon' } }), /progress\.etaMs/);
  assert.throws(() => VIEWS_RECORD_SHAPE.check({ pending: {}, configs: [], dropped: { gone: -1 } }), /dropped\.gone/);
  assert.throws(() => VIEWS_RECORD_SHAPE.check({ pending: { v: { view: null, version: 1, requestedAt: 'x', by: 'n', switching: 2, term: 'one' } }, configs: [] }), /pending\.v\.term/);
});
