/**
 * Erasure of retired events in cluster mode (issue #31), on three nodes of a
 * real 3-server NATS cluster with a clock the test moves: old events are
 * retired by retention (their objects leave the chain but stay in the object
 * store for the grace period, and their keys stay for good in key-only
 * objects). Then one customer and one event by its id are erased, and:
 * - no archive object (fetched from the object store, retired and key-only
 *   ones included) and no file of a node's directory holds either value;
 * - the retired figures count the erased events out;
 * - a re-sent copy of an erased retired event's key counts once on every
 *   node, a node restarted from the archive included, while a copy of a
 *   retired event not erased is still a duplicate;
 * - every node answers exactly as an engine that only stored what remains.
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
const GRACE_MS = 5 * DAY;
/** The old events' day: retired once the clock reads {@link NEW_BASE} and later. */
const OLD_BASE = Date.UTC(2025, 0, 1);
const NEW_BASE = OLD_BASE + 100 * DAY;
/** The usage type of the erasure fixture, with retention: its views answer as the fixture's reference over what is not retired. */
const retained = defineEventType({ ...usage, retention: '30d' });
const config = defineConfig({
  eventTypes: [retained],
  views: [defineView(retained, { ...byCustomer }), defineView(retained, { ...byPlan })],
  cluster: { name: 'eraseretired', partitions: PARTITIONS, replicas: 1 },
});
describe('erasure of retired events in cluster mode', { skip: natsSkipReason(), timeout: 300_000 }, () => {
  let nats: NatsCluster | undefined;
  before(async () => {
    nats = await NatsCluster.start({ size: 3 });
  });
  after(async () => {
    await nats?.stop();
  });

  test('retired objects and key-only objects are written again without the erased events, and an erased retired key counts once when sent again', async () => {
    await withTempDir(async (dir) => {
      const clock = { now: NEW_BASE + DAY };
      const open = (name: string) => ClusterNode.open({
        dataDir: join(dir, name), config, servers: nats!.urls, node: name, leaseMs: 3_000, now: () => clock.now, retentionGraceMs: GRACE_MS,
      });
      const nodes: ClusterNode[] = [await open('a'), await open('b'), await open('c')];
      const nc = await connectNats({ servers: nats!.urls });
      const blobs = await ObjectBlobStore.open(nc, { bucket: 'eraseretired_master', replicas: 1 });
      let position = new Array<number>(PARTITIONS).fill(0);
      const track = (result: { position?: readonly number[] | null }) => {
        position = position.map((seq, p) => Math.max(seq, result.position?.[p] ?? 0));
      };
      const ingest = async (events: readonly UsageEvent[]) => {
        const third = Math.ceil(events.length / 3);
        for (const [i, node] of nodes.entries()) track(await bounded(node.ingest('usage', events.slice(i * third, (i + 1) * third)), `an ingest through ${node.name}`, nodes));
      };
      const batch = async (i: number) => {
        const { version } = await bounded(nodes[i]!.runBatch(), 'a cycle', nodes);
        await eventually(() => nodes.every((n) => (n.status().batch?.version ?? 0) >= version), `every node to serve batch version ${version}`);
      };
      /** Every archive object the object store holds, fetched afresh, that holds `needle`. */
      const objectsHolding = async (needle: string) => {
        const fetched = join(dir, 'fetched');
        await rm(fetched, { recursive: true, force: true });
        await mkdir(fetched, { recursive: true });
        const names = (await blobs.list('master/')).map((b) => b.name);
        for (const name of names) await blobs.get(name, join(fetched, name.replaceAll('/', '_')));
        return (await filesHolding(fetched, needle)).map((f) => f.slice(fetched.length + 1));
      };
      try {
        const old = usageEvents(0, 140, 7, OLD_BASE);
        // An event of another customer, erased by its id (the key itself): no other id contains it.
        const erasedId = old[94]!.id;
        assert.equal(old.filter((e) => e.id.includes(erasedId)).length, 1);
        assert.notEqual(old[94]!.customer, ERASED_CUSTOMER);
        await ingest(old);
        await batch(0);
        // The next cycle retires the old objects (a version serves them now) and archives the new events.
        const fresh = usageEvents(1_000, 90, 7, NEW_BASE);
        await ingest(fresh.slice(0, 60));
        await batch(1);
        for (const node of nodes) {
          assert.equal(node.status().retention?.retiredEvents, old.length, `${node.name}: every old event retired`);
          assert.ok((node.status().retention?.awaitingDeletion ?? 0) > 0, `${node.name}: the retired objects wait for their grace period`);
        }
        // Some events only in the streams.
        await ingest(fresh.slice(60));

        // What the erasures must take out: retired objects and key-only objects hold both values now.
        const retiredHolding = await objectsHolding(erasedId);
        assert.ok(retiredHolding.some((f) => f.startsWith('master__retired-keys_')), 'a key-only object holds the id');
        assert.ok(retiredHolding.some((f) => f.startsWith('master_usage_')), 'a retired object holds the id');

        const byCustomerAudit = await bounded(nodes[1]!.erase({ eventType: 'usage', where: { customer: ERASED_CUSTOMER } }, { by: 'support@example.com' }), 'an erasure of a customer', nodes);
        const oldErased = old.filter((e) => e.customer === ERASED_CUSTOMER);
        const erasedEvents = [...old, ...fresh].filter((e) => e.customer === ERASED_CUSTOMER);
        assert.equal(byCustomerAudit.events, erasedEvents.length, 'the erasure counts the retired events it took out');
        const byIdAudit = await bounded(nodes[2]!.erase({ eventType: 'usage', where: { id: erasedId } }, { by: 'support@example.com' }), 'an erasure of an id', nodes);
        assert.equal(byIdAudit.events, 1);
        const gone = new Set([...erasedEvents.map((e) => e.id), erasedId]);


        let remaining = fresh.filter((e) => !gone.has(e.id));
        assert.deepEqual(await objectsHolding(ERASED_CUSTOMER), [], 'no archive object holds the erased customer');
        assert.deepEqual(await objectsHolding(erasedId), [], 'no archive object holds the erased id');
        for (const node of nodes) {
          assert.equal(node.status().retention?.retiredEvents, old.length - oldErased.length - 1, `${node.name}: the retired figures count the erased events out`);
          assert.deepEqual(await answersAfter(node, position), await reference(remaining), `${node.name} answers without the erased events`);
        }
        const holding = async () => (await Promise.all(nodes.flatMap((node) => [ERASED_CUSTOMER, erasedId].map((needle) => filesHolding(join(dir, node.name), needle))))).flat();
        await eventually(async () => (await holding()).length === 0, 'every node to let go of the erased values', { timeoutMs: 30_000, intervalMs: 500 }).catch(() => undefined);
        assert.deepEqual(await holding(), [], 'no node\'s directory holds an erased value');

        // Node c restarts: its duplicate rule is resumed from the archive (the streams are purged below the erasures' cutoffs).
        await nodes[2]!.close();
        nodes[2] = await open('c');
        // Erased retired keys sent again, now: new on every node, once; a retired key not erased is still a duplicate.
        const at = NEW_BASE + 2 * 3_600_000;
        const back = [erasedId, ...oldErased.slice(0, 5).map((e) => e.id)].map((id, i) => ({ id, at: at + i * 60_000, customer: 'cust-back', plan: 'pro', units: 5 + i }));
        const kept = old.find((e) => !gone.has(e.id))!;
        const sent = async (node: ClusterNode, events: readonly UsageEvent[]) => {
          const result = await bounded(node.ingest('usage', events), `an ingest through ${node.name}`, nodes);
          track(result);
          return result;
        };
        assert.equal((await sent(nodes[0]!, back.slice(0, 3))).duplicates, 0, 'a running node counts erased retired keys sent again');
        assert.equal((await sent(nodes[2]!, back.slice(3))).duplicates, 0, 'a node restarted from the archive counts erased retired keys sent again');
        const copy = await sent(nodes[2]!, [{ ...kept, at, customer: 'cust-back' }]);
        // A reader just restarted may not answer in time (the ingest then says it cannot count): the answers below count it.
        assert.ok(copy.duplicates === 1 || copy.stored === null, `a retired key not erased is still a duplicate on a restarted node: ${JSON.stringify(copy)}`);
        // A second copy of each is a duplicate; a reader not asked in time leaves some uncounted.
        const again = await sent(nodes[1]!, back);
        assert.ok(again.duplicates === back.length || (again.stored === null && again.duplicates < back.length), `duplicates ${again.duplicates}, stored ${again.stored}`);
        remaining = [...remaining, ...back];
        const expected = await reference(remaining);
        for (const node of nodes) assert.deepEqual(await answersAfter(node, position), expected, `${node.name} counts each erased key sent again once, from its speed layer`);
        await batch(2);
        for (const node of nodes) assert.deepEqual(await answersAfter(node, position), expected, `${node.name} counts each erased key sent again once, from the batch layer`);

        // Past the grace period the rewritten retired objects are deleted; their rewritten keys stay, and still leave out the erased ones.
        clock.now += GRACE_MS + DAY;
        await batch(0);
        await nodes[0]!.close();
        nodes[0] = await open('a');
        const later = await sent(nodes[0]!, [{ ...kept, at: at + 3_600_000, customer: 'cust-back' }]);
        assert.ok(later.duplicates === 1 || later.stored === null, `a retired key not erased is a duplicate once its object is deleted: ${JSON.stringify(later)}`);
        for (const node of nodes) {
          assert.equal(node.status().retention?.awaitingDeletion, 0, `${node.name}: nothing waits for deletion`);
          assert.deepEqual(await answersAfter(node, position), expected, `${node.name} answers alike after the deletion`);
        }
        // The keys sent again hold the erased values (ids name their customer) in the objects that archived them; the key-only objects hold none.
        for (const needle of [ERASED_CUSTOMER, erasedId]) {
          assert.deepEqual((await objectsHolding(needle)).filter((f) => f.startsWith('master__retired-keys_')), [], 'no key-only object holds an erased value after the deletion');
        }
      } finally {
        for (const node of nodes) await node.close().catch(() => undefined);
        await nc.close();
      }
    });
  });
});
