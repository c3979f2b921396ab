/**
 * The speed layer divided among the nodes (issue #28): three nodes in this
 * process on a real NATS server own two of six partitions each, and each
 * holds only its own partitions' speed layer once the owners are settled;
 * every query on every node gathers the rest from their owners and answers
 * exactly the reference recomputation over every accepted event, before and
 * after a cycle, and while and after a node leaves and the others take its
 * partitions over (read again from the served cutoff, or already held by
 * a standby). Status says which partitions' speed layer each node holds,
 * and which it reads: no other. Duplicates sent through any node are
 * counted by the owners, and every outbox is let go once archived.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ClusterNode } from '../../../src/backends/nats/internal.ts';
import { eventually } from '../../support/eventually.ts';
import { bounded } from '../../support/hang-guard.ts';
import { NatsCluster, natsSkipReason } from '../../support/nats-cluster.ts';
import { checkNodesAnswer } from '../../support/check-answers.ts';
import type { RefEvent } from '../../support/reference.ts';
import { shopConfig } from '../../support/shop-config.ts';
import { withTempDir } from '../../support/temp-dir.ts';

const LEASE_MS = 3_000;
const BASE = Date.UTC(2024, 2, 1);
const COUNTRIES = ['DE', 'FR', 'US', 'BR'];
const DEVICES = ['ios', 'android', 'web'];

/** Order `i`, as the reference reads it and as it is sent. */
function order(i: number): { ref: RefEvent; raw: Record<string, unknown> } {
  const ref: RefEvent = {
    id: `o${i}`, at: BASE + ((i * 7_919) % (90 * 24)) * 3_600_000 + (i % 60) * 60_000, country: COUNTRIES[i % 4]!,
    device: i % 5 === 0 ? null : DEVICES[i % 3]!, mobile: i % 3 === 0, cents: (i * 37) % 50_000 - 100, qty: i % 7,
  };
  const raw: Record<string, unknown> = { id: ref.id, at: ref.at, country: ref.country, mobile: ref.mobile, amount: ref.cents / 100, qty: ref.qty };
  if (ref.device !== null) raw.device = ref.device;
  return { ref, raw };
}

/** Which partitions' speed layer `node` holds, and which it owns, as it sees them. */
const heldBy = (node: ClusterNode) => node.status().cluster!.partitions.filter((p) => p.speedHere === true).map((p) => p.partition);
const ownedBy = (node: ClusterNode) => node.status().cluster!.partitions.filter((p) => p.owner === node.name).map((p) => p.partition);
/** Which partitions `node` reads, as its own last heartbeat says. */
const readBy = (node: ClusterNode) => node.status().cluster!.nodes.find((n) => n.node === node.name)?.reads;

/**
 * Whether every node owns `each` partitions, seen alike by all, and holds the
 * speed layer of those and reads no other partition, each partition's being
 * held by its owner and `standbys` more nodes (as many as there are).
 */
function divided(nodes: readonly ClusterNode[], each: number, standbys: number): boolean {
  const owners = nodes[0]!.status().cluster!.partitions.map((p) => p.owner);
  const holders = (p: number) => nodes.filter((n) => heldBy(n).includes(p)).length;
  return nodes.every((n) => ownedBy(n).length === each && ownedBy(n).every((p) => heldBy(n).includes(p)) && JSON.stringify(readBy(n)) === JSON.stringify(heldBy(n))
    && JSON.stringify(n.status().cluster!.partitions.map((p) => p.owner)) === JSON.stringify(owners))
    && owners.every((_, p) => holders(p) === Math.min(nodes.length, 1 + standbys));
}

