/**
 * An erasure after a history import in cluster mode: the staged objects
 * hold the imported events' keys (and, until the import's cleanup, their
 * rows) in clear. The import erases its rows objects once a version
 * archives them, and the keys objects are erased once the stream is purged
 * below the messages naming them (`history-cleanup.ts`), which an erasure's
 * cycle does. So after the erase, no object of the store, no file of a
 * NATS server's streams and no file of a node holds the erased value.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ClusterNode, importHistoryIntoCluster, ObjectBlobStore } from '../../../src/backends/nats/internal.ts';
import { compileConfig } from '../../../src/index.ts';
import { canonicalRows } from '../../support/reference.ts';
import { byCustomer, ERASED_CUSTOMER, erasureConfig, filesHolding, reference, usageEvents, type UsageEvent } from '../../support/erasure-fixture.ts';
import { bounded } from '../../support/hang-guard.ts';
import { NatsCluster, natsSkipReason } from '../../support/nats-cluster.ts';
import { withTempDir } from '../../support/temp-dir.ts';

const PARTITIONS = 2;

const csvLine = (e: UsageEvent) => `${e.id},${new Date(e.at).toISOString()},${e.customer},${e.plan},${e.units}`;

describe('an erasure after a cluster history import', { skip: natsSkipReason(), timeout: 300_000 }, () => {
  let nats: NatsCluster | undefined;
  before(async () => {
    nats = await NatsCluster.start({ size: 1 });
  });
  after(async () => {
    await nats?.stop();
  });

  test('leaves the erased value in no staged object, stream file or node file', async () => {
    await withTempDir(async (dir) => {
      const config = { ...erasureConfig, cluster: { name: 'historyerase', partitions: PARTITIONS, replicas: 1 } };
      const open = (name: string) => ClusterNode.open({ dataDir: join(dir, name), config, servers: nats!.urls, node: name, leaseMs: 3_000 });
      const nodes: ClusterNode[] = [await open('a'), await open('b')];
      let position = new Array<number>(PARTITIONS).fill(0);
      try {
        const live = usageEvents(0, 100);
        const result = await bounded(nodes[0]!.ingest('usage', live), 'an ingest', nodes);
        position = position.map((seq, p) => Math.max(seq, result.position?.[p] ?? 0));
        const imported = usageEvents(100, 400);
        await writeFile(join(dir, 'old.csv'), ['id,at,customer,plan,units', ...imported.map(csvLine)].join('\n') + '\n');
        const target = { servers: nats!.urls, catalog: compileConfig(config), dir: join(dir, 'import'), chunkRows: 64, runBatch: (o: object) => nodes[0]!.runBatch(o) };
        await mkdir(target.dir);
        const summary = await bounded(importHistoryIntoCluster(target, 'usage', [join(dir, 'old.csv')]), 'the import', nodes);
        assert.equal(summary.imported, imported.length);

        await bounded(nodes[1]!.erase({ eventType: 'usage', where: { customer: ERASED_CUSTOMER } }, { by: 'test' }), 'the erasure', nodes);
        const kept = [...live, ...imported].filter((e) => e.customer !== ERASED_CUSTOMER);
        const expected = (await reference(kept))[0];
        for (const node of nodes) {
          const { rows } = await node.query({ view: byCustomer.name, groupBy: ['customer'], granularity: 'all', after: position });
          assert.equal(JSON.stringify(canonicalRows(rows)), expected, `${node.name} answers without the erased events`);
        }

        const nc = await nats!.connect();
        const fetched = join(dir, 'fetched');
        await mkdir(fetched);
        try {
          const blobs = await ObjectBlobStore.open(nc, { bucket: 'historyerase_master', replicas: 1 });
          const listed = await blobs.list('');
          assert.ok(listed.some((b) => b.name.startsWith('history/')), 'the import left objects under history/ (its outcomes)');
          for (const blob of listed) await blobs.get(blob.name, join(fetched, blob.name.replaceAll('/', '_')));
        } finally {
          await nc.close();
        }
        assert.deepEqual(await filesHolding(fetched, ERASED_CUSTOMER), [], 'no object of the store holds the erased value');
        const inNats = (await Promise.all(nats!.storeDirs.map((d) => filesHolding(join(d, 'jetstream', '$G'), ERASED_CUSTOMER)))).flat();
        assert.deepEqual(inNats, [], 'no file of the NATS server\'s streams holds the erased value');
        const inNodes = (await Promise.all(nodes.map((node) => filesHolding(join(dir, node.name), ERASED_CUSTOMER)))).flat();
        assert.deepEqual(inNodes, [], 'no node\'s directory holds the erased value');
      } finally {
        for (const node of nodes) await node.close().catch(() => undefined);
      }
    });
  });
});
