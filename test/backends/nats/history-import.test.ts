/**
 * History imports into a cluster (issue #31): two nodes on a real 3-server
 * NATS cluster take live traffic, then a Parquet file and a CSV file are
 * imported (in chunks small enough that each partition gets several history
 * messages), with keys that repeat live events, each other, and themselves.
 * Every node then answers as an engine that stored the first copy of each
 * key in log order, and keeps doing so after a live retry of imported keys
 * and a second load of the same file, which add nothing.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { ClusterNode, importHistoryIntoCluster, ObjectBlobStore } from '../../../src/backends/nats/internal.ts';
import { compileConfig } from '../../../src/index.ts';
import { createServer } from '../../../src/server/index.ts';
import { runCli } from '../../support/spawn-cli.ts';
import { answersAfter, erasureConfig, reference, type UsageEvent, usageEvents } from '../../support/erasure-fixture.ts';
import { bounded } from '../../support/hang-guard.ts';
import { NatsCluster, natsSkipReason } from '../../support/nats-cluster.ts';
import { withTempDir } from '../../support/temp-dir.ts';

const PARTITIONS = 3;
/** The events that count: the first of each id, in the order given (the log's, within each partition). */
function firstOfEach(events: readonly UsageEvent[]): UsageEvent[] {
  const seen = new Set<string>();
  return events.filter((e) => !seen.has(e.id) && seen.add(e.id));
}

const csvLine = (e: UsageEvent) => `${e.id},${new Date(e.at).toISOString()},${e.customer},${e.plan},${e.units}`;

