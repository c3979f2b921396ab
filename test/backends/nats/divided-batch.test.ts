/**
 * The batch layer divided among the nodes (issue #28): three nodes in this
 * process on a real NATS server own two of six partitions each. A cycle run
 * on any node asks the other owners for their parts: each archives the
 * partitions it owns up to the seal and computes every view over them, and
 * the version names every node's files (a full cycle's base in parts, an
 * incremental cycle's deltas one per node) and every node's ranges. Every
 * node answers every shop query exactly as the reference recomputation does,
 * after full and incremental cycles run on different nodes, while and after
 * a node joins (the others let go of partitions whose tables they hold
 * merged with those they keep), and after one node leaves (its partitions
 * are then computed by their new owners). A part not answered in time is
 * computed by the batch node under names of its own, exactly. Events placed
 * by a field's value answer exactly too, and every node must agree on it.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ClusterNode } from '../../../src/backends/nats/internal.ts';
import { nodeTag } from '../../../src/backends/nats/part-compute.ts';
import type { SharedManifest } from '../../../src/backends/nats/shared-manifest.ts';
import { eventually } from '../../support/eventually.ts';
import { bounded } from '../../support/hang-guard.ts';
import { NatsCluster, natsSkipReason } from '../../support/nats-cluster.ts';
import { checkNodesAnswer } from '../../support/check-answers.ts';
import { canonicalRows, referenceQuery, type RefEvent } from '../../support/reference.ts';
import { shopQueries } from '../../support/shop-queries.ts';
import { shopConfig, views } from '../../support/shop-config.ts';
import { withTempDir } from '../../support/temp-dir.ts';

const LEASE_MS = 3_000;
const BASE = Date.UTC(2024, 2, 1);
const COUNTRIES = ['DE', 'FR', 'US', 'BR'];

function order(i: number): { ref: RefEvent; raw: Record<string, unknown> } {
  const ref: RefEvent = {
    id: `o${i}`, at: BASE + ((i * 7_919) % (90 * 24)) * 3_600_000 + (i % 60) * 60_000, country: COUNTRIES[i % 4]!,
    device: i % 4 === 0 ? null : 'web', mobile: i % 3 === 0, cents: (i * 37) % 50_000 - 100, qty: i % 7,
  };
  const raw: Record<string, unknown> = { id: ref.id, at: ref.at, country: ref.country, mobile: ref.mobile, amount: ref.cents / 100, qty: ref.qty };
  if (ref.device !== null) raw.device = ref.device;
  return { ref, raw };
}

/**
 * Orders ingested through the cluster's nodes: the reference's events, and
 * how far each partition's log reaches with them (a query reads `after` it).
 */
function orderFeed(nodes: readonly ClusterNode[], partitions: number) {
  const feed = {
    events: [] as RefEvent[],
    position: new Array<number>(partitions).fill(0),
    /** Orders `from` to `to`, through one node in turn (by hundreds), or through each of `through`: copies then count once. */
    async ingest(from: number, to: number, through: readonly ClusterNode[] = [nodes[(from / 100) % nodes.length]!]): Promise<void> {
      const batch = Array.from({ length: to - from }, (_, i) => order(from + i));
      for (const node of through) {
        const result = await bounded(node.ingest('order', batch.map((e) => e.raw)), 'an ingest', nodes);
        assert.equal(result.accepted, batch.length);
        feed.position = feed.position.map((seq, p) => Math.max(seq, result.position?.[p] ?? 0));
      }
      feed.events.push(...batch.map((e) => e.ref));
    },
    /** Every shop query on every node answers as the reference does. */
    check: (when: string) => checkNodesAnswer(nodes, feed.events, feed.position, when, bounded),
  };
  return feed;
}

const ownedBy = (node: ClusterNode) => node.status().cluster!.partitions.filter((p) => p.owner === node.name).map((p) => p.partition);

/** Whether every node owns `each` partitions and, as every node's heartbeats say, reads exactly those: each can compute them. */
function settled(nodes: readonly ClusterNode[], each: number): boolean {
  return nodes.every((n) => ownedBy(n).length === each && nodes.every((viewer) => (
    JSON.stringify(viewer.status().cluster!.nodes.find((beat) => beat.node === n.name)?.reads) === JSON.stringify(ownedBy(n))
  )));
}

