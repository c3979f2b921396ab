/**
 * One suite, three implementations: the same events and queries answered by
 * the speed layer alone (JavaScript), the batch layer alone (DuckDB) and the
 * merge of both must give identical rows, equal to the reference. It runs on
 * the embedded engine and on a cluster of one node (NATS JetStream, two log
 * partitions), which must answer alike.
 */
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Tandem, type Layer } from '../src/index.ts';
import { ClusterNode } from '../src/backends/nats/index.ts';
import type { ServedEngine } from '../src/engine/index.ts';
import { NatsCluster, natsSkipReason } from './support/nats-cluster.ts';
import { NodeTrio } from './support/node-trio.ts';
import { bounded } from './support/hang-guard.ts';
import { canonicalRows, referenceQuery } from './support/reference.ts';
import { shopConfig, views } from './support/shop-config.ts';
import { AcceptedEvents, shopEvent } from './support/shop-events.ts';
import { shopQueries } from './support/shop-queries.ts';
import { withTempDir } from './support/temp-dir.ts';

/** Puts all events in one layer, or splits them between both, and returns the engine to query. */
const arrangements: Record<Layer, (engine: ServedEngine, first: unknown[], second: unknown[]) => Promise<void>> = {
  speed: async (engine, first, second) => {
    await engine.ingest('order', [...first, ...second]);
  },
  batch: async (engine, first, second) => {
    await engine.ingest('order', [...first, ...second]);
    await engine.runBatch();
  },
  merged: async (engine, first, second) => {
    await engine.ingest('order', first);
    await engine.runBatch();
    await engine.ingest('order', second);
  },
};

/**
 * The three arrangements, each over many generated event sets, on engines
 * that `open` makes in a fresh directory. A failure on a real cluster is
 * reported as found, not shrunk: each run there takes seconds and is not
 * replayed alike, so shrinking would eat the suite's time limit and hide
 * the failure behind a timeout.
 */
function layerConformance(mode: string, open: (dir: string) => Promise<ServedEngine>, numRuns: number, { shrink = true } = {}): void {
  for (const layer of ['speed', 'batch', 'merged'] as const) {
    test(`conformance${mode} - the ${layer} path answers every query like the reference`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(shopEvent, { maxLength: 120 }), fc.nat(120), async (events, split) => {
          await withTempDir(async (dir) => {
            const engine = await open(dir);
            try {
              const raw = events.map((e) => e.raw);
              await arrangements[layer](engine, raw.slice(0, split), raw.slice(split));
              const accepted = new AcceptedEvents();
              accepted.add(events);
              for (const query of shopQueries()) {
                const { rows, meta } = await engine.query({ ...query, layer });
                assert.equal(meta.layer, layer);
                const expected = referenceQuery(views.find((v) => v.name === query.view)!, accepted.events, query);
                assert.deepEqual(canonicalRows(rows), canonicalRows(expected), JSON.stringify(query));
              }
            } finally {
              await engine.close();
            }
          });
        }),
        { numRuns, seed: 42, endOnFailure: !shrink, includeErrorInReport: true },
      );
    });
  }
}

describe('conformance on a one-node cluster', { skip: natsSkipReason(), timeout: 300_000 }, () => {
  let nats: NatsCluster | undefined;
  let clusters = 0;
  before(async () => {
    nats = await NatsCluster.start({ size: 1 });
  });
  after(async () => {
    await nats?.stop();
  });
  layerConformance(' (cluster)', (dir) => ClusterNode.open({
    dataDir: dir, servers: nats!.urls, node: 'solo',
    config: { ...shopConfig, cluster: { name: `conformance${clusters++}`, partitions: 2, replicas: 1 } },
  }), 12, { shrink: false });
});

describe('conformance on a three-node cluster', { skip: natsSkipReason(), timeout: 600_000 }, () => {
  let nats: NatsCluster | undefined;
  let clusters = 0;
  before(async () => {
    nats = await NatsCluster.start();
  });
  after(async () => {
    await nats?.stop();
  });
  layerConformance(' (three nodes)', async (dir) => {
    const config = { ...shopConfig, cluster: { name: `trio${clusters++}`, partitions: 2, replicas: 3 } };
    const open = (i: number) => ClusterNode.open({ dataDir: `${dir}/n${i}`, servers: nats!.urls, node: `n${i}`, config });
    const opened = await bounded(Promise.allSettled([open(0), open(1), open(2)]), 'opening three nodes', []);
    const nodes = opened.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
    const failed = opened.find((o) => o.status === 'rejected');
    if (failed !== undefined) {
      await Promise.all(nodes.map((n) => n.close()));
      throw failed.reason;
    }
    return new NodeTrio(nodes as [ClusterNode, ClusterNode, ClusterNode]);
  }, 6, { shrink: false });
});

describe('conformance', () => {
  layerConformance('', (dir) => Tandem.open({ dataDir: dir, config: shopConfig }), 12);

  test('conformance - buckets agree between DuckDB and JavaScript across years, leap days and week boundaries', async () => {
    await withTempDir(async (dir) => {
      const engine = await Tandem.open({ dataDir: dir, config: shopConfig });
      try {
        const times = [
          '1900-01-01T00:00:00Z', '1969-12-31T23:59:59.999Z', '1970-01-01T00:00:00Z', '1970-01-05T00:00:00Z',
          '2000-02-29T12:00:00Z', '2023-12-31T23:59:59.999Z', '2024-01-01T00:00:00Z', '2024-12-30T00:00:00Z', '9999-12-31T23:59:59.999Z',
        ];
        const events = times.map((at, i) => ({ id: `t${i}`, at, country: 'DE', device: 'web', mobile: true, amount: 1, qty: 1 }));
        await engine.ingest('order', events);
        const speed = await Promise.all(views.map((v) => engine.query({ view: v.name, layer: 'speed', groupBy: [...v.dimensions] })));
        await engine.runBatch();
        const batch = await Promise.all(views.map((v) => engine.query({ view: v.name, layer: 'batch', groupBy: [...v.dimensions] })));
        assert.deepEqual(batch.map((r) => r.rows), speed.map((r) => r.rows));
      } finally {
        await engine.close();
      }
    });
  });
});
