/**
 * A wide query (`granularity: 'all'`) with a range, asked of a cluster node
 * that gathers other owners' batch states: an owner whose partition's
 * buckets all lie inside the range reads its all-time roll-up (a read aid
 * without the view's buckets), and its share must still count for the
 * asker, who reads every share over the range again. Before the fix those
 * partitions' events were missing from every node but their owner's answer.
 * Found by the cluster mixed-schedule test (seed 3).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ClusterNode } from '../../../src/backends/nats/internal.ts';
import { defineConfig } from '../../../src/index.ts';
import { eventually } from '../../support/eventually.ts';
import { NatsCluster, natsSkipReason } from '../../support/nats-cluster.ts';
import { canonicalRows, referenceQuery, type RefEvent } from '../../support/reference.ts';
import { order, views } from '../../support/shop-config.ts';
import { withTempDir } from '../../support/temp-dir.ts';

const skip = natsSkipReason();
const DAY = 86_400_000;
const view = views.find((v) => v.name === 'by_country_minute')!;

let nats: NatsCluster | undefined;
before(async () => {
  if (skip === false) nats = await NatsCluster.start({ size: 1 });
});
after(async () => {
  await nats?.stop();
});

test('a wide query with a range counts every partition on every node, whoever owns it', { skip, timeout: 300_000 }, async () => {
  await withTempDir(async (dir) => {
    const config = defineConfig({ eventTypes: [order], views: [view], cluster: { name: 'wideshare', partitions: 3, replicas: 1 } });
    const nodes: ClusterNode[] = [];
    try {
      for (const name of ['a', 'b', 'c']) nodes.push(await ClusterNode.open({ dataDir: `${dir}/${name}`, config, servers: nats!.urls, node: name, partitionLeaseMs: 2_000 }));
      const events: RefEvent[] = Array.from({ length: 40 }, (_, i) => ({
        id: `k${i}`, at: Date.UTC(2024, 4, 3) + i * 3 * DAY + i * 61_000, country: ['BR', 'FR', 'DE', 'US'][i % 4]!, device: null, mobile: true, cents: i * 100 + 50, qty: i % 5,
      }));
      let position = [0, 0, 0];
      for (const [i, node] of nodes.entries()) {
        const mine = events.filter((_, j) => j % 3 === i).map((e) => ({ id: e.id, at: e.at, country: e.country, mobile: e.mobile, amount: e.cents / 100, qty: e.qty }));
        const { position: at } = await node.ingest('order', mine);
        position = position.map((seq, p) => Math.max(seq, at![p]!));
      }
      await nodes[0]!.runBatch();
      await eventually(() => nodes.every((n) => (n.status().batch?.version ?? 0) >= 1), 'every node to serve the first version');
      // Each owner builds its read aids in the background: the all-time roll-up is what a wide query then reads.
      await eventually(() => nodes.every((n) => n.status().cluster!.partitions.filter((p) => p.owner === n.name).length > 0), 'every node to own a partition');
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      for (const from of ['2024-05-01T17:22:00.000Z', '2024-05-01T00:00:00.000Z', '2024-06-15T00:00:00.000Z', undefined]) {
        for (const query of [{ view: view.name, granularity: 'all' as const }, { view: view.name, groupBy: ['country'], granularity: 'all' as const }]) {
          const ranged = from === undefined ? query : { ...query, from };
          const expected = canonicalRows(referenceQuery(view, events, ranged));
          for (const node of nodes) {
            const { rows } = await node.query({ ...ranged, after: position });
            assert.deepEqual(canonicalRows(rows), expected, `${node.name}: ${JSON.stringify(ranged)}`);
          }
        }
      }
    } finally {
      for (const node of nodes) await node.close();
    }
  });
});
