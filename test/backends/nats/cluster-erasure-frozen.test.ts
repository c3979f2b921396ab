/**
 * Erasure of frozen aggregates in cluster mode (issue #31), on three nodes
 * of a real 3-server NATS cluster with a clock the test moves: old events
 * retire, and both views keep their aggregates of them as frozen parts per
 * partition. Then one customer is erased, and:
 * - the audit says by_customer's frozen rows of the customer were dropped
 *   (with the events they counted), and that by_plan, which the customer
 *   field does not split, still counts them;
 * - every node answers by_customer as an engine that never stored the
 *   erased events, the frozen range included, and by_plan as one that kept
 *   the old ones;
 * - no object of the store (view files included) and no file of a node's
 *   directory holds the customer.
 */
import assert from 'node:assert/strict';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ClusterNode, connectNats } from '../../../src/backends/nats/internal.ts';
import { ObjectBlobStore } from '../../../src/backends/nats/object-blob-store.ts';
import { defineConfig, defineEventType, defineView } from '../../../src/index.ts';
import { answersAfter, byCustomer, byPlan, ERASED_CUSTOMER, filesHolding, reference, usage, type UsageEvent, usageEvents } from '../../support/erasure-fixture.ts';
import { eventually } from '../../support/eventually.ts';
import { bounded } from '../../support/hang-guard.ts';
import { NatsCluster, natsSkipReason } from '../../support/nats-cluster.ts';
import { withTempDir } from '../../support/temp-dir.ts';

const DAY = 86_400_000;
const PARTITIONS = 2;
const OLD_BASE = Date.UTC(2025, 0, 1);
const NEW_BASE = OLD_BASE + 100 * DAY;
const retained = defineEventType({ ...usage, retention: '30d' });
const config = defineConfig({
  eventTypes: [retained],
  views: [defineView(retained, { ...byCustomer, keepAggregates: true }), defineView(retained, { ...byPlan, keepAggregates: true })],
  cluster: { name: 'erasefrozen', partitions: PARTITIONS, replicas: 1 },
});
describe('erasure of frozen aggregates in cluster mode', { skip: natsSkipReason(), timeout: 300_000 }, () => {
  let nats: NatsCluster | undefined;
  before(async () => {
    nats = await NatsCluster.start({ size: 3 });
  });
  after(async () => {
    await nats?.stop();
  });

  test('the frozen rows of the erased customer are dropped on every node; no object nor node file holds the value', async () => {
    await withTempDir(async (dir) => {
      const clock = { now: NEW_BASE + DAY };
      const open = (name: string) => ClusterNode.open({
        dataDir: join(dir, name), config, servers: nats!.urls, node: name, leaseMs: 3_000, now: () => clock.now, retentionGraceMs: 5 * DAY,
      });
      const nodes: ClusterNode[] = [await open('a'), await open('b'), await open('c')];
      const nc = await connectNats({ servers: nats!.urls });
      const blobs = await ObjectBlobStore.open(nc, { bucket: 'erasefrozen_master', replicas: 1 });
      let position = new Array<number>(PARTITIONS).fill(0);
      const ingest = async (events: readonly UsageEvent[]) => {
        const third = Math.ceil(events.length / 3);
        for (const [i, node] of nodes.entries()) {
          const result = await bounded(node.ingest('usage', events.slice(i * third, (i + 1) * third)), `an ingest through ${node.name}`, nodes);
          position = position.map((seq, p) => Math.max(seq, result.position?.[p] ?? 0));
        }
      };
      const batch = async (i: number) => {
        const { version } = await bounded(nodes[i]!.runBatch(), 'a cycle', nodes);
        await eventually(() => nodes.every((n) => (n.status().batch?.version ?? 0) >= version), `every node to serve batch version ${version}`);
      };
      /** Every object of the store (archive and view files), fetched afresh, that holds `needle`. */
      const objectsHolding = async (needle: string) => {
        const fetched = join(dir, 'fetched');
        await rm(fetched, { recursive: true, force: true });
        await mkdir(fetched, { recursive: true });
        for (const { name } of await blobs.list('')) await blobs.get(name, join(fetched, name.replaceAll('/', '_')));
        return (await filesHolding(fetched, needle)).map((f) => f.slice(fetched.length + 1));
      };
      try {
        const old = usageEvents(0, 140, 7, OLD_BASE);
        await ingest(old);
        await batch(0);
        const fresh = usageEvents(1_000, 90, 7, NEW_BASE);
        await ingest(fresh.slice(0, 60));
        // This cycle retires the old objects: both views freeze their aggregates of them.
        await batch(1);
        for (const node of nodes) assert.equal(node.status().retention?.retiredEvents, old.length, `${node.name}: every old event retired`);
        await ingest(fresh.slice(60));
        assert.ok((await objectsHolding(ERASED_CUSTOMER)).some((f) => f.includes('.frozen-')), 'a frozen part holds the customer before the erasure');

        const audit = await bounded(nodes[1]!.erase({ eventType: 'usage', where: { customer: ERASED_CUSTOMER } }), 'an erasure of a customer', nodes);
        const erased = (e: UsageEvent) => e.customer === ERASED_CUSTOMER;
        const [customerFrozen, planFrozen] = audit.frozen ?? [];
        assert.equal(audit.frozen?.length, 2, JSON.stringify(audit));
        assert.ok(customerFrozen?.outcome === 'dropped' && customerFrozen.view === 'by_customer' && customerFrozen.rows >= 1, JSON.stringify(audit));
        assert.equal(customerFrozen.events, old.filter(erased).length, 'the rows dropped counted every old erased event');
        assert.deepEqual(planFrozen, { view: 'by_plan', outcome: 'counted' });

        const expected = await reference([...old, ...fresh].filter((e) => !erased(e)));
        const byPlanExpected = await reference([...old, ...fresh.filter((e) => !erased(e))]);
        for (const node of nodes) {
          const got = await answersAfter(node, position);
          assert.deepEqual(got.slice(0, 2), expected.slice(0, 2), `${node.name}: by_customer answers without the erased customer, over the frozen range too`);
          assert.deepEqual(got.slice(2), byPlanExpected.slice(2), `${node.name}: by_plan keeps its frozen aggregates`);
        }
        assert.deepEqual(await objectsHolding(ERASED_CUSTOMER), [], 'no object holds the erased customer');
        const holding = async () => (await Promise.all(nodes.map((node) => filesHolding(join(dir, node.name), ERASED_CUSTOMER)))).flat();
        await eventually(async () => (await holding()).length === 0, 'every node to let go of the erased value', { timeoutMs: 30_000, intervalMs: 500 }).catch(() => undefined);
        assert.deepEqual(await holding(), [], 'no node\'s directory holds the erased customer');

        // A later full cycle carries the rewritten parts; a node restarted loads them.
        await batch(0);
        await nodes[2]!.close();
        nodes[2] = await open('c');
        await eventually(() => (nodes[2]!.status().batch?.version ?? 0) > 0, 'the restarted node to serve a version');
        for (const node of nodes) assert.deepEqual((await answersAfter(node, position)).slice(0, 2), expected.slice(0, 2), `${node.name} after another cycle`);
      } finally {
        for (const node of nodes) await node.close().catch(() => undefined);
        await nc.close();
      }
    });
  });
});
