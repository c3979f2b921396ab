/**
 * What a cluster's view changes say while they switch in, and the numbers
 * they get (issue #31), on a real NATS server, two nodes:
 * - a change whose cycle fails is `retrying` with the failure's reason on
 *   every node, and can be cancelled (the failed cycle's mark no longer
 *   holds it); the definition served stays;
 * - a view dropped and added again gets a new version number, never the one
 *   its earlier definition answered with;
 * - while the switching cycle computes, every node's status shows how far
 *   it is: files and events read of those it reads, and an ETA.
 *
 * Failures and a slow publish are made by wrapping the version store's
 * publish, which every cycle calls once its views are computed.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { ClusterNode } from '../../../src/backends/nats/internal.ts';
import { SharedVersionStore } from '../../../src/backends/nats/shared-version-store.ts';
import { defineView, NoViewChangeError, type ViewChangeStatus } from '../../../src/index.ts';
import { eventually } from '../../support/eventually.ts';
import { bounded } from '../../support/hang-guard.ts';
import { NatsCluster, natsSkipReason } from '../../support/nats-cluster.ts';
import { order as orderType, shopConfig } from '../../support/shop-config.ts';
import { withTempDir } from '../../support/temp-dir.ts';

const BASE = Date.UTC(2024, 2, 1);
const orders = (from: number, to: number) => Array.from({ length: to - from }, (_, j) => {
  const i = from + j;
  return { id: `o${i}`, at: BASE + (i % 90) * 3_600_000, country: ['DE', 'FR', 'US', 'BR'][i % 4], device: 'web', mobile: i % 3 === 0, amount: 1 + (i % 50), qty: i % 7 };
});
const added = defineView(orderType, { name: 'added', dimensions: ['country'], granularity: 'day', measures: { orders: { type: 'count' } } });

/** What the wrapped publish does: fail with this message, or wait this long first. */
const publishing: { fail: string | undefined; delayMs: number } = { fail: undefined, delayMs: 0 };
const publish = SharedVersionStore.prototype.publish;
SharedVersionStore.prototype.publish = async function (this: SharedVersionStore, ...args: Parameters<typeof publish>) {
  if (publishing.fail !== undefined) throw new Error(publishing.fail);
  if (publishing.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, publishing.delayMs));
  return publish.apply(this, args);
};

