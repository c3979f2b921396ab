/**
 * Views changed while a cluster serves (issue #31): three nodes in this
 * process on a real NATS server, six partitions divided among them. A view
 * changed through one node, a view added through another, and a view
 * dropped through the third are switched in by one published version: until
 * then every node answers with the definitions served (an added view says
 * it is being backfilled), and from then on every node answers with the new
 * ones, exactly as the reference recomputation over every event, ingested
 * before and during the change. A node restarted with its old config file
 * serves the cluster's views, and a node opened with an edited file changes
 * them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ClusterNode } from '../../../src/backends/nats/internal.ts';
import { defineView } from '../../../src/index.ts';
import { UnknownViewError } from '../../../src/serving/index.ts';
import { eventually } from '../../support/eventually.ts';
import { bounded } from '../../support/hang-guard.ts';
import { NatsCluster, natsSkipReason } from '../../support/nats-cluster.ts';
import type { RefEvent } from '../../support/reference.ts';
import { checkViewAnswers } from '../../support/check-answers.ts';
import { order as orderType, shopConfig } from '../../support/shop-config.ts';
import { withTempDir } from '../../support/temp-dir.ts';

const LEASE_MS = 3_000;
const BASE = Date.UTC(2024, 2, 1);
const COUNTRIES = ['DE', 'FR', 'US', 'BR'];

function order(i: number): { ref: RefEvent; raw: Record<string, unknown> } {
  const ref: RefEvent = {
    id: `o${i}`, at: BASE + ((i * 7_919) % (60 * 24)) * 3_600_000, country: COUNTRIES[i % 4]!,
    device: i % 5 === 0 ? null : 'web', mobile: i % 3 === 0, cents: (i * 37) % 50_000 - 100, qty: i % 7,
  };
  const raw: Record<string, unknown> = { id: ref.id, at: ref.at, country: ref.country, mobile: ref.mobile, amount: ref.cents / 100, qty: ref.qty };
  if (ref.device !== null) raw.device = ref.device;
  return { ref, raw };
}

/** `by_device_week` changed: grouped by country instead, by day, with a sum and a distinct count. */
const changed = defineView(orderType, {
  name: 'by_device_week', dimensions: ['country'], granularity: 'day',
  measures: { orders: { type: 'count' }, spend: { type: 'sum', field: 'amount' }, sizes: { type: 'countDistinct', field: 'qty' } },
});
/** A view the config lacks. */
const added = defineView(orderType, {
  name: 'by_mobile', dimensions: ['mobile'], granularity: 'month',
  measures: { orders: { type: 'count' }, p: { type: 'quantiles', field: 'qty', quantiles: [0.5] } }, filter: [{ field: 'country', op: '!=', value: 'BR' }],
});