/** Writes `events` as CSV, plus `extra` raw lines; and as Parquet when `parquet` is given (converted by DuckDB, with typed columns). */
async function writeFiles(events: readonly UsageEvent[], csv: string, extra: readonly string[] = [], parquet?: string): Promise<void> {
  await writeFile(csv, ['id,at,customer,plan,units', ...events.map(csvLine), ...extra].join('\n') + '\n');
  if (parquet === undefined) return;
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    await connection.run(`COPY (SELECT id, CAST("at" AS TIMESTAMP) AS "at", customer, plan, CAST(units AS INTEGER) AS units FROM read_csv('${csv}', header = true, all_varchar = true))
      TO '${parquet}' (FORMAT parquet)`);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

describe('history import into a cluster', { skip: natsSkipReason(), timeout: 300_000 }, () => {
  let nats: NatsCluster | undefined;
  before(async () => {
    nats = await NatsCluster.start({ size: 3 });
  });
  after(async () => {
    await nats?.stop();
  });

  test('a Parquet and a CSV file imported beside live traffic count each key once on every node; a live retry and a second load add nothing', async () => {
    await withTempDir(async (dir) => {
      const config = { ...erasureConfig, cluster: { name: 'history', partitions: PARTITIONS, replicas: 3 } };
      const catalog = compileConfig(config);
      const open = (name: string) => ClusterNode.open({ dataDir: join(dir, name), config, servers: nats!.urls, node: name, leaseMs: 3_000 });
      const nodes: ClusterNode[] = [await open('a'), await open('b')];
      let position = new Array<number>(PARTITIONS).fill(0);
      const ingest = async (events: readonly UsageEvent[]) => {
        const half = Math.ceil(events.length / 2);
        for (const [i, node] of nodes.entries()) {
          const result = await bounded(node.ingest('usage', events.slice(i * half, (i + 1) * half)), `an ingest through ${node.name}`, nodes);
          position = position.map((seq, p) => Math.max(seq, result.position?.[p] ?? 0));
        }
      };
      const target = { servers: nats!.urls, catalog, dir, chunkRows: 64, runBatch: (o: object) => nodes[1]!.runBatch(o) };
      try {
        const live1 = usageEvents(0, 300);
        await ingest(live1);
        await bounded(nodes[0]!.runBatch(), 'a cycle', nodes);
        await ingest(usageEvents(300, 20).map((e) => ({ ...e, id: `late-${e.id}` })));

        // Parquet: ids 200..700, those below 300 live already (other units: the live copy counts), and 650 again at the end.
        const inParquet = [...usageEvents(200, 501).map((e) => ({ ...e, units: e.units + 1 })), { ...usageEvents(650, 1)[0]!, units: 99 }];
        // CSV: ids 600..900, those to 700 in the Parquet file already, and one row the live rules refuse.
        const inCsv = usageEvents(600, 301).map((e) => ({ ...e, units: e.units + 2 }));
        await writeFiles(inParquet, join(dir, 'p.csv'), [], join(dir, 'old.parquet'));
        await writeFiles(inCsv, join(dir, 'old.csv'), ['bad-1,yesterday,c,free,1']);
        const summary = await bounded(importHistoryIntoCluster({ ...target }, 'usage', [join(dir, 'old.parquet'), join(dir, 'old.csv')]), 'the import', nodes);
        assert.deepEqual(summary.files.map((f) => [f.rows, f.imported, f.duplicates, f.rejected]), [[502, 401, 101, 0], [302, 200, 101, 1]]);
        assert.match(summary.files[1]!.firstRejections[0]!.error, /at/);

        const late = usageEvents(300, 20).map((e) => ({ ...e, id: `late-${e.id}` }));
        const counted = () => firstOfEach([...live1, ...late, ...inParquet, ...inCsv, ...live2]);
        // A live retry of imported keys (other units) is dropped; new events count.
        const live2 = [...[250, 500, 850].map((i) => ({ ...usageEvents(i, 1)[0]!, units: 77 })), ...usageEvents(1000, 50)];
        await ingest(live2);
        const expected = await reference(counted());
        for (const node of nodes) assert.deepEqual(await answersAfter(node, position), expected, `${node.name} answers history and live, each key once, before the next cycle`);
        await bounded(nodes[0]!.runBatch(), 'a cycle', nodes);
        for (const node of nodes) assert.deepEqual(await answersAfter(node, position), expected, `${node.name} answers alike after the next cycle`);

        // The same file again: nothing new.
        const again = await bounded(importHistoryIntoCluster({ ...target }, 'usage', [join(dir, 'old.parquet')]), 'the second import', nodes);
        assert.deepEqual([again.imported, again.duplicates], [0, 502 - 0]);
        for (const node of nodes) assert.deepEqual(await answersAfter(node, position), expected, `${node.name} answers alike after a second load`);

        // The rows objects are gone once archived: the archive holds the rows. Keys objects stay while the streams hold
        // their messages (those purged since were erased with them: `history-cleanup.ts`).
        const nc = await nats!.connect();
        try {
          const staged = (await (await ObjectBlobStore.open(nc, { bucket: 'history_master', replicas: 3 })).list('history/usage/')).map((b) => b.name);
          assert.deepEqual(staged.filter((name) => name.endsWith('.parquet')), [], 'no rows object stays');
        } finally {
          await nc.close();
        }

        // Two more cycles (the batch node purges each stream below the previous cutoff): a node that starts now builds its
        // rule from the archive and what the streams still hold, and agrees, also on a live retry of an imported key.
        await bounded(nodes[0]!.runBatch(), 'a cycle', nodes);
        await bounded(nodes[0]!.runBatch(), 'a cycle', nodes);
        nodes.push(await open('c'));
        const retry = await bounded(nodes[2]!.ingest('usage', [{ ...usageEvents(820, 1)[0]!, units: 55 }]), 'a retry through c', nodes);
        assert.equal(retry.duplicates, 1, 'c finds the imported key stored');
        position = position.map((seq, p) => Math.max(seq, retry.position?.[p] ?? 0));
        assert.deepEqual(await answersAfter(nodes[2]!, position), expected, 'a node started after the import answers alike');
      } finally {
        for (const node of nodes) await node.close().catch(() => undefined);
      }
    });
  });

  test('a keyless type\'s rows are spread over the partitions and all counted; the same file loaded again at once is dropped whole', async () => {
    await withTempDir(async (dir) => {
      const config = {
        eventTypes: [{ name: 'ping', time: 'at', fields: { at: 'timestamp', page: 'string' } }],
        views: [{ name: 'by_page', eventType: 'ping', dimensions: ['page'], granularity: 'day', measures: { pings: { type: 'count' } } }],
        cluster: { name: 'historyping', partitions: PARTITIONS, replicas: 3 },
      };
      const node = await ClusterNode.open({ dataDir: join(dir, 'a'), config, servers: nats!.urls, node: 'a', leaseMs: 3_000 });
      try {
        const { position } = await node.ingest('ping', Array.from({ length: 10 }, (_, i) => ({ at: Date.UTC(2025, 0, 1) + i, page: '/live' })));
        const file = join(dir, 'pings.csv');
        await writeFile(file, ['at,page', ...Array.from({ length: 300 }, (_, i) => `2024-06-01T00:00:00Z,/p${i % 3}`)].join('\n') + '\n');
        const target = { servers: nats!.urls, catalog: compileConfig(config), dir, chunkRows: 64, runBatch: (o: object) => node.runBatch(o) };
        const summary = await bounded(importHistoryIntoCluster(target, 'ping', [file]), 'the import', [node]);
        assert.deepEqual([summary.imported, summary.duplicates], [300, 0]);
        assert.match(summary.warning ?? '', /declares no idempotencyKey/);
        const counts = async () => Object.fromEntries((await node.query({ view: 'by_page', groupBy: ['page'], granularity: 'all', after: position ?? [] })).rows.map((r) => [r.page, r.pings]));
        assert.deepEqual(await counts(), { '/live': 10, '/p0': 100, '/p1': 100, '/p2': 100 });
        const again = await bounded(importHistoryIntoCluster(target, 'ping', [file]), 'the second import', [node]);
        assert.deepEqual([again.imported, again.duplicates], [0, 300]);
        assert.deepEqual(await counts(), { '/live': 10, '/p0': 100, '/p1': 100, '/p2': 100 });
      } finally {
        await node.close();
      }
    });
  });

  test('tandem ingest --history --nats - imports through the binary, the node at --url runs the cycle, and --resume skips the file done', async () => {
    await withTempDir(async (dir) => {
      const config = { ...erasureConfig, cluster: { name: 'historycli', partitions: PARTITIONS, replicas: 3 } };
      const configFile = join(dir, 'config.json');
      await writeFile(configFile, JSON.stringify(config));
      const node = await ClusterNode.open({ dataDir: join(dir, 'a'), config, servers: nats!.urls, node: 'a', leaseMs: 3_000 });
      const { app } = createServer({ tandem: node });
      try {
        const url = await app.listen({ port: 0, host: '127.0.0.1' });
        const live = usageEvents(0, 40);
        const { position } = await node.ingest('usage', live);
        const file = join(dir, 'old.csv');
        const old = usageEvents(20, 60).map((e) => ({ ...e, units: e.units + 3 }));
        await writeFiles(old, file);
        const args = ['ingest', '--history', file, '--event', 'usage', '--nats', nats!.urls.join(','), '--config', configFile, '--url', url, '--no-progress'];
        const first = await runCli(args);
        assert.equal(first.code, 0, first.stderr);
        assert.match(first.stdout, /^60 rows read from 1 file: 40 imported \(20 already stored\), 0 rejected, in [\d.]+ s \([\d,]+ rows\/s\); published as batch version \d+ in [\d.]+ s\.$/m);
        assert.deepEqual(await answersAfter(node, position ?? []), await reference(firstOfEach([...live, ...old])));
        const resumed = await runCli([...args, '--resume']);
        assert.equal(resumed.code, 0, resumed.stderr);
        assert.match(resumed.stdout, /^0 rows read from 0 files: 0 imported .*\nSkipped, imported whole before \(--resume\): old\.csv\.$/m);
        assert.deepEqual(await answersAfter(node, position ?? []), await reference(firstOfEach([...live, ...old])));
      } finally {
        await app.close();
        await node.close();
      }
    });
  });
});