describe('speed layer divided among the nodes', { skip: natsSkipReason(), timeout: 600_000 }, () => {
  let nats: NatsCluster | undefined;
  before(async () => {
    nats = await NatsCluster.start({ size: 1 });
  });
  after(async () => {
    await nats?.stop();
  });

  for (const standbys of [0, 1]) {
    test(`each node holds its own partitions' speed layer${standbys > 0 ? ' and those it stands by for' : ''}, and every query on every node gathers the rest exactly, through a node leaving`, () => divide(standbys));
  }

  async function divide(standbys: number): Promise<void> {
    await withTempDir(async (dir) => {
      const config = { ...shopConfig, cluster: { name: `divided${standbys}`, partitions: 6, replicas: 1, standbys } };
      const open = (name: string) => ClusterNode.open({ dataDir: `${dir}/${name}`, config, servers: nats!.urls, node: name, partitionLeaseMs: LEASE_MS });
      const nodes = [await open('a'), await open('b'), await open('c')];
      const events: RefEvent[] = [];
      let position: number[] = new Array<number>(6).fill(0);
      const ingest = async (from: number, to: number) => {
        const batch = Array.from({ length: to - from }, (_, i) => order(from + i));
        const per = Math.ceil(batch.length / nodes.length);
        for (const [i, node] of nodes.entries()) {
          const part = batch.slice(i * per, (i + 1) * per);
          const result = await bounded(node.ingest('order', part.map((e) => e.raw)), `an ingest through ${node.name}`, nodes);
          assert.equal(result.accepted, part.length);
          position = position.map((seq, p) => Math.max(seq, result.position?.[p] ?? 0));
        }
        events.push(...batch.map((e) => e.ref));
      };
      /** Every shop query on every node, at the latest position, against the reference. */
      const checkAll = (when: string) => checkNodesAnswer(nodes, events, position, when, bounded);
      try {
        await ingest(0, 600);
        await bounded(nodes[1]!.runBatch(), 'a cycle', nodes);
        await ingest(600, 900);
        await eventually(() => divided(nodes, 2, standbys), () => `each node to hold only its two partitions' speed layer (and ${standbys} standby each): ${nodes.map((n) => `${n.name} owns ${ownedBy(n)} holds ${heldBy(n)}`).join('; ')}`, { timeoutMs: 60_000, intervalMs: 100 });
        await checkAll('divided');
        // An ingest a node answered shows in its next query, without after: the owners read at least as far first.
        for (const [i, node] of nodes.entries()) {
          const before = await node.query({ view: 'by_country_hour', granularity: 'all' });
          const orders = (rows: readonly Record<string, unknown>[]) => rows.reduce((n, r) => n + Number(r.orders), 0);
          const batch = Array.from({ length: 30 }, (_, j) => order(5_000 + i * 100 + j));
          const result = await node.ingest('order', batch.map((e) => e.raw));
          position = position.map((seq, p) => Math.max(seq, result.position?.[p] ?? 0));
          events.push(...batch.map((e) => e.ref));
          const after = await node.query({ view: 'by_country_hour', granularity: 'all' });
          assert.equal(orders(after.rows), orders(before.rows) + 30, `${node.name} answers its own ingest at once`);
        }
        // The same orders again, through each node: every one a duplicate, counted by the partitions' owners.
        for (const node of nodes) {
          const again = await node.ingest('order', Array.from({ length: 30 }, (_, j) => order(j * 7).raw));
          assert.deepEqual([again.accepted, again.duplicates, again.stored], [30, 30, 0], `${node.name} counts the duplicates of partitions other nodes read`);
        }
        await bounded(nodes[2]!.runBatch(), 'a cycle', nodes);
        await ingest(900, 1_100);
        await checkAll('divided, after a second cycle');

        // c leaves: a and b take its partitions over, reading them from the served cutoff; answers stay exact meanwhile.
        await nodes[2]!.close();
        nodes.pop();
        await ingest(1_100, 1_200);
        await checkAll('right after c left');
        await eventually(() => divided(nodes, 3, standbys), () => `a and b to hold three partitions each: ${nodes.map((n) => `${n.name} owns ${ownedBy(n)} holds ${heldBy(n)}`).join('; ')}`, { timeoutMs: 60_000, intervalMs: 100 });
        await checkAll('after a and b took c\'s partitions');
        for (const node of nodes) assert.equal(node.status().cluster!.partitionRebuilds, 0, `${node.name} read no partition again for a divergence`);
        // Once a version covers every event, each node's outbox lets them go, asking the owners what their partitions saw.
        await bounded(nodes[0]!.runBatch(), 'a cycle', nodes);
        await eventually(() => nodes.every((n) => n.status().cluster!.outboxEvents === 0), () => `every outbox to be let go: ${nodes.map((n) => `${n.name} holds ${n.status().cluster!.outboxEvents}`).join('; ')}`, { timeoutMs: 60_000, intervalMs: 200 });
        const { meta } = await nodes[0]!.query({ view: 'by_country_hour', granularity: 'all', allowPartial: true });
        assert.equal(meta.missingPartitions, undefined, 'nothing is missing when every owner answers');
      } finally {
        await Promise.allSettled(nodes.map((n) => n.close()));
      }
    });
  }
});
