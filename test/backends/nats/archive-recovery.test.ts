/**
 * What a cluster does when NATS loses part of its shared state, nodes in
 * this process on a real NATS server: the object-store bucket destroyed by
 * hand (every archived range, snapshot and version gone) is put back from
 * the nodes' own copies, and cycles, a restart and a fresh node go on
 * exactly; a control record that is not valid, or gone, is rebuilt from the
 * version the nodes serve, under a term above every term used; a stream
 * purged past where the archive ends is recorded as a loss by the next
 * cycle, and every node, a restarted one included, follows it again.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { Objm } from '@nats-io/obj';
import { ClusterNode, connectNats, CONTROL_KEY, type ControlRecord } from '../../../src/backends/nats/internal.ts';
import type { EngineLogger } from '../../../src/engine/index.ts';
import { eventually } from '../../support/eventually.ts';
import { NatsCluster, natsSkipReason } from '../../support/nats-cluster.ts';
import { withTempDir } from '../../support/temp-dir.ts';

const base = {
  eventTypes: [{ name: 'hit', time: 'at', idempotencyKey: 'id', fields: { id: 'string', at: 'timestamp', page: 'string' } }],
  views: [{ name: 'pages', eventType: 'hit', dimensions: ['page'], granularity: 'hour', measures: { hits: { type: 'count' } } }],
};
let clusters = 0;
const configFor = () => ({ ...base, cluster: { name: `recovery_${clusters++}`, partitions: 2, replicas: 1 } });
const hit = (i: number) => ({ id: `h${i}`, at: '2026-11-29T10:00:00Z', page: `/p${i % 5}` });
const hits = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => hit(from + i));

/** The answer every node must give: hits per page for the ids `ids`. */
function expected(ids: Iterable<number>): { page: string; hits: number }[] {
  const byPage = new Map<string, number>();
  for (const i of ids) byPage.set(`/p${i % 5}`, (byPage.get(`/p${i % 5}`) ?? 0) + 1);
  return [...byPage].sort(([a], [b]) => (a < b ? -1 : 1)).map(([page, n]) => ({ page, hits: n }));
}

async function answer(node: ClusterNode): Promise<unknown> {
  const { rows } = await node.query({ view: 'pages', granularity: 'all', groupBy: ['page'] });
  return [...rows].sort((x, y) => (String(x.page) < String(y.page) ? -1 : 1));
}

const quiet = (messages: string[]): EngineLogger => ({ info() {}, warn: (_o: unknown, m?: string) => void messages.push(m ?? ''), error: (_o: unknown, m?: string) => void messages.push(m ?? '') });

