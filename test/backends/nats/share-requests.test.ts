/**
 * A partition owner's share of an answer, asked over NATS (issue #28): two
 * nodes in this process on a real NATS server, each holding the speed layer
 * of the partition it owns. The shares each gives for its own partition,
 * from the cutoffs of the version both serve, decoded and merged, answer
 * every shop query as the reference does over the events ingested since
 * that version; a share asked from other cutoffs is refused as a version
 * skew, a partition the node does not hold as not served, a node nobody
 * runs is unreachable, a request for a view that does not exist comes back
 * with the owner's code, all typed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { NatsConnection } from '@nats-io/transport-node';
import { ClusterNode } from '../../../src/backends/nats/cluster-node.ts';
import { PartitionNotServedError, RemoteShareFailedError, ShareOwnerUnreachableError, ShareVersionSkewError } from '../../../src/backends/nats/errors.ts';
import { ShareRequests } from '../../../src/backends/nats/share-requests.ts';
import { compileConfig } from '../../../src/definitions/index.ts';
import { decodePartial, executeQuery, planQuery, QueryBudget } from '../../../src/serving/index.ts';
import { canonicalRows, referenceQuery, type RefEvent } from '../../support/reference.ts';
import { shopConfig, views } from '../../support/shop-config.ts';
import { shopQueries } from '../../support/shop-queries.ts';
import { eventually } from '../../support/eventually.ts';
import { NatsCluster, natsSkipReason } from '../../support/nats-cluster.ts';
import { withTempDir } from '../../support/temp-dir.ts';

const config = { ...shopConfig, cluster: { name: 'shares', partitions: 2, replicas: 1 } };
const catalog = compileConfig(config);
const DEVICES = ['ios', 'android', 'web'];
const order = (i: number) => ({
  id: `o${i}`, at: Date.UTC(2024, 3, 1 + (i % 40), i % 24), country: ['DE', 'FR', 'US', 'BR'][i % 4]!, mobile: i % 3 === 0,
  amount: ((i * 37) % 5_000) / 100, qty: i % 7, ...(i % 5 === 0 ? {} : { device: DEVICES[i % 3]! }),
});
/** Order `i` as the reference reads it. */
const ref = (i: number): RefEvent => {
  const o = order(i);
  return { id: o.id, at: o.at, country: o.country, device: o.device ?? null, mobile: o.mobile, cents: (i * 37) % 5_000, qty: o.qty };
};
/** The partition whose speed layer `node` holds, once it holds only its own. */
const heldBy = (node: ClusterNode) => node.status().cluster!.partitions.filter((p) => p.speedHere === true).map((p) => p.partition);

describe('share requests', { skip: natsSkipReason(), timeout: 300_000 }, () => {
  let nats: NatsCluster | undefined;
  let asker: NatsConnection | undefined;
  before(async () => {
    nats = await NatsCluster.start({ size: 1 });
    asker = await nats.connect();
  });
  after(async () => {
    await asker?.close();
    await nats?.stop();
  });

  test('the shares of every partition, merged, answer as the speed layer of a node that applies them all; skew, absence and a bad query are typed', async () => {
    await withTempDir(async (dir) => {
      const open = (name: string) => ClusterNode.open({ dataDir: `${dir}/${name}`, config, servers: nats!.urls, node: name });
      const a = await open('a');
      const b = await open('b');
      const shares = await ShareRequests.serve(asker!, { cluster: config.cluster.name, node: 'asker', answer: () => Promise.reject(new Error('not a node')) });
      try {
        await a.ingest('order', Array.from({ length: 300 }, (_, i) => order(i)));
        await a.runBatch();
        const { position } = await b.ingest('order', Array.from({ length: 200 }, (_, i) => order(300 + i)));
        await eventually(() => b.status().batch?.version === a.status().batch?.version, 'b to serve a\'s version');
        await eventually(() => heldBy(a).length === 1 && heldBy(b).length === 1 && heldBy(a)[0] !== heldBy(b)[0], () => `each node to hold one partition's speed layer: a ${heldBy(a)}, b ${heldBy(b)}`, { timeoutMs: 60_000 });
        const cutoffs = a.status().cluster!.partitions.map((p) => p.batchCutoff);
        assert.ok(cutoffs.every((c) => c > 0));
        const since = Array.from({ length: 200 }, (_, i) => ref(300 + i));
        for (const query of shopQueries()) {
          const plan = planQuery(catalog, query);
          const tables = [];
          for (const [node, p] of [['a', heldBy(a)[0]!], ['b', heldBy(b)[0]!]] as const) {
            const { share } = await shares.ask(node, { query, partitions: [p], cutoffs: [cutoffs[p]!], after: position! });
            tables.push(decodePartial(plan.view, share));
          }
          const merged = executeQuery(plan, tables, new QueryBudget());
          const expected = referenceQuery(views.find((v) => v.name === query.view)!, since, query);
          if (query.limit !== undefined) assert.deepEqual(merged, expected, JSON.stringify(query));
          else assert.deepEqual(canonicalRows(merged), canonicalRows(expected), JSON.stringify(query));
          const { rows } = await a.query({ ...query, layer: 'speed', after: position! });
          assert.deepEqual(rows, merged, `a's own answer gathers the same: ${JSON.stringify(query)}`);
        }
        const ofB = heldBy(b)[0]!;
        await assert.rejects(shares.ask('b', { query: { view: 'by_country_hour' }, partitions: [ofB], cutoffs: [cutoffs[ofB]! + 1] }), (error: unknown) => (
          error instanceof ShareVersionSkewError && error.node === 'b' && error.partition === ofB && error.starts === cutoffs[ofB]
        ));
        const ofA = heldBy(a)[0]!;
        await assert.rejects(shares.ask('b', { query: { view: 'by_country_hour' }, partitions: [ofA], cutoffs: [cutoffs[ofA]!] }), (error: unknown) => (
          error instanceof PartitionNotServedError && error.node === 'b' && error.partition === ofA
        ));
        await assert.rejects(shares.ask('nobody', { query: { view: 'by_country_hour' }, partitions: [0], cutoffs: [cutoffs[0]!] }, 2_000), ShareOwnerUnreachableError);
        await assert.rejects(shares.ask('b', { query: { view: 'nope' }, partitions: [ofB], cutoffs: [cutoffs[ofB]!] }), (error: unknown) => (
          error instanceof RemoteShareFailedError && error.remoteCode === 'unknown_view' && /^[^\n]+\.$/.test(error.message)
        ));
      } finally {
        await shares.close();
        await Promise.all([a.close(), b.close()]);
      }
    });
  });
});
