/**
 * View changes in a cluster at the edges (issue #31), on a real NATS server:
 * - a node that adopted a version changing a view asks an owner still on
 *   the previous version (its adoption held back here) for its partition's
 *   share: the owner, which planned with the old definition before it
 *   waited to serve the asker's version, plans again once it does, so the
 *   answer is exact (it lacked that partition's events before);
 * - a views record that is not valid stops view changes only: cycles go on
 *   and nodes open;
 * - a change recorded by a node that died before any cycle carried it is
 *   switched in by the batch node's poll, with no cycle asked for.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Kvm } from '@nats-io/kv';
import { ClusterNode, connectNats } from '../../../src/backends/nats/internal.ts';
import { PartitionBatch } from '../../../src/backends/nats/partition-batch.ts';
import { withPending, type ClusterViewsRecord } from '../../../src/backends/nats/cluster-views-record.ts';
import { defineView } from '../../../src/index.ts';
import { eventually } from '../../support/eventually.ts';
import { NatsCluster, natsSkipReason } from '../../support/nats-cluster.ts';
import { canonicalRows, referenceQuery, type RefEvent } from '../../support/reference.ts';
import { order as orderType, shopConfig } from '../../support/shop-config.ts';
import { withTempDir } from '../../support/temp-dir.ts';

const BASE = Date.UTC(2024, 2, 1);
function order(i: number): { ref: RefEvent; raw: Record<string, unknown> } {
  const ref: RefEvent = { id: `o${i}`, at: BASE + (i % 50) * 3_600_000, country: ['DE', 'FR', 'US', 'BR'][i % 4]!, device: 'web', mobile: i % 3 === 0, cents: 100 + i, qty: i % 7 };
  return { ref, raw: { id: ref.id, at: ref.at, country: ref.country, device: 'web', mobile: ref.mobile, amount: ref.cents / 100, qty: ref.qty } };
}
const viewA = defineView(orderType, { name: 'vc', dimensions: ['country'], granularity: 'day', measures: { orders: { type: 'count' } } });
// Same shape (one count), another filter: the share decodes either way.
const viewB = defineView(orderType, { name: 'vc', dimensions: ['country'], granularity: 'day', measures: { orders: { type: 'count' } }, filter: [{ field: 'country', op: '!=', value: 'BR' }] });

/** Partitions whose adoption of version `slowVersion` is held back `slowMs`: the owner's. */
const slow = { partitions: new Set<number>(), version: -1, ms: 0 };
const settled = PartitionBatch.prototype.settled;
PartitionBatch.prototype.settled = async function (this: PartitionBatch) {
  await settled.call(this);
  if (this.manifest.version === slow.version && this.served().some((p) => slow.partitions.has(p))) await new Promise((r) => setTimeout(r, slow.ms));
};