describe('a cluster\'s view changes while they switch in', { skip: natsSkipReason(), timeout: 300_000 }, () => {
  let nats: NatsCluster | undefined;
  before(async () => {
    nats = await NatsCluster.start({ size: 1 });
  });
  after(async () => {
    await nats?.stop();
  });
  afterEach(() => {
    publishing.fail = undefined;
    publishing.delayMs = 0;
  });

  /** Two nodes of cluster `name` with one version published, for `work`; both closed after. */
  async function withNodes(name: string, work: (nodes: ClusterNode[]) => Promise<void>): Promise<void> {
    await withTempDir(async (dir) => {
      const config = { ...shopConfig, cluster: { name, partitions: 2, replicas: 1 } };
      const nodes: ClusterNode[] = [];
      try {
        for (const node of ['a', 'b']) nodes.push(await ClusterNode.open({ dataDir: `${dir}/${node}`, config, servers: nats!.urls, node, partitionLeaseMs: 3_000 }));
        await nodes[0]!.ingest('order', orders(0, 400));
        await bounded(nodes[0]!.runBatch(), 'the first cycle', nodes);
        await work(nodes);
      } finally {
        await Promise.allSettled(nodes.map((n) => n.close()));
      }
    });
  }

  test('a change whose cycle failed says why on every node and can be cancelled; the views served stay', async () => {
    await withNodes('viewfail', async (nodes) => {
      const [a, b] = nodes as [ClusterNode, ClusterNode];
      publishing.fail = 'injected: the object store refused the version';
      await b.applyView(added);
      const failing = (n: ClusterNode) => n.status().viewChanges.find((c) => c.view === 'added');
      // Each node, between the failing cycles (the next one marks the change switching again while it runs).
      const said = new Set<string>();
      await eventually(() => {
        for (const n of nodes) if (failing(n)?.state === 'retrying' && failing(n)?.error?.includes('injected') === true) said.add(n.name);
        return said.size === nodes.length;
      }, () => `both nodes to say why: ${nodes.map((n) => `${n.name} ${JSON.stringify(failing(n))}`).join('; ')}`, { timeoutMs: 30_000, intervalMs: 20 });
      // Cycles asked for the change keep failing meanwhile: a cancel is refused only while one runs.
      let refused = 0;
      let cancelled: unknown;
      await eventually(async () => {
        cancelled = await a.cancelViewChange('added').catch((error: unknown) => {
          if (error instanceof NoViewChangeError && error.switching) refused++;
          return error;
        });
        return !(cancelled instanceof NoViewChangeError && cancelled.switching);
      }, () => `a cancel to be taken between failing cycles (${refused} refused while one ran)`, { timeoutMs: 30_000, intervalMs: 100 });
      assert.deepEqual(cancelled, { view: 'added', action: 'unchanged', version: 0, state: 'dropped' });
      publishing.fail = undefined;
      await bounded(a.runBatch(), 'a cycle after the cancel', nodes);
      await eventually(() => nodes.every((n) => n.status().viewChanges.length === 0), () => 'no change left listed', { timeoutMs: 10_000, intervalMs: 50 });
      for (const n of nodes) assert.ok(!n.catalog.views.has('added'), `${n.name} serves no cancelled view`);
    });
  });

  test('a view dropped and added again answers with a new version number', async () => {
    await withNodes('viewagain', async (nodes) => {
      const [a, b] = nodes as [ClusterNode, ClusterNode];
      assert.equal((await a.applyView(added)).version, 1);
      await bounded(a.runBatch(), 'the cycle adding it', nodes);
      await eventually(() => nodes.every((n) => n.catalog.views.has('added')), () => 'both nodes to serve it', { timeoutMs: 20_000, intervalMs: 50 });
      assert.equal((await b.query({ view: 'added', granularity: 'all' })).meta.viewVersion, 1);
      await bounded(b.dropView('added'), 'the drop', nodes);
      await eventually(() => nodes.every((n) => !n.catalog.views.has('added')), () => 'both nodes to drop it', { timeoutMs: 20_000, intervalMs: 50 });
      const again = await a.applyView(added);
      assert.deepEqual(again, { view: 'added', action: 'add', version: 2, state: 'backfilling' });
      await bounded(a.runBatch(), 'the cycle adding it again', nodes);
      await eventually(() => nodes.every((n) => n.catalog.views.has('added')), () => 'both nodes to serve it again', { timeoutMs: 20_000, intervalMs: 50 });
      for (const n of nodes) assert.equal((await n.query({ view: 'added', granularity: 'all' })).meta.viewVersion, 2, n.name);
    });
  });

  test('every node shows how far the switching cycle is: files and events read of those it reads, and an ETA', async () => {
    await withNodes('viewprogress', async (nodes) => {
      const [a, b] = nodes as [ClusterNode, ClusterNode];
      await a.ingest('order', orders(400, 800));
      // Held before it publishes, once its views are computed: every node reads the progress written by then.
      publishing.delayMs = 3_000;
      await b.applyView(added);
      const seen = new Map<string, ViewChangeStatus>();
      await eventually(() => {
        for (const n of nodes) {
          const change = n.status().viewChanges.find((c) => c.view === 'added');
          if (change?.state === 'switching' && change.filesDone > 0) seen.set(n.name, change);
        }
        return seen.size === nodes.length;
      }, () => `both nodes to show the cycle's progress: ${nodes.map((n) => `${n.name} ${JSON.stringify(n.status().viewChanges)}`).join('; ')}`, { timeoutMs: 30_000, intervalMs: 20 });
      for (const [node, change] of seen) {
        assert.ok(change.filesDone > 0 && change.filesDone <= change.filesTotal, `${node}: files ${change.filesDone}/${change.filesTotal}`);
        assert.ok(change.eventsTotal >= 800 && change.eventsDone <= change.eventsTotal, `${node}: events ${change.eventsDone}/${change.eventsTotal}`);
        assert.notEqual(change.etaMs, null, `${node}: an ETA once views are done`);
        assert.equal(change.error, null);
      }
      await eventually(() => nodes.every((n) => n.catalog.views.has('added') && n.status().viewChanges.length === 0), () => 'the change to be switched in', { timeoutMs: 30_000, intervalMs: 50 });
    });
  });
});
