/**
 * An erasure's version, like any, refers to the view files of the version
 * before it that it computed byte for byte alike (`inheritedFrom`): those of
 * partitions that held none of the erased events stay in the older folder.
 * Once it is published, every object it does not name is erased from the
 * object store (older versions' files were computed with the erased events),
 * and every object it names stays: a node loading it later finds it whole.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ClusterNode, connectNats } from '../../../src/backends/nats/internal.ts';
import { namedBy } from '../../../src/backends/nats/kept-versions.ts';
import { ObjectBlobStore } from '../../../src/backends/nats/object-blob-store.ts';
import type { SharedManifest } from '../../../src/backends/nats/shared-manifest.ts';
import { folderOf } from '../../../src/backends/nats/version-objects.ts';
import { ERASED_CUSTOMER, erasureConfig, usageEvents } from '../../support/erasure-fixture.ts';
import { bounded } from '../../support/hang-guard.ts';
import { NatsCluster, natsSkipReason } from '../../support/nats-cluster.ts';
import { withTempDir } from '../../support/temp-dir.ts';

/**
 * Checks that the object store holds exactly what the served `version`
 * names (its own files and those it inherits), and says whether it
 * inherits any file from an older folder.
 */
async function servedMatchesStore(nats: NatsCluster, dir: string, version: number): Promise<boolean> {
  const nc = await connectNats({ servers: nats.urls });
  try {
    const blobs = await ObjectBlobStore.open(nc, { bucket: 'inherit_master', replicas: 1 });
    const stored = (await blobs.list('batch/')).map((b) => b.name);
    const manifests = stored.filter((name) => name.endsWith('/manifest.json')).sort();
    const folder = folderOf(manifests.at(-1)!);
    await blobs.get(`${folder}/manifest.json`, join(dir, 'manifest.json'));
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as SharedManifest;
    assert.equal(manifest.version, version);
    const named = [...namedBy(manifest, folder)].filter((name) => name.startsWith('batch/'));
    assert.deepEqual(named.filter((name) => !stored.includes(name)), [], 'every object the served version names is in the object store');
    assert.deepEqual(stored.filter((name) => !named.includes(name)), [], 'no object of an older version stays unless the served one names it');
    return named.some((name) => folderOf(name) !== folder);
  } finally {
    await nc.close();
  }
}

describe('an erasure keeps the files its version inherited', { skip: natsSkipReason(), timeout: 180_000 }, () => {
  let nats: NatsCluster | undefined;
  before(async () => {
    nats = await NatsCluster.start({ size: 1 });
  });
  after(async () => {
    await nats?.stop();
  });

  test('after an erasure the object store holds exactly what the served version names; a node started then loads it', async () => {
    await withTempDir(async (dir) => {
      // Placed by customer: the erased customer's events are in one partition, the others' files are the same after it.
      const config = { ...erasureConfig, cluster: { name: 'inherit', partitions: 4, replicas: 1, partitionBy: { usage: 'customer' } } };
      const open = (name: string) => ClusterNode.open({ dataDir: join(dir, name), config, servers: nats!.urls, node: name, leaseMs: 3_000 });
      const nodes: ClusterNode[] = [await open('a')];
      try {
        await bounded(nodes[0]!.ingest('usage', usageEvents(0, 200)), 'an ingest', nodes);
        await bounded(nodes[0]!.runBatch(), 'a cycle', nodes);
        // An erasure's version inherits a file only when it computed it byte for byte alike, which is not always so: a
        // quantiles sketch merged in another order differs run to run, and under load about one run in five inherited
        // nothing at all (cause not found yet). Customers are erased one after another until a version inherits some
        // file, each version checked on the way: the store must match what it names either way.
        const customers = [ERASED_CUSTOMER, ...new Set(usageEvents(0, 200).map((e) => e.customer).filter((c) => c !== ERASED_CUSTOMER))].slice(0, 4);
        let inherits = false;
        let version: number | undefined;
        for (const customer of customers) {
          await bounded(nodes[0]!.erase({ eventType: 'usage', where: { customer } }, { by: 'test' }), 'an erasure', nodes);
          version = nodes[0]!.status().batch?.version;
          assert.ok(version !== undefined && version >= 2);
          inherits = await servedMatchesStore(nats!, dir, version);
          if (inherits) break;
        }
        // Without files kept from the version before, this test would not test what it says.
        assert.ok(inherits, `one of ${customers.length} erasures' versions inherits some files from the version before`);

        // A node that joins now loads the served version from the object store alone.
        nodes.push(await open('b'));
        assert.equal(nodes[1]!.status().batch?.version, version);
      } finally {
        for (const node of nodes) await node.close().catch(() => undefined);
      }
    });
  });
});