/** Whether every partition is owned, every node owns one or two, and reads exactly those, as every node's heartbeats say. */
function dividedAmong(nodes: readonly ClusterNode[]): boolean {
  const owned = nodes.flatMap((n) => ownedBy(n));
  return owned.length === 6 && new Set(owned).size === 6 && nodes.every((n) => ownedBy(n).length >= 1 && ownedBy(n).length <= 2 && nodes.every((viewer) => (
    JSON.stringify(viewer.status().cluster!.nodes.find((beat) => beat.node === n.name)?.reads) === JSON.stringify(ownedBy(n))
  )));
}

/** The folder of the version `node` serves, on its disk. */
async function folderOf(dir: string, node: ClusterNode): Promise<string> {
  const version = node.status().batch?.version ?? 0;
  const folder = (await readdir(join(dir, node.name, 'cluster', 'versions', 'batch'))).find((f) => f.startsWith(`v${String(version).padStart(8, '0')}-`));
  assert.ok(folder !== undefined, `${node.name} keeps the folder of version ${version}`);
  return folder;
}

/** The manifest of the version `node` serves, from its disk. */
async function servedManifest(dir: string, node: ClusterNode): Promise<SharedManifest> {
  return JSON.parse(await readFile(join(dir, node.name, 'cluster', 'versions', 'batch', await folderOf(dir, node), 'manifest.json'), 'utf8')) as SharedManifest;
}

/** Which nodes' tags name files of `view` in `manifest` (the node publishing it names none). */
function tagsIn(manifest: SharedManifest, view: string): string[] {
  const entry = manifest.views[view]!;
  const files = [...(entry.parts ?? []), ...(entry.deltas ?? [])].map((f) => f.file ?? '');
  return [...new Set(files.flatMap((f) => /-(n[0-9a-f]{8})\.parquet$/.exec(f)?.[1] ?? []))].sort();
}

