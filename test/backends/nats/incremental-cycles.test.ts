/**
 * Incremental batch cycles in cluster mode (issue #27): a cycle computes one
 * delta per view over the archive ranges it added, and a version is the
 * served one's files plus those deltas, uploaded without the base; between
 * cycles the batch node archives ahead (here after every event) and folds
 * older ranges (compaction), which the next cycle publishes. As a property,
 * on two nodes of one cluster (in this process, on one real NATS server, a
 * fresh cluster name per run): a generated schedule of ingests through
 * either node (keyed orders, copies of keys, events anywhere in four
 * months, so most are late for some bucket), cycles asked of either node
 * (incremental, or full on request; the policy forces one after three
 * deltas), pauses that let the background work run, and restarts of either
 * node (the lease moves when its holder stops, so the other node builds on
 * a version it only loaded). After every cycle both nodes answer every shop
 * query exactly as the reference does over the accepted events; at the end
 * each node's batch layer, built through the chain, answers exactly as a
 * full recompute of the same data.
 *
 * TANDEM_FUZZ_CASES sets the number of runs (8 by default, under a minute
 * on a 2-core machine).
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { ClusterNode } from '../../../src/backends/nats/cluster-node.ts';
import type { ArchivedRange, SharedManifest } from '../../../src/backends/nats/shared-manifest.ts';
import type { Query } from '../../../src/index.ts';
import { canonicalRows, referenceQuery } from '../../support/reference.ts';
import { shopConfig, views } from '../../support/shop-config.ts';
import { AcceptedEvents, shopEvent, type GeneratedEvent } from '../../support/shop-events.ts';
import { shopQueries } from '../../support/shop-queries.ts';
import { eventually } from '../../support/eventually.ts';
import { NatsCluster, natsSkipReason } from '../../support/nats-cluster.ts';
import { withTempDir } from '../../support/temp-dir.ts';
import { bounded } from '../../support/hang-guard.ts';

const RUNS = Number(process.env.TANDEM_FUZZ_CASES ?? 8);
type Step =
  | { readonly kind: 'ingest'; readonly node: 0 | 1; readonly events: readonly GeneratedEvent[] }
  | { readonly kind: 'batch'; readonly node: 0 | 1; readonly full: boolean }
  | { readonly kind: 'restart'; readonly node: 0 | 1 }
  | { readonly kind: 'pause'; readonly ms: number };

const nodeIndex = fc.constantFrom<0 | 1>(0, 1);
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ node: nodeIndex, events: fc.array(shopEvent, { minLength: 1, maxLength: 25 }) }).map((s): Step => ({ kind: 'ingest', ...s })) },
  { weight: 4, arbitrary: fc.record({ node: nodeIndex, full: fc.oneof({ weight: 3, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }) }).map((s): Step => ({ kind: 'batch', ...s })) },
  { weight: 1, arbitrary: nodeIndex.map((node): Step => ({ kind: 'restart', node })) },
  { weight: 2, arbitrary: fc.integer({ min: 100, max: 1_500 }).map((ms): Step => ({ kind: 'pause', ms })) },
);

/** A schedule with cycles in it: the chain is what is under test. */
const schedule = fc.array(step, { minLength: 3, maxLength: 16 }).filter((steps) => steps.filter((s) => s.kind === 'batch').length >= 2);

/** Per partition, the later of two positions: reading after it reads after both. */
const later = (a: readonly number[] | undefined, b: readonly number[] | undefined) => (a ?? b ?? []).map((seq, p) => Math.max(seq, b?.[p] ?? 0));

/** The archive ranges of the version `node` serves, from its manifest on the node's disk. */
async function servedRanges(dir: string, node: ClusterNode): Promise<readonly ArchivedRange[]> {
  const version = node.status().batch?.version ?? 0;
  const folders = await readdir(join(dir, node.name, 'cluster', 'versions', 'batch'));
  const folder = folders.find((f) => f.startsWith(`v${String(version).padStart(8, '0')}-`))!;
  return (JSON.parse(await readFile(join(dir, node.name, 'cluster', 'versions', 'batch', folder, 'manifest.json'), 'utf8')) as SharedManifest).ranges;
}

async function batchAnswers(node: ClusterNode): Promise<string[]> {
  return Promise.all(shopQueries().map(async (q) => JSON.stringify(canonicalRows((await node.query({ ...q, layer: 'batch' })).rows))));
}