describe('view changes in a cluster at the edges', { skip: natsSkipReason(), timeout: 300_000 }, () => {
  let nats: NatsCluster | undefined;
  before(async () => {
    nats = await NatsCluster.start({ size: 1 });
  });
  after(async () => {
    await nats?.stop();
  });

  test('the faster node answers the changed view exactly while the owner adopts late', async () => {
    await withTempDir(async (dir) => {
      const config = { ...shopConfig, views: [...shopConfig.views, viewA], cluster: { name: 'sharerace', partitions: 2, replicas: 1, standbys: 0 } };
      const open = (name: string) => ClusterNode.open({ dataDir: `${dir}/${name}`, config, servers: nats!.urls, node: name, partitionLeaseMs: 3_000, readWaitMs: 10_000 });
      const a = await open('a');
      const b = await open('b');
      const events: RefEvent[] = [];
      let position = [0, 0];
      const ingest = async (from: number, to: number) => {
        const batch = Array.from({ length: to - from }, (_, j) => order(from + j));
        const r = await a.ingest('order', batch.map((e) => e.raw));
        position = position.map((s, p) => Math.max(s, r.position?.[p] ?? 0));
        events.push(...batch.map((e) => e.ref));
      };
      try {
        await ingest(0, 200);
        await a.runBatch();
        // Each node reads only its own partition.
        await eventually(() => {
          const sa = a.status().cluster!.partitions; const sb = b.status().cluster!.partitions;
          return sa.filter((p) => p.speedHere).length === 1 && sb.filter((p) => p.speedHere).length === 1 && sa.every((p) => p.owner !== null);
        }, () => `division: a ${JSON.stringify(a.status().cluster!.partitions.map((p) => [p.owner, p.speedHere]))} b ${JSON.stringify(b.status().cluster!.partitions.map((p) => [p.owner, p.speedHere]))}`, { timeoutMs: 60_000, intervalMs: 200 });
        const bParts = b.status().cluster!.partitions.filter((p) => p.speedHere).map((p) => p.partition);
        // a must hold the lease to run the switching cycle itself, and then adopt first.
        const served = (await a.query({ view: 'vc', granularity: 'all' })).meta.batchVersion ?? 0;
        slow.partitions = new Set(bParts); slow.version = served + 1; slow.ms = 5_000;
        await a.applyView(viewB);
        await eventually(() => a.catalog.views.get('vc')!.definition.filter !== undefined, () => 'a to serve B', { timeoutMs: 60_000, intervalMs: 50 });
        assert.equal(b.catalog.views.get('vc')!.definition.filter, undefined, 'b still serves A (slow adoption)');
        await ingest(200, 400);
        const query = { view: 'vc', granularity: 'all' as const };
        const { rows } = await a.query({ ...query, after: position });
        const expected = canonicalRows(referenceQuery(viewB, events, query));
        await eventually(() => b.catalog.views.get('vc')!.definition.filter !== undefined, () => 'b to serve B', { timeoutMs: 60_000, intervalMs: 50 });
        for (const n of [a, b]) assert.deepEqual(canonicalRows((await n.query({ ...query, after: position })).rows), expected, `${n.name} once both serve B`);
        assert.deepEqual(canonicalRows(rows), expected, 'a answered B exactly across b\'s late adoption');
      } finally {
        await Promise.allSettled([a.close(), b.close()]);
      }
    });
  });

  test('a views record that is not valid stops view changes only: cycles go on and nodes open', async () => {
    await withTempDir(async (dir) => {
      const config = { ...shopConfig, cluster: { name: 'badviews', partitions: 2, replicas: 1 } };
      const a = await ClusterNode.open({ dataDir: `${dir}/a`, config, servers: nats!.urls, node: 'a' });
      const nc = await connectNats({ servers: nats!.urls });
      try {
        await a.ingest('order', [{ id: 'o1', at: Date.UTC(2024, 2, 1), country: 'DE', mobile: false, amount: 1, qty: 1 }]);
        await a.runBatch();
        const kv = await new Kvm(nc).open('badviews_control');
        await kv.put('views', 'garbage{');
        await a.ingest('order', [{ id: 'o2', at: Date.UTC(2024, 2, 1), country: 'DE', mobile: false, amount: 1, qty: 1 }]);
        const cycle = await a.runBatch().then(() => 'ok', (e: Error) => `failed: ${e.message}`);
        const opened = await ClusterNode.open({ dataDir: `${dir}/b`, config, servers: nats!.urls, node: 'b' }).then(async (b) => { await b.close(); return 'ok'; }, (e: Error) => `failed: ${e.message}`);
        assert.equal(cycle, 'ok');
        assert.equal(opened, 'ok');
      } finally {
        await nc.close();
        await a.close();
      }
    });
  });

  test('a change no cycle carries (its asker died) is switched in by the batch node\'s poll', async () => {
    await withTempDir(async (dir) => {
      const config = { ...shopConfig, cluster: { name: 'orphanchange', partitions: 2, replicas: 1 } };
      // An in-process node runs no scheduled cycles: only the poll can start the one that switches the change in.
      const a = await ClusterNode.open({ dataDir: `${dir}/a`, config, servers: nats!.urls, node: 'a' });
      const nc = await connectNats({ servers: nats!.urls });
      try {
        const events = Array.from({ length: 40 }, (_, i) => order(i));
        const { position } = await a.ingest('order', events.map((e) => e.raw));
        await a.runBatch();
        // What a node's apply writes before it asks for a cycle, written as if that node died right after.
        const kv = await new Kvm(nc).open('orphanchange_control');
        const record = JSON.parse((await kv.get('views'))!.string()) as ClusterViewsRecord;
        await kv.put('views', JSON.stringify(withPending(record, 'vc', { view: viewA, version: 1, requestedAt: new Date().toISOString(), by: 'gone' })));
        await eventually(() => a.catalog.views.has('vc'), () => `a to serve vc; its changes: ${JSON.stringify(a.status().viewChanges)}`, { timeoutMs: 60_000 });
        for (const query of [{ view: 'vc', groupBy: ['country'] }, { view: 'vc', granularity: 'all' as const }]) {
          const { rows } = await a.query({ ...query, after: position! });
          assert.deepEqual(canonicalRows(rows), canonicalRows(referenceQuery(viewA, events.map((e) => e.ref), query)));
        }
      } finally {
        await nc.close();
        await a.close();
      }
    });
  });
});
