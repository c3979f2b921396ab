/**
 * Erasure in cluster mode (issue #31): three nodes on a real 3-server NATS
 * cluster, events of several customers ingested through every node, some
 * archived by a cycle and some only in the streams. One customer erased
 * through a node that does not hold the batch lease: every node then answers
 * as an engine that never stored that customer's events, no archive object
 * (read back with DuckDB), no file of a node's data directory and no byte
 * of the NATS servers' stores holds the value, and the audit names the
 * erasure without it.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ClusterNode, KvRevisionedStore, ObjectBlobStore } from '../../../src/backends/nats/internal.ts';
import { ERASURES_KEY, ERASURES_RECORD_SHAPE } from '../../../src/backends/nats/cluster-erasures-record.ts';
import { answersAfter, ERASED_CUSTOMER, erasureConfig, filesHolding, reference, type UsageEvent, usageEvents } from '../../support/erasure-fixture.ts';
import { eventually } from '../../support/eventually.ts';
import { bounded } from '../../support/hang-guard.ts';
import { NatsCluster, natsSkipReason } from '../../support/nats-cluster.ts';
import { withTempDir } from '../../support/temp-dir.ts';

const PARTITIONS = 4;
const CHILD = fileURLToPath(new URL('../../support/cluster-erase-child.ts', import.meta.url));
/** Every archive object of `bucket`, fetched into `dir`, read with DuckDB for `needle`: the objects that hold it. */
async function objectsHolding(nats: NatsCluster, bucket: string, dir: string, needle: string): Promise<string[]> {
  const nc = await nats.connect();
  try {
    const blobs = await ObjectBlobStore.open(nc, { bucket, replicas: 3 });
    await mkdir(dir, { recursive: true });
    for (const blob of await blobs.list('master/')) await blobs.get(blob.name, join(dir, blob.name.replaceAll('/', '_')));
  } finally {
    await nc.close();
  }
  return filesHolding(dir, needle);
}

