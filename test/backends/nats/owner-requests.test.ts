/**
 * What a node asks the reader of a partition it does not read (issue #28):
 * two nodes in this process on a real NATS server, each reading the one
 * partition it owns, asked by a third connection. Each answers for the
 * partition it reads and says null for the other; the duplicates of an
 * ingest sent twice, asked of each partition's reader, add up to the copies
 * sent; what a partition had seen at a seal is given only where the digest
 * asked is the reader's own; a node nobody runs, a failing answer and a
 * request it cannot read and a garbled reply are each an
 * {@link OwnerAskFailedError}.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { NatsConnection } from '@nats-io/transport-node';
import { ClusterNode } from '../../../src/backends/nats/cluster-node.ts';
import { OwnerAskFailedError } from '../../../src/backends/nats/errors.ts';
import { OwnerRequests } from '../../../src/backends/nats/owner-requests.ts';
import { shopConfig } from '../../support/shop-config.ts';
import { eventually } from '../../support/eventually.ts';
import { NatsCluster, natsSkipReason } from '../../support/nats-cluster.ts';
import { withTempDir } from '../../support/temp-dir.ts';

const config = { ...shopConfig, cluster: { name: 'owners', partitions: 2, replicas: 1 } };
const order = (i: number) => ({ id: `o${i}`, at: Date.UTC(2024, 3, 1 + (i % 40)), country: ['DE', 'FR', 'US', 'BR'][i % 4]!, mobile: false, amount: i, qty: 1 });
/** The partitions `node` reads, as its own heartbeat says. */
const readBy = (node: ClusterNode) => node.status().cluster!.nodes.find((n) => n.node === node.name)?.reads ?? [];

describe('owner requests', { skip: natsSkipReason(), timeout: 300_000 }, () => {
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

  test('each reader answers for its own partition only; duplicates, seals and failures come back as asked', async () => {
    await withTempDir(async (dir) => {
      const open = (name: string) => ClusterNode.open({ dataDir: `${dir}/${name}`, config, servers: nats!.urls, node: name, partitionLeaseMs: 3_000 });
      const a = await open('a');
      const b = await open('b');
      const refuse = () => Promise.reject(new Error('not a node'));
      const owners = await OwnerRequests.serve(asker!, { cluster: config.cluster.name, node: 'asker', answers: { origins: refuse, sealOrigins: refuse, applied: refuse } });
      try {
        await eventually(() => readBy(a).length === 1 && readBy(b).length === 1 && readBy(a)[0] !== readBy(b)[0], () => `each node to read one partition: a ${readBy(a)}, b ${readBy(b)}`, { timeoutMs: 60_000 });
        const ofA = readBy(a)[0]!;
        const ofB = readBy(b)[0]!;
        const orders = Array.from({ length: 60 }, (_, i) => order(i));
        const first = await a.ingest('order', orders);
        assert.equal(first.duplicates, 0);
        const again = await a.ingest('order', orders);
        assert.equal(again.duplicates, 60, 'every copy counted, half of them by the other node');
        // Each partition's last message holds the second ingest's share of it: all duplicates, counted by its reader.
        const at = again.position!;
        const fromA = await owners.applied('a', at, [[ofA, at[ofA]!]], 5_000);
        const fromB = await owners.applied('b', at, [[ofB, at[ofB]!]], 5_000);
        assert.equal(fromA! + fromB!, 60);
        assert.ok(fromA! > 0 && fromB! > 0, `both partitions hold orders: ${fromA} and ${fromB}`);
        assert.equal(await owners.applied('b', at, [[ofA, at[ofA]!]], 5_000), null, 'b does not read a\'s partition, so it cannot count there');

        const [mine, notMine] = await owners.origins('b', 'some-outbox', [ofB, ofA], 5_000);
        assert.deepEqual(mine, { applied: at[ofB], runs: [] }, 'b has seen no event of an outbox nobody has');
        assert.equal(notMine, null);

        await b.runBatch();
        await eventually(() => a.status().batch?.version === b.status().batch?.version, 'a to serve b\'s version');
        const seal = b.status().cluster!.partitions[ofB]!.batchCutoff;
        assert.deepEqual(await owners.sealOrigins('b', 'some-outbox', [{ partition: ofB, seal }, { partition: ofB, seal, digest: 'not-the-digest' }, { partition: ofA, seal }], 5_000), [[], null, null]);

        await assert.rejects(owners.origins('nobody', 'x', [0], 1_000), (error: unknown) => error instanceof OwnerAskFailedError && error.node === 'nobody' && /^[^\n]+\.$/.test(error.message));
        await assert.rejects(owners.applied('b', at, [[ofB] as unknown as [number, number]], 5_000), (error: unknown) => (
          error instanceof OwnerAskFailedError && error.node === 'b' && /owner_request_invalid.*messages\[0\]/.test(error.reason)
        ));
        const garbled = asker!.subscribe(`${config.cluster.name}.owner.origins.${Buffer.from('liar').toString('hex')}`, {
          // A reply, then the empty message that ends it (replies may take several).
          callback: (_e, msg) => void (msg.respond('{"state":"ok","origins":[{"applied":-1}]}') && msg.respond(new Uint8Array(0))),
        });
        await assert.rejects(owners.origins('liar', 'x', [0], 5_000), (error: unknown) => error instanceof OwnerAskFailedError && /not valid/.test(error.message));
        garbled.unsubscribe();
      } finally {
        await owners.close();
        await Promise.all([a.close(), b.close()]);
      }
    });
  });
});