async function checkAgainstReference(node: ClusterNode, accepted: AcceptedEvents, after: readonly number[] | undefined, when: string): Promise<void> {
  for (const query of shopQueries()) {
    const expected = referenceQuery(views.find((v) => v.name === query.view)!, accepted.events, query);
    const { rows } = await node.query({ ...query, ...(after === undefined ? {} : { after }) } as Query);
    const message = `${node.name}, ${when}: ${JSON.stringify(query)}`;
    if (query.limit !== undefined) assert.deepEqual(rows, expected, message);
    else assert.deepEqual(canonicalRows(rows), canonicalRows(expected), message);
  }
}

describe('incremental cycles in cluster mode', { skip: natsSkipReason(), timeout: 600_000 }, () => {
  let nats: NatsCluster | undefined;
  before(async () => {
    nats = await NatsCluster.start({ size: 1 });
  });
  after(async () => {
    await nats?.stop();
  });

  test('incremental cycles - a chain of incremental and full cycles on two nodes, across restarts, answers like the reference and like a full recompute', async () => {
    let clusters = 0;
    let foldedRuns = 0;
    const modes = { incremental: 0, full: 0 };
    await fc.assert(fc.asyncProperty(schedule, async (steps) => {
      await withTempDir(async (dir) => {
        const config = { ...shopConfig, cluster: { name: `incremental${clusters++}`, partitions: 2, replicas: 1 } };
        const open = (i: 0 | 1) => ClusterNode.open({ dataDir: `${dir}/n${i}`, config, servers: nats!.urls, node: `n${i}`, maxBatchDeltas: 3, keepVersions: 2, archiveAheadEvents: 1 });
        const nodes: ClusterNode[] = [await open(0), await open(1)];
        const accepted = new AcceptedEvents();
        let position: readonly number[] | undefined;
        try {
          for (const [i, s] of steps.entries()) {
            if (s.kind === 'ingest') {
              position = later(position, (await bounded(nodes[s.node]!.ingest('order', s.events.map((e) => e.raw)), `step ${i}, an ingest`, nodes)).position);
              accepted.add(s.events);
            } else if (s.kind === 'restart') {
              await bounded(nodes[s.node]!.close(), `step ${i}, a close`, nodes);
              nodes[s.node] = await bounded(open(s.node), `step ${i}, an open`, nodes);
            } else if (s.kind === 'pause') {
              await new Promise((resolve) => setTimeout(resolve, s.ms));
            } else {
              const summary = await bounded(nodes[s.node]!.runBatch({ full: s.full }), `step ${i}, a cycle`, nodes);
              modes[summary.mode ?? 'full']++;
              if (s.full) assert.equal(summary.mode, 'full', 'a full cycle asked for is one');
              for (const node of nodes) await checkAgainstReference(node, accepted, position, `after step ${i} (a ${summary.mode} cycle)`);
            }
          }
          // Asked of the second node, the cycle answers once that node serves it; the first adopts it within a poll or two.
          const { version } = await bounded(nodes[1]!.runBatch(), 'the last cycle', nodes);
          await eventually(() => nodes.every((node) => node.status().batch?.version === version), 'both nodes to serve the last version');
          const chained = [await batchAnswers(nodes[0]!), await batchAnswers(nodes[1]!)];
          assert.deepEqual(chained[1], chained[0], 'both nodes serve the same batch version alike');
          await bounded(nodes[1]!.runBatch({ full: true }), 'the full recompute', nodes);
          assert.deepEqual(await batchAnswers(nodes[1]!), chained[0], 'the chain answers as a full recompute of the same data');
          for (const node of nodes) await checkAgainstReference(node, accepted, position, 'at the end');
          if ((await servedRanges(dir, nodes[1]!)).some((r) => (r.folds ?? 1) > 1)) foldedRuns++;
        } finally {
          await Promise.all(nodes.map((node) => node.close()));
        }
      });
    }), { seed: 27, numRuns: RUNS, endOnFailure: true, includeErrorInReport: true });
    assert.ok(modes.incremental >= RUNS, `the schedules ran ${modes.incremental} incremental and ${modes.full} full cycles`);
    assert.ok(foldedRuns > 0, 'compaction folded ranges in some run');
  });
});