describe('erasure in cluster mode', { skip: natsSkipReason(), timeout: 300_000 }, () => {
  let nats: NatsCluster | undefined;
  before(async () => {
    nats = await NatsCluster.start({ size: 3 });
  });
  after(async () => {
    await nats?.stop();
  });

  test('a customer erased through one node is gone from every answer, archive object, node directory and NATS store; the audit holds no value', async () => {
    await withTempDir(async (dir) => {
      const config = { ...erasureConfig, cluster: { name: 'erasure', partitions: PARTITIONS, replicas: 3 } };
      const open = (name: string) => ClusterNode.open({ dataDir: join(dir, name), config, servers: nats!.urls, node: name, leaseMs: 3_000 });
      const nodes: ClusterNode[] = [await open('a'), await open('b'), await open('c')];
      let position = new Array<number>(PARTITIONS).fill(0);
      const stored: UsageEvent[] = [];
      const ingest = async (events: readonly UsageEvent[]) => {
        const third = Math.ceil(events.length / 3);
        for (const [i, node] of nodes.entries()) {
          const share = events.slice(i * third, (i + 1) * third);
          const result = await bounded(node.ingest('usage', share), `an ingest through ${node.name}`, nodes);
          position = position.map((seq, p) => Math.max(seq, result.position?.[p] ?? 0));
        }
        stored.push(...events);
      };
      try {
        await ingest(usageEvents(0, 240));
        // Node a runs the first cycle and holds the lease: the erasure is asked of node b.
        await bounded(nodes[0]!.runBatch(), 'a cycle', nodes);
        await ingest(usageEvents(240, 120));
        const erasedCount = stored.filter((e) => e.customer === ERASED_CUSTOMER).length;

        const audit = await bounded(nodes[1]!.erase({ eventType: 'usage', where: { customer: ERASED_CUSTOMER } }, { by: 'support@example.com' }), 'an erasure', nodes);
        assert.equal(audit.eventType, 'usage');
        assert.deepEqual(audit.fields, ['customer']);
        assert.equal(audit.by, 'support@example.com');
        assert.equal(audit.events, erasedCount);
        assert.ok(audit.files > 0);
        assert.ok(!JSON.stringify(audit).includes(ERASED_CUSTOMER), 'the audit holds no erased value');
        for (const node of nodes) assert.deepEqual((await node.erasures()).map((a) => a.id), [audit.id], `${node.name} lists the audit`);

        const kept = stored.filter((e) => e.customer !== ERASED_CUSTOMER);
        const expected = await reference(kept);
        // At once: the erase resolves only when every node serves the version that applied it.
        for (const node of nodes) assert.deepEqual(await answersAfter(node, position), expected, `${node.name} answers without the erased events`);

        // Every archive object, read back from the object store with DuckDB.
        const nc = await nats!.connect();
        const fetched = join(dir, 'fetched');
        try {
          const blobs = await ObjectBlobStore.open(nc, { bucket: 'erasure_master', replicas: 3 });
          await mkdir(fetched, { recursive: true });
          for (const blob of await blobs.list('master/')) await blobs.get(blob.name, join(fetched, blob.name.replaceAll('/', '_')));
        } finally {
          await nc.close();
        }
        assert.deepEqual(await filesHolding(fetched, ERASED_CUSTOMER), [], 'no archive object holds the erased value');

        // Every node's directory: local copies, version folders, outboxes (released once the version is checked).
        const holding = async () => (await Promise.all(nodes.map((node) => filesHolding(join(dir, node.name), ERASED_CUSTOMER)))).flat();
        await eventually(async () => (await holding()).length === 0, 'every node to let go of the erased values', { timeoutMs: 30_000, intervalMs: 500 }).catch(() => undefined);
        assert.deepEqual(await holding(), [], 'no node\'s directory holds the erased value');

        // The NATS servers' stores: the streams purged below the erasure's cutoffs, the objects that held it erased chunk by chunk.
        // Only the streams' own files: a replicated stream's Raft log (`$SYS/_js_`) keeps its entries until nats-server
        // snapshots it (on its own schedule), which no client call can hasten.
        const inNats = async () => (await Promise.all(nats!.storeDirs.map((d) => filesHolding(join(d, 'jetstream', '$G'), ERASED_CUSTOMER)))).flat();
        assert.deepEqual(await inNats(), [], 'no file of a NATS server\'s streams holds the erased value');

        // Node c restarts: its duplicate rule is resumed from the archive written again, while a and b kept theirs.
        await nodes[2]!.close();
        nodes[2] = await open('c');
        // An erased event's key sent again (under another customer) is new on every node, once: the rules forgot it alike.
        const erasedIds = stored.filter((e) => e.customer === ERASED_CUSTOMER).map((e) => e.id);
        const back = erasedIds.slice(0, 6).map((id, i) => ({ id, at: Date.UTC(2025, 0, 3) + i * 60_000, customer: 'cust-back', plan: 'pro', units: 5 + i }));
        const sent = async (node: ClusterNode, events: readonly UsageEvent[]) => {
          const result = await bounded(node.ingest('usage', events), `an ingest through ${node.name}`, nodes);
          position = position.map((seq, p) => Math.max(seq, result.position?.[p] ?? 0));
          return result;
        };
        assert.equal((await sent(nodes[0]!, back.slice(0, 3))).duplicates, 0);
        assert.equal((await sent(nodes[2]!, back.slice(3))).duplicates, 0);
        // A second copy of each is a duplicate (the answers below count each once); a reader not asked in time leaves some uncounted.
        const again = await sent(nodes[1]!, back);
        assert.ok(again.duplicates === back.length || (again.stored === null && again.duplicates < back.length), `duplicates ${again.duplicates}, stored ${again.stored}`);
        await ingest(usageEvents(400, 60).filter((e) => e.customer !== ERASED_CUSTOMER));
        const later = await reference([...stored.filter((e) => e.customer !== ERASED_CUSTOMER), ...back]);
        for (const node of nodes) assert.deepEqual(await answersAfter(node, position), later, `${node.name} answers from its speed layer after the erasure`);
        await bounded(nodes[2]!.runBatch(), 'a cycle after the erasure', nodes);
        await eventually(() => nodes.every((n) => (n.status().batch?.version ?? 0) === (nodes[2]!.status().batch?.version ?? -1)), 'every node to serve the latest version');
        for (const node of nodes) assert.deepEqual(await answersAfter(node, position), later, `${node.name} answers from the batch layer after the erasure`);
      } finally {
        for (const node of nodes) await node.close().catch(() => undefined);
      }
    });
  });

  test('a batch node killed in the middle of an erasure: the next lease holder applies it, every node answers without the events', async () => {
    await withTempDir(async (dir) => {
      const config = { ...erasureConfig, cluster: { name: 'erasurekill', partitions: PARTITIONS, replicas: 3 } };
      const open = (name: string) => ClusterNode.open({ dataDir: join(dir, name), config, servers: nats!.urls, node: name, leaseMs: 3_000 });
      const nodes: ClusterNode[] = [await open('a'), await open('b')];
      let position = new Array<number>(PARTITIONS).fill(0);
      const events = usageEvents(0, 300);
      const nc = await nats!.connect();
      const child = spawn(process.execPath, ['--import', 'tsx', CHILD, join(dir, 'k'), nats!.urls.join(','), 'k', JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      try {
        for (const [i, node] of nodes.entries()) {
          const result = await bounded(node.ingest('usage', events.filter((_, j) => j % 2 === i)), `an ingest through ${node.name}`, nodes);
          position = position.map((seq, p) => Math.max(seq, result.position?.[p] ?? 0));
        }
        let said = '';
        child.stdout.on('data', (chunk: Buffer) => (said += chunk.toString()));
        await eventually(() => said.includes('erasing'), 'the child to take the lease and ask for the erasure', { timeoutMs: 60_000, intervalMs: 50 });
        // Killed once the cycle recorded what it found: the objects written again, the version not yet (or just) published.
        const record = await KvRevisionedStore.open(nc, { bucket: 'erasurekill_control' }, ERASURES_RECORD_SHAPE);
        await eventually(async () => (await record.get(ERASURES_KEY))?.value.pending.some((e) => e.found !== undefined) === true, 'the erasure to find the events', { timeoutMs: 60_000, intervalMs: 20 });
        process.kill(-child.pid!, 'SIGKILL');
        await exited;
        assert.ok(!said.includes('erased'), 'the child was killed before the erasure was done');

        // The next cycle, once the dead node's lease expired, on a node that never saw the request.
        await eventually(async () => {
          await nodes[0]!.runBatch().catch(() => undefined);
          return (await nodes[0]!.erasures()).length === 1;
        }, 'a surviving node to apply the pending erasure', { timeoutMs: 60_000, intervalMs: 500 });
        const [audit] = await nodes[1]!.erasures();
        assert.equal(audit!.by, 'kill test');
        assert.equal(audit!.events, events.filter((e) => e.customer === ERASED_CUSTOMER).length);
        assert.ok(((await record.get(ERASURES_KEY))?.value.pending.length ?? -1) === 0, 'nothing is left pending');

        const expected = await reference(events.filter((e) => e.customer !== ERASED_CUSTOMER));
        await eventually(() => nodes.every((n) => (n.status().batch?.version ?? 0) === (nodes[0]!.status().batch?.version ?? -1)), 'both nodes to serve the latest version');
        for (const node of nodes) assert.deepEqual(await answersAfter(node, position), expected, `${node.name} answers without the erased events`);
        assert.deepEqual(await objectsHolding(nats!, 'erasurekill_master', join(dir, 'fetched'), ERASED_CUSTOMER), [], 'no archive object holds the erased value');
      } finally {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch { /* gone */ }
        await nc.close();
        for (const node of nodes) await node.close().catch(() => undefined);
      }
    });
  });
});