describe('batch layer divided among the nodes', { skip: natsSkipReason(), timeout: 600_000 }, () => {
  let nats: NatsCluster | undefined;
  before(async () => {
    nats = await NatsCluster.start({ size: 1 });
  });
  after(async () => {
    await nats?.stop();
  });

  test('each owner archives and computes its own partitions for every cycle, and every node answers exactly, through a node joining and one leaving', async () => {
    await withTempDir(async (dir) => {
      const config = { ...shopConfig, cluster: { name: 'dividedbatch', partitions: 6, replicas: 1 } };
      const open = (name: string) => ClusterNode.open({ dataDir: `${dir}/${name}`, config, servers: nats!.urls, node: name, partitionLeaseMs: LEASE_MS });
      const nodes = [await open('a'), await open('b'), await open('c')];
      const feed = orderFeed(nodes, 6);
      const ingest = (from: number, to: number) => feed.ingest(from, to);
      const checkAll = feed.check;
      // The node that ran a cycle is the batch lease's holder, whichever node was asked: the others computed parts.
      const others = (asked: ClusterNode) => {
        const runner = asked.status().cluster!.batchNode;
        return nodes.filter((n) => n.name !== runner && ownedBy(n).length > 0).map((n) => nodeTag(n.name)).sort();
      };
      try {
        await ingest(0, 300);
        await eventually(() => settled(nodes, 2), () => `each node to own and read two partitions: ${nodes.map((n) => `${n.name} owns ${ownedBy(n)}`).join('; ')}`, { timeoutMs: 60_000, intervalMs: 100 });
        await ingest(300, 600);

        // A full cycle on b: the base is in parts, one per other owner beside b's own file.
        const full = await bounded(nodes[1]!.runBatch({ full: true }), 'a full cycle', nodes);
        assert.equal(full.mode, 'full');
        await eventually(() => nodes.every((n) => n.status().batch?.version === full.version), 'every node to serve the version', { timeoutMs: 30_000 });
        let manifest = await servedManifest(dir, nodes[1]!);
        for (const view of views) assert.deepEqual(tagsIn(manifest, view.name), others(nodes[1]!), `${view.name}'s base holds a part from each other owner`);
        const rangeTags = new Set(manifest.ranges.flatMap((r) => /-(n[0-9a-f]{8})-t\d{6}$/.exec(r.filter.blob.replace(/\.json$/, ''))?.[1] ?? []));
        assert.deepEqual([...rangeTags].sort(), others(nodes[1]!), 'the other owners archived their own partitions');
        await checkAll('after a full cycle in parts');

        // An incremental cycle on c: one delta per owner.
        await ingest(600, 900);
        const incremental = await bounded(nodes[2]!.runBatch(), 'an incremental cycle', nodes);
        assert.equal(incremental.mode, 'incremental');
        await eventually(() => nodes.every((n) => n.status().batch?.version === incremental.version), 'every node to serve the version', { timeoutMs: 30_000 });
        manifest = await servedManifest(dir, nodes[2]!);
        const deltas = (manifest.views.by_country_hour!.deltas ?? []).filter((d) => d.to === manifest.cutoff);
        assert.deepEqual(deltas.map((d) => d.partition).sort(), [0, 1, 2, 3, 4, 5], 'the cycle added one delta per partition');
        await checkAll('after an incremental cycle in parts');
        // Each node keeps the view files of its own partitions alone: the others' batch states are asked of their owners.
        for (const node of nodes) {
          const files = await readdir(join(dir, node.name, 'cluster', 'versions', 'batch', await folderOf(dir, node)));
          const partitions = [...new Set(files.flatMap((f) => /\.p(\d{3})[.-]/.exec(f)?.[1] ?? []).map(Number))].sort();
          assert.deepEqual(partitions, ownedBy(node).sort(), `${node.name} holds its own partitions' files`);
        }
        // The batch layer alone, everywhere: every event is in the version now.
        await bounded(nodes[0]!.runBatch(), 'a cycle with nothing new', nodes);
        await eventually(() => nodes.every((n) => n.status().batch?.version === incremental.version + 1), 'every node to serve the version', { timeoutMs: 30_000 });
        for (const node of nodes) {
          for (const query of shopQueries()) {
            const { rows } = await node.query({ ...query, layer: 'batch' });
            const expected = referenceQuery(views.find((v) => v.name === query.view)!, feed.events, query);
            assert.deepEqual(query.limit === undefined ? canonicalRows(rows) : rows, query.limit === undefined ? canonicalRows(expected) : expected, `${node.name}: the batch layer of ${JSON.stringify(query)}`);
          }
        }

        // d joins: it takes partitions from the others, which let go of theirs (tables merged with the partitions they
        // keep are loaded apart); every node answers exactly meanwhile and after.
        nodes.push(await open('d'));
        await ingest(900, 1_000);
        await checkAll('while d joins');
        await eventually(() => dividedAmong(nodes), () => `every node to own and read one or two partitions: ${nodes.map((n) => `${n.name} owns ${ownedBy(n)}`).join('; ')}`, { timeoutMs: 60_000, intervalMs: 100 });
        await checkAll('after d joined');

        // c leaves: the others take its partitions, and compute them in the next cycles.
        await nodes[2]!.close();
        nodes.splice(2, 1);
        await eventually(() => settled(nodes, 2), () => `a, b and d to own and read two partitions each: ${nodes.map((n) => `${n.name} owns ${ownedBy(n)}`).join('; ')}`, { timeoutMs: 60_000, intervalMs: 100 });
        await ingest(1_000, 1_200);
        const later = await bounded(nodes[0]!.runBatch(), 'a cycle after c left', nodes);
        await eventually(() => nodes.every((n) => n.status().batch?.version === later.version), 'every node to serve the version', { timeoutMs: 30_000 });
        await checkAll('after c left');
        const last = await bounded(nodes[1]!.runBatch({ full: true }), 'a full cycle after c left', nodes);
        await eventually(() => nodes.every((n) => n.status().batch?.version === last.version), 'every node to serve the version', { timeoutMs: 30_000 });
        manifest = await servedManifest(dir, nodes[1]!);
        assert.deepEqual(tagsIn(manifest, 'by_country_hour'), others(nodes[1]!), 'the other nodes computed their parts of the base');
        await checkAll('after a full cycle on three nodes');
      } finally {
        await Promise.allSettled(nodes.map((n) => n.close()));
      }
    });
  });
  test('a part not answered in time is computed by the batch node under names of its own, and answers stay exact', async () => {
    await withTempDir(async (dir) => {
      const config = { ...shopConfig, cluster: { name: 'partfallback', partitions: 6, replicas: 1 } };
      // No part is ever waited for: the batch node computes every other owner's partitions itself, while the owners
      // compute and upload theirs too, under names no version names.
      const open = (name: string) => ClusterNode.open({ dataDir: `${dir}/${name}`, config, servers: nats!.urls, node: name, partitionLeaseMs: LEASE_MS, partTimeoutMs: 1 });
      const nodes = [await open('a'), await open('b'), await open('c')];
      const feed = orderFeed(nodes, 6);
      const ingest = (from: number, to: number) => feed.ingest(from, to);
      const fallbackTags = (asked: ClusterNode) => {
        const runner = asked.status().cluster!.batchNode;
        return nodes.filter((n) => n.name !== runner && ownedBy(n).length > 0).map((n) => nodeTag(n.name, 'f')).sort();
      };
      const tags = (manifest: SharedManifest, view: string) => {
        const entry = manifest.views[view]!;
        return [...new Set([...(entry.parts ?? []), ...(entry.deltas ?? [])].flatMap((f) => /-([nf][0-9a-f]{8})\.parquet$/.exec(f.file ?? '')?.[1] ?? []))].sort();
      };
      try {
        await ingest(0, 300);
        await eventually(() => settled(nodes, 2), () => `each node to own and read two partitions: ${nodes.map((n) => `${n.name} owns ${ownedBy(n)}`).join('; ')}`, { timeoutMs: 60_000, intervalMs: 100 });
        await ingest(300, 600);
        for (const [i, full] of [[1, true], [2, false]] as const) {
          const summary = await bounded(nodes[i]!.runBatch({ full }), full ? 'a full cycle' : 'an incremental cycle', nodes);
          await eventually(() => nodes.every((n) => n.status().batch?.version === summary.version), 'every node to serve the version', { timeoutMs: 30_000 });
          const manifest = await servedManifest(dir, nodes[i]!);
          for (const view of views) assert.deepEqual(tags(manifest, view.name), fallbackTags(nodes[i]!), `${view.name}: the batch node computed each other owner's partitions`);
          await feed.check(full ? 'after a full cycle computed in place of the owners' : 'after an incremental one');
          if (full) await ingest(600, 900);
        }
      } finally {
        await Promise.allSettled(nodes.map((n) => n.close()));
      }
    });
  });
  test('events placed by a field (cluster.partitionBy): every node answers exactly, copies sent through two nodes count once, and a node with another rule is refused', async () => {
    await withTempDir(async (dir) => {
      const config = { ...shopConfig, cluster: { name: 'partitionby', partitions: 4, replicas: 1, partitionBy: { order: 'country' } } };
      const open = (name: string, c: object = config) => ClusterNode.open({ dataDir: `${dir}/${name}`, config: c, servers: nats!.urls, node: name, partitionLeaseMs: LEASE_MS });
      const nodes = [await open('a'), await open('b')];
      const feed = orderFeed(nodes, 4);
      try {
        for (const [from, to] of [[0, 200], [200, 400]] as const) {
          // Every order twice, through both nodes: its copies land in one partition, which drops the second.
          await feed.ingest(from, to, nodes);
          await feed.check(`after orders ${from} to ${to}`);
          const cycle = await bounded(nodes[0]!.runBatch({ full: from === 0 }), 'a cycle', nodes);
          await eventually(() => nodes.every((n) => n.status().batch?.version === cycle.version), 'every node to serve the version', { timeoutMs: 30_000 });
          await feed.check(`after a cycle over orders to ${to}`);
        }
        const byKey = { ...shopConfig, cluster: { name: 'partitionby', partitions: 4, replicas: 1 } };
        await assert.rejects(open('c', byKey), (error: unknown) => error instanceof Error && /places events by order\.country where the config says by idempotency key/.test(error.message));
      } finally {
        await Promise.allSettled(nodes.map((n) => n.close()));
      }
    });
  });
});
