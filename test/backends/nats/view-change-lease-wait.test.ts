/**
 * A view change asked right after the batch node was killed and restarted:
 * its cycles are refused (`batch_lease_expiring`) until the lease of the
 * node's previous process expires, and those refusals are waited out, not
 * counted as the few failed rounds after which the change is left to the
 * next scheduled cycle. Without a cluster: the cycles are a script.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileConfig } from '../../../src/definitions/index.ts';
import { defineView } from '../../../src/index.ts';
import { ClusterViewChanges } from '../../../src/backends/nats/cluster-view-changes.ts';
import { VIEWS_KEY, type ClusterViewsRecord } from '../../../src/backends/nats/cluster-views-record.ts';
import { BatchLeaseExpiringError } from '../../../src/backends/nats/errors.ts';
import { MemoryRevisionedStore } from '../../../src/backends/nats/revisioned-store.ts';
import { eventually } from '../../support/eventually.ts';
import { order as orderType, shopConfig } from '../../support/shop-config.ts';

/** More refusals than the rounds a change is tried for (five), as a restarted node's old lease gives in its last seconds. */
const REFUSALS = 6;

test('a view change waits out cycles refused while a restarted batch node\'s old lease expires, and is switched in by the first that runs', { timeout: 60_000 }, async () => {
  const store = new MemoryRevisionedStore<ClusterViewsRecord>();
  const silent = { info() {}, warn() {}, error() {} };
  let asked = 0;
  const host = {
    catalog: compileConfig(shopConfig), backend: {} as never, logger: silent as never, closed: false, swap() {}, runSwitch: async () => ({}) as never,
    runBatch: async () => {
      if (++asked <= REFUSALS) throw new BatchLeaseExpiringError('batch', 500);
      // The cycle that runs carries the change and, published, takes it out of the record.
      await views.switched(await views.beginSwitch(2, 1));
      return {} as never;
    },
  };
  const views = new ClusterViewChanges(host, { store, node: 'n', leaseMs: 15_000, config: shopConfig, servedVersion: () => 1, servedBatch: () => 1, cycleMayPublish: () => true });
  const original = shopConfig.views.find((v) => v.name === 'by_device_week')!;
  const answer = await views.apply(defineView(orderType, { ...original, granularity: 'day' } as never));
  assert.equal(answer.state, 'backfilling');
  await eventually(async () => Object.keys((await store.get(VIEWS_KEY))!.value.pending).length === 0, () => `the change to be switched in (cycles asked: ${asked})`, { timeoutMs: 30_000 });
  assert.equal(asked, REFUSALS + 1);
});