describe('a cluster recovering what NATS lost', { skip: natsSkipReason(), timeout: 600_000 }, () => {
  let nats: NatsCluster | undefined;
  before(async () => {
    nats = await NatsCluster.start({ size: 1 });
  });
  after(async () => {
    await nats?.stop();
  });

  test('a destroyed object-store bucket is put back from the nodes\' copies: cycles go on, and a restarted and a fresh node answer exactly', async () => {
    await withTempDir(async (dir) => {
      const config = configFor();
      const open = (name: string) => ClusterNode.open({ dataDir: `${dir}/${name}`, config, servers: nats!.urls, node: name, archiveCheckMs: 300 });
      const a = await open('a');
      let b = await open('b');
      const nc = await connectNats({ servers: nats!.urls });
      try {
        for (let cycle = 0; cycle < 3; cycle++) {
          await b.ingest('hit', hits(cycle * 20, cycle * 20 + 20));
          await a.runBatch();
        }
        await eventually(() => b.status().batch?.version === 3, 'b to serve version 3');
        const store = await new Objm(nc).open(`${config.cluster.name}_master`);
        const before = (await store.list()).filter((o) => !o.deleted).map((o) => o.name).sort();
        await store.destroy();
        let seen = '';
        await eventually(async () => {
          const now = await (await new Objm(nc).open(`${config.cluster.name}_master`)).list().catch(() => []);
          const names = new Set(now.filter((o) => !o.deleted).map((o) => o.name));
          // Every range's Parquet and the served version's files (older snapshots and versions are no longer needed).
          const wanted = before.filter((n) => (n.startsWith('master/') && !n.startsWith('master/filters/')) || n.includes('v00000003'));
          const absent = wanted.filter((n) => !names.has(n));
          seen = `absent ${JSON.stringify(absent)}; damage a ${JSON.stringify(a.status().cluster?.archiveDamaged)}, b ${JSON.stringify(b.status().cluster?.archiveDamaged)}`;
          return a.status().cluster?.archiveDamaged === null && b.status().cluster?.archiveDamaged === null && absent.length === 0;
        }, () => `the nodes to put back the served chain (last seen: ${seen})`);
        await b.ingest('hit', hits(60, 70));
        assert.equal((await a.runBatch()).version, 4);
        await b.close();
        b = await open('b');
        const fresh = await open('c');
        try {
          for (const node of [a, b, fresh]) {
            await eventually(() => node.status().batch?.version === 4, `${node.name} to serve version 4`);
            assert.deepEqual(await answer(node), expected(Array.from({ length: 70 }, (_, i) => i)), node.name);
          }
        } finally {
          await fresh.close();
        }
      } finally {
        await nc.close();
        await Promise.all([a.close(), b.close()]);
      }
    });
  });

  test('a control record that is not valid, or gone, is rebuilt from the served version under a higher term; a node restarted meanwhile serves what it has', async () => {
    await withTempDir(async (dir) => {
      const config = configFor();
      const bucket = `${config.cluster.name}_control`;
      const messages: string[] = [];
      const open = (name: string) => ClusterNode.open({ dataDir: `${dir}/${name}`, config, servers: nats!.urls, node: name, logger: quiet(messages) });
      const a = await open('a');
      let b = await open('b');
      const nc = await connectNats({ servers: nats!.urls });
      try {
        const kv = await new Kvm(nc).open(bucket);
        const record = async () => JSON.parse((await kv.get(CONTROL_KEY))!.string()) as ControlRecord;
        for (let cycle = 0; cycle < 2; cycle++) {
          await a.ingest('hit', hits(cycle * 10, cycle * 10 + 10));
          await a.runBatch();
        }
        await eventually(() => b.status().batch?.version === 2, 'b to serve version 2');
        const term = (await record()).lease!.term;
        for (const bad of ['garbage{', '{}', null]) {
          if (bad === null) await kv.delete(CONTROL_KEY);
          else await kv.put(CONTROL_KEY, bad);
          let rebuilt: ControlRecord | undefined;
          await eventually(async () => (rebuilt = await record().catch(() => undefined))?.published?.version === 2, `the ${String(bad)} record to be rebuilt`);
          assert.ok(rebuilt!.lease!.term > term, `a term above ${term}: ${rebuilt!.lease!.term}`);
          assert.deepEqual(rebuilt!.published, (await b.status()).batch && { version: 2, cutoffs: rebuilt!.published!.cutoffs, term: rebuilt!.published!.term });
        }
        assert.ok(messages.some((m) => m.startsWith('The batch control record \'batch-control\' in KV bucket')), 'the damage was told');
        assert.ok(messages.includes('rebuilt the batch control record from the version this node serves; this node holds the batch lease'));
        await b.close();
        await kv.put(CONTROL_KEY, 'garbage{');
        b = await open('b');
        assert.deepEqual(await answer(b), expected(Array.from({ length: 20 }, (_, i) => i)), 'a node restarted on a garbage record serves the version it holds');
        await eventually(async () => (await record().catch(() => undefined))?.published?.version === 2, 'the record to be rebuilt again');
        await a.ingest('hit', hits(20, 25));
        const holder = (await record()).lease!.holder === 'a' ? a : b;
        assert.equal((await holder.runBatch()).version, 3);
        for (const node of [a, b]) {
          await eventually(() => node.status().batch?.version === 3, `${node.name} to serve version 3`);
          assert.deepEqual(await answer(node), expected(Array.from({ length: 25 }, (_, i) => i)), node.name);
          assert.equal(node.status().cluster?.archiveDamaged, null);
        }
      } finally {
        await nc.close();
        await Promise.all([a.close(), b.close()]);
      }
    });
  });

  test('a stream purged past where the archive ends is recorded as a loss by the next cycle; every node, a restarted one too, follows it again, and the events come back once from the outbox of the node that took them', async () => {
    await withTempDir(async (dir) => {
      const config = configFor();
      const open = (name: string) => ClusterNode.open({ dataDir: `${dir}/${name}`, config, servers: nats!.urls, node: name });
      const a = await open('a');
      let b = await open('b');
      const nc = await connectNats({ servers: nats!.urls });
      try {
        await a.ingest('hit', hits(0, 10));
        await a.runBatch();
        await b.ingest('hit', hits(10, 30));
        const jsm = await jetstreamManager(nc);
        const stream = `${config.cluster.name}_log_0`;
        const { last_seq: last } = (await jsm.streams.info(stream)).state;
        // What NATS "loses": every message of partition 0 since the cutoff, as a crash of every server has done.
        const lostIds: number[] = [];
        const cutoff = a.status().cluster!.partitions[0]!.batchCutoff;
        for (let seq = cutoff; seq <= last; seq++) {
          const m = await jsm.streams.getMessage(stream, { seq });
          for (const line of new TextDecoder().decode(m!.data).split('\n').filter(Boolean)) lostIds.push(Number((JSON.parse(line) as { id: string }).id.slice(1)));
        }
        assert.ok(lostIds.length > 0, 'partition 0 held some of the new events');
        await jsm.streams.purge(stream, { seq: last + 1 });
        await b.close();
        b = await open('b');
        await eventually(() => b.status().cluster?.archiveDamaged?.partitions?.includes(0) === true, 'the restarted node to say partition 0 cannot be followed');
        assert.match(b.status().cluster!.archiveDamaged!.message, /^Partition 0 cannot be followed from the served cutoff \(Partition 0 starts at sequence \d+, after the requested \d+/);
        const version = (await a.runBatch()).version;
        for (const node of [a, b]) {
          // At or past it: b, stalled on partition 0 until a version records the loss, has cycles run meanwhile.
          await eventually(() => (node.status().batch?.version ?? 0) >= version && node.status().cluster?.archiveDamaged === null, `${node.name} to serve version ${version} or later and follow every partition it reads`);
        }
        // The events NATS lost come back from b's outbox (b took them), once: before and after the next cycle.
        const all = Array.from({ length: 30 }, (_, i) => i);
        for (const node of [a, b]) await eventually(async () => JSON.stringify(await answer(node)) === JSON.stringify(expected(all)), `${node.name} to count every event again`);
        await a.ingest('hit', hits(30, 40));
        const next = (await a.runBatch()).version;
        for (const node of [a, b]) {
          await eventually(() => (node.status().batch?.version ?? 0) >= next, `${node.name} to serve version ${next} or later`);
          assert.deepEqual(await answer(node), expected(Array.from({ length: 40 }, (_, i) => i)), `${node.name} counts every event once`);
          assert.deepEqual(await node.query({ view: 'pages', granularity: 'all', layer: 'batch' }).then((r) => r.rows), [{ hits: 40 }], `the batch layer of ${node.name} holds them all`);
        }
        await eventually(() => b.status().cluster?.outboxEvents === 0, 'b\'s outbox to let go of what the archive now holds');
      } finally {
        await nc.close();
        await Promise.all([a.close(), b.close()]);
      }
    });
  });
});
