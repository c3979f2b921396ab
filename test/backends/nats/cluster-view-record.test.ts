/**
 * View changes in cluster mode without a cluster (issue #31): the views
 * record's changes as a batch node's cycle carries them, and which
 * definitions a partition's speed layer keeps when a version is adopted.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileConfig, withView } from '../../../src/definitions/index.ts';
import { defineView } from '../../../src/index.ts';
import { ClusterViewChanges } from '../../../src/backends/nats/cluster-view-changes.ts';
import { MemoryRevisionedStore } from '../../../src/backends/nats/revisioned-store.ts';
import { VIEWS_KEY, type ClusterViewsRecord } from '../../../src/backends/nats/cluster-views-record.ts';
import { PartitionSpeed } from '../../../src/backends/nats/partition-speed.ts';
import { order as orderType, shopConfig } from '../../support/shop-config.ts';

test('the served definition asked for while another is being switched in is switched back next', async () => {
  const catalog = compileConfig(shopConfig);
  const silent = { info() {}, warn() {}, error() {} };
  const host = { catalog, backend: {} as never, logger: silent as never, closed: false, swap() {}, runSwitch: async () => ({}) as never, runBatch: async () => ({}) as never };
  const store = new MemoryRevisionedStore<ClusterViewsRecord>();
  const views = new ClusterViewChanges(host, { store, node: 'n', config: shopConfig, servedVersion: () => 1, servedBatch: () => 1, cycleMayPublish: () => true });
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