describe('views changed while a cluster serves', { skip: natsSkipReason(), timeout: 600_000 }, () => {
  let nats: NatsCluster | undefined;
  before(async () => {
    nats = await NatsCluster.start({ size: 1 });
  });
  after(async () => {
    await nats?.stop();
  });

  test('a change, an addition and a drop asked of three nodes are switched in by the next version, on every node, exactly; a restart with the old config keeps them', async () => {
    await withTempDir(async (dir) => {
      const config = { ...shopConfig, cluster: { name: 'viewchanges', partitions: 6, replicas: 1 } };
      const open = (name: string, c: typeof config = config) => ClusterNode.open({ dataDir: `${dir}/${name}`, config: c, servers: nats!.urls, node: name, partitionLeaseMs: LEASE_MS });
      const nodes = [await open('a'), await open('b'), await open('c')];
      const events: RefEvent[] = [];
      let position: number[] = new Array<number>(6).fill(0);
      const ingest = async (from: number, to: number) => {
        for (const [i, node] of nodes.entries()) {
          const batch = Array.from({ length: Math.ceil((to - from) / nodes.length) }, (_, j) => order(from + i + j * nodes.length)).filter((e) => Number(e.ref.id.slice(1)) < to);
          const result = await bounded(node.ingest('order', batch.map((e) => e.raw)), `an ingest through ${node.name}`, nodes);
          position = position.map((seq, p) => Math.max(seq, result.position?.[p] ?? 0));
          events.push(...batch.map((e) => e.ref));
        }
      };
      const original = shopConfig.views.find((v) => v.name === 'by_device_week')!;
      try {
        await ingest(0, 600);
        await bounded(nodes[0]!.runBatch(), 'a cycle', nodes);

        const asked = await nodes[0]!.applyView(changed);
        assert.deepEqual(asked, { view: 'by_device_week', action: 'change', version: 2, state: 'backfilling' });
        const add = await nodes[1]!.applyView(added);
        assert.deepEqual(add, { view: 'by_mobile', action: 'add', version: 1, state: 'backfilling' });
        // Asked again, the same definition is the same change.
        assert.deepEqual(await nodes[2]!.applyView(added), add);
        await ingest(600, 800);

        const dropped = await bounded(nodes[2]!.dropView('totals_month'), 'a drop', nodes);
        assert.deepEqual(dropped, { view: 'totals_month', action: 'drop', version: 1, state: 'dropped' });
        // The drop waited for a version: the changes asked before it are in it too.
        await eventually(() => nodes.every((n) => n.catalog.views.get('by_device_week')?.definition.granularity === 'day' && n.catalog.views.has('by_mobile') && !n.catalog.views.has('totals_month')),
          () => `every node to serve the new views: ${nodes.map((n) => `${n.name} ${[...n.catalog.views.keys()].join(',')}`).join('; ')}`, { timeoutMs: 60_000, intervalMs: 100 });
        await ingest(800, 900);
        for (const node of nodes) {
          await checkViewAnswers(node, changed, events, position, 'switched');
          await checkViewAnswers(node, added, events, position, 'switched');
          await assert.rejects(node.query({ view: 'totals_month', granularity: 'all' }), UnknownViewError);
          assert.equal((await node.query({ view: 'by_device_week', granularity: 'all' })).meta.viewVersion, 2);
          assert.deepEqual(node.status().viewChanges, []);
        }
        // Another cycle folds more events into the new definitions, divided among the owners again.
        await ingest(900, 1_000);
        await bounded(nodes[1]!.runBatch(), 'a cycle', nodes);
        for (const node of nodes) await checkViewAnswers(node, changed, events, position, 'a cycle later');

        // Restarted with its old config file (seen before), c serves the cluster's views; a node with an edited file changes them.
        await nodes[2]!.close();
        nodes[2] = await open('c');
        assert.equal(nodes[2].catalog.views.get('by_device_week')!.definition.granularity, 'day');
        assert.ok(!nodes[2].catalog.views.has('totals_month'));
        await checkViewAnswers(nodes[2], changed, events, position, 'c restarted with its old file');
        // Edited: all_time gone, by_mobile not in it, by_device_week as it was, totals_month back.
        const edited = { ...config, views: config.views.filter((v) => v.name !== 'all_time') };
        await nodes[2]!.close();
        nodes[2] = await open('c', edited);
        await bounded(nodes[0]!.runBatch(), 'the cycle after the edited file', nodes);
        await eventually(() => nodes.every((n) => n.catalog.views.get('by_device_week')?.definition.granularity === 'week' && !n.catalog.views.has('by_mobile') && n.catalog.views.has('totals_month') && !n.catalog.views.has('all_time')),
          () => `every node to serve the edited file's views: ${nodes.map((n) => `${n.name} ${[...n.catalog.views.keys()].join(',')}`).join('; ')}`, { timeoutMs: 60_000, intervalMs: 200 });
        for (const node of nodes) {
          await checkViewAnswers(node, original, events, position, 'the edited file');
          assert.equal((await node.query({ view: 'by_device_week', granularity: 'all' })).meta.viewVersion, 3);
        }
      } finally {
        await Promise.allSettled(nodes.map((n) => n.close()));
      }
    });
  });
});
