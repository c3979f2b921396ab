/**
 * A partition owner's share of an answer, asked over NATS (issue #28): two
 * nodes in this process on a real NATS server, every node still applying
 * every partition, so that a node's own speed-layer answer is the reference.
 * The shares node b gives for every partition, from the cutoffs of the
 * version both serve, decoded and merged, answer every shop query as node
 * a's speed layer does; a share asked from other cutoffs is refused as a
 * version skew, a node nobody runs is unreachable, a request for a view
 * that does not exist comes back with the owner's code, all typed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { NatsConnection } from '@nats-io/transport-node';
import { ClusterNode } from '../../../src/backends/nats/cluster-node.ts';
import { RemoteShareFailedError, ShareOwnerUnreachableError, ShareVersionSkewError } from '../../../src/backends/nats/errors.ts';
import { ShareRequests } from '../../../src/backends/nats/share-requests.ts';
import { compileConfig } from '../../../src/definitions/index.ts';
import { decodePartial, executeQuery, planQuery, QueryBudget } from '../../../src/serving/index.ts';
import { shopConfig } from '../../support/shop-config.ts';
import { shopQueries } from '../../support/shop-queries.ts';
import { eventually } from '../../support/eventually.ts';
import { NatsCluster, natsSkipReason } from '../../support/nats-cluster.ts';
import { withTempDir } from '../../support/temp-dir.ts';

const config = { ...shopConfig, cluster: { name: 'shares', partitions: 2, replicas: 1 } };
const catalog = compileConfig(config);
const DEVICES = ['ios', 'android', 'web'];
const order = (i: number) => ({
  id: `o${i}`, at: Date.UTC(2024, 3, 1 + (i % 40), i % 24), country: ['DE', 'FR', 'US', 'BR'][i % 4], mobile: i % 3 === 0,
  amount: ((i * 37) % 5_000) / 100, qty: i % 7, ...(i % 5 === 0 ? {} : { device: DEVICES[i % 3] }),
});

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
        const cutoffs = a.status().cluster!.partitions.map((p) => p.batchCutoff);
        assert.ok(cutoffs.every((c) => c > 0));
        for (const query of shopQueries()) {
          const plan = planQuery(catalog, query);
          const { share } = await shares.ask('b', { query, partitions: [0, 1], cutoffs, after: position! });
          const merged = executeQuery(plan, [decodePartial(plan.view, share)], new QueryBudget());
          const { rows } = await a.query({ ...query, layer: 'speed', after: position! });
          assert.deepEqual(merged, rows, JSON.stringify(query));
        }
        await assert.rejects(shares.ask('b', { query: { view: 'by_country_hour' }, partitions: [1], cutoffs: [cutoffs[1]! + 1] }), (error: unknown) => (
          error instanceof ShareVersionSkewError && error.node === 'b' && error.partition === 1 && error.starts === cutoffs[1]
        ));
        await assert.rejects(shares.ask('nobody', { query: { view: 'by_country_hour' }, partitions: [0], cutoffs: [cutoffs[0]!] }, 2_000), ShareOwnerUnreachableError);
        await assert.rejects(shares.ask('b', { query: { view: 'nope' }, partitions: [0], cutoffs: [cutoffs[0]!] }), (error: unknown) => (
          error instanceof RemoteShareFailedError && error.remoteCode === 'unknown_view' && /^[^\n]+\.$/.test(error.message)
        ));
      } finally {
        await shares.close();
        await Promise.all([a.close(), b.close()]);
      }
    });
  });
});
