/**
 * Partition ownership in running nodes (issue #28): three nodes in this
 * process on a real NATS server divide six partitions, two each, and every
 * node sees the same owner and epoch for each; a node that closes releases
 * its leases and the others take its partitions at once, well within a
 * lease time; every node's status says who owns what and which moves it
 * saw. (A frozen node losing its partitions once its lease runs out is in
 * `cluster-nodes.test.ts`, with SIGSTOP on a separate process.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ClusterNode } from '../../../src/backends/nats/internal.ts';
import { eventually } from '../../support/eventually.ts';
import { NatsCluster, natsSkipReason } from '../../support/nats-cluster.ts';
import { withTempDir } from '../../support/temp-dir.ts';

const base = {
  eventTypes: [{ name: 'hit', time: 'at', fields: { at: 'timestamp', page: 'string' } }],
  views: [{ name: 'pages', eventType: 'hit', dimensions: ['page'], granularity: 'hour', measures: { hits: { type: 'count' } } }],
};
let clusters = 0;
// Long enough that a partition taken within it was released, not left to expire.
const LEASE_MS = 8_000;

/** Each partition's owner and epoch as `node` sees them. */
const ownersSeenBy = (node: ClusterNode) => node.status().cluster!.partitions.map((p) => `${p.owner ?? '-'}@${p.epoch ?? '-'}`);

describe('partition ownership', { skip: natsSkipReason(), timeout: 300_000 }, () => {
  let nats: NatsCluster | undefined;
  before(async () => {
    nats = await NatsCluster.start({ size: 1 });
  });
  after(async () => {
    await nats?.stop();
  });

  test('three nodes own two of six partitions each, every node sees the same owners, and the partitions of a node that leaves are taken by the others at once', async () => {
    await withTempDir(async (dir) => {
      const config = { ...base, cluster: { name: `owners_${clusters++}`, partitions: 6, replicas: 1 } };
      const open = (name: string) => ClusterNode.open({ dataDir: `${dir}/${name}`, config, servers: nats!.urls, node: name, partitionLeaseMs: LEASE_MS });
      const nodes = [await open('a'), await open('b'), await open('c')];
      try {
        const balanced = (live: readonly ClusterNode[]) => {
          const seen = live.map(ownersSeenBy);
          const owners = live[0]!.status().cluster!.partitions.map((p) => p.owner);
          return seen.every((s) => JSON.stringify(s) === JSON.stringify(seen[0])) && live.every((n) => owners.filter((o) => o === n.name).length === 6 / live.length);
        };
        await eventually(() => balanced(nodes), 'each node to own two partitions, seen alike by all', { timeoutMs: 60_000, intervalMs: 100 });
        const epochs = nodes[0]!.status().cluster!.partitions.map((p) => p.epoch);
        assert.ok(epochs.every((e) => typeof e === 'number' && e > 0), `every partition under an epoch: ${JSON.stringify(epochs)}`);
        // A query's answer names each partition's owner, as status does.
        for (const node of nodes) {
          const { meta } = await node.query({ view: 'pages', granularity: 'all' });
          assert.deepEqual(meta.owners, node.status().cluster!.partitions.map((p) => p.owner));
        }

        // A clean leave: c releases its leases, and a and b take them without waiting for them to expire.
        const ofC = nodes[0]!.status().cluster!.partitions.filter((p) => p.owner === 'c').map((p) => p.partition);
        const left = Date.now();
        await nodes[2]!.close();
        nodes.pop();
        // As the taker itself knows at once: another node sees it at its own next step.
        const takenOver = () => ofC.every((p) => nodes.some((n) => n.status().cluster!.partitions[p]!.owner === n.name));
        await eventually(takenOver, 'a and b to take c\'s partitions', { timeoutMs: 60_000, intervalMs: 100 });
        const took = Date.now() - left;
        await eventually(() => balanced(nodes), 'a and b to own three partitions each', { timeoutMs: 60_000, intervalMs: 100 });
        const moves = nodes[0]!.status().cluster!.recentMoves!.filter((m) => ofC.includes(m.partition) && m.from === 'c');
        assert.deepEqual(moves.map((m) => m.partition).sort(), [...ofC].sort(), 'a saw each of c\'s partitions move');
        assert.ok((nodes[0]!.status().cluster!.ownerMoves ?? 0) >= ofC.length);

        assert.ok(took < LEASE_MS, `released leases are taken at once, not after they expire: ${took} ms`);
        process.stderr.write(`# a clean leave moved ${ofC.length} partitions in ${took} ms (lease ${LEASE_MS} ms)\n`);
      } finally {
        await Promise.allSettled(nodes.map((n) => n.close()));
      }
    });
  });
});
