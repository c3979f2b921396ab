/**
 * Erasure in cluster mode, down to the NATS servers' Raft logs (issue #31).
 * A replicated stream's Raft log (`$SYS/_js_/…` in a server's store) holds
 * every message appended to it, the erased events' included, until
 * nats-server snapshots the stream's state and compacts the log. It does so
 * on its own schedule (every two to three minutes for a stream whose state
 * changed, and at once past 64k entries or 8 MiB), which no client call can
 * hasten. So the erase answers once no answer counts the events and the
 * streams' own files no longer hold them, and this test waits out that
 * schedule to prove what follows: then no file of any server's store holds
 * the erased value at all.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ClusterNode } from '../../../src/backends/nats/internal.ts';
import { ERASED_CUSTOMER, erasureConfig, filesHolding, usageEvents } from '../../support/erasure-fixture.ts';
import { bounded } from '../../support/hang-guard.ts';
import { NatsCluster, natsSkipReason } from '../../support/nats-cluster.ts';
import { withTempDir } from '../../support/temp-dir.ts';

/** A stream's compaction ticks every two minutes plus up to one, from when the server started following it. */
const RAFT_COMPACTION_MS = 200_000;

describe('erasure in cluster mode, Raft logs included', { skip: natsSkipReason(), timeout: 420_000 }, () => {
  let nats: NatsCluster | undefined;
  before(async () => {
    nats = await NatsCluster.start({ size: 3 });
  });
  after(async () => {
    await nats?.stop();
  });

  test('once the servers have compacted their Raft logs, no file of any NATS store holds an erased value', async () => {
    await withTempDir(async (dir) => {
      const config = { ...erasureConfig, cluster: { name: 'erasureraft', partitions: 2, replicas: 3 } };
      const node = await ClusterNode.open({ dataDir: join(dir, 'a'), config, servers: nats!.urls, node: 'a', leaseMs: 3_000 });
      const storeFiles = async () => (await Promise.all(nats!.storeDirs.map((d) => filesHolding(d, ERASED_CUSTOMER)))).flat();
      try {
        await node.ingest('usage', usageEvents(0, 200));
        await bounded(node.runBatch(), 'a cycle', [node]);
        await node.ingest('usage', usageEvents(200, 100));
        assert.ok((await storeFiles()).length > 0, 'the servers hold the value before the erasure');
        const audit = await bounded(node.erase({ eventType: 'usage', where: { customer: ERASED_CUSTOMER } }), 'an erasure', [node]);
        assert.ok(audit.events > 0);
        const erasedAt = performance.now();
        let holding = await storeFiles();
        // Only Raft logs may still hold it: the streams' own files were purged or erased before the erase answered.
        assert.deepEqual(holding.filter((f) => !f.includes('$SYS/_js_')), [], 'no stream file holds the erased value once the erase answers');
        while (holding.length > 0 && performance.now() - erasedAt < RAFT_COMPACTION_MS) {
          await new Promise((resolve) => setTimeout(resolve, 5_000));
          holding = await storeFiles();
        }
        assert.deepEqual(holding, [], `no file of a NATS store holds the erased value ${Math.round((performance.now() - erasedAt) / 1000)} s after the erasure`);
      } finally {
        await node.close();
      }
    });
  });
});
