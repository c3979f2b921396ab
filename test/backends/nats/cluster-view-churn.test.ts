/**
 * A view changed again and again while a cluster ingests without pause
 * (issue #31): three nodes on a real NATS server, six partitions. Each
 * round asks one node for the next definition of the view; once every node
 * serves it, every node answers it exactly as the reference over every
 * event acknowledged so far (read at their position), and the other views
 * keep answering exactly. In one round the node holding the batch lease
 * leaves right after the change is asked for: the next holder switches it
 * in. After the rounds no node lists a change left.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ClusterNode } from '../../../src/backends/nats/internal.ts';
import { defineView, type ViewJson } from '../../../src/index.ts';
import { eventually } from '../../support/eventually.ts';
import { bounded } from '../../support/hang-guard.ts';
import { NatsCluster, natsSkipReason } from '../../support/nats-cluster.ts';
import type { RefEvent } from '../../support/reference.ts';
import { checkViewAnswers } from '../../support/check-answers.ts';
import { order as orderType, shopConfig } from '../../support/shop-config.ts';
import { withTempDir } from '../../support/temp-dir.ts';

const LEASE_MS = 3_000;
const BASE = Date.UTC(2024, 2, 1);
const COUNTRIES = ['DE', 'FR', 'US', 'BR'];
const ROUNDS = 6;
/** The round in which the batch node leaves right after the change is asked for. */
const LEAVING_ROUND = 3;

function order(i: number): { ref: RefEvent; raw: Record<string, unknown> } {
  const ref: RefEvent = {
    id: `o${i}`, at: BASE + ((i * 7_919) % (40 * 24)) * 3_600_000 + (i % 60) * 60_000, country: COUNTRIES[i % 4]!,
    device: i % 5 === 0 ? null : i % 2 === 0 ? 'ios' : 'web', mobile: i % 3 === 0, cents: (i * 37) % 50_000 - 100, qty: i % 7,
  };
  const raw: Record<string, unknown> = { id: ref.id, at: ref.at, country: ref.country, mobile: ref.mobile, amount: ref.cents / 100, qty: ref.qty };
  if (ref.device !== null) raw.device = ref.device;
  return { ref, raw };
}

/** The definitions the rounds go through, in turn. */
const DEFINITIONS: ViewJson[] = [
  defineView(orderType, { name: 'churn', dimensions: ['country'], granularity: 'day', measures: { orders: { type: 'count' }, spend: { type: 'sum', field: 'amount' } } }),
  defineView(orderType, {
    name: 'churn', dimensions: ['mobile'], granularity: 'week',
    measures: { orders: { type: 'count' }, sizes: { type: 'countDistinct', field: 'qty' }, p: { type: 'quantiles', field: 'qty', quantiles: [0.5] } },
    filter: [{ field: 'country', op: '!=', value: 'BR' }],
  }),
  defineView(orderType, { name: 'churn', dimensions: ['device', 'country'], granularity: 'hour', measures: { smallest: { type: 'min', field: 'amount' }, n: { type: 'count', filter: [{ field: 'qty', op: '>', value: 2 }] } } }),
];


describe('a view changed round after round under steady ingest', { skip: natsSkipReason(), timeout: 600_000 }, () => {
  let nats: NatsCluster | undefined;
  before(async () => {
    nats = await NatsCluster.start({ size: 1 });
  });
  after(async () => {
    await nats?.stop();
  });

  test('every node answers each new definition exactly once it serves it, through the batch node leaving mid-change', async (t) => {
    await withTempDir(async (dir) => {
      const config = { ...shopConfig, views: [...shopConfig.views, DEFINITIONS[0]!], cluster: { name: 'viewchurn', partitions: 6, replicas: 1 } };
      const open = (name: string) => ClusterNode.open({ dataDir: `${dir}/${name}`, config, servers: nats!.urls, node: name, partitionLeaseMs: LEASE_MS, leaseMs: LEASE_MS });
      const nodes: ClusterNode[] = [await open('a'), await open('b'), await open('c')];
      const events: RefEvent[] = [];
      let position: number[] = new Array<number>(6).fill(0);
      let next = 0;
      let ingesting = true;
      let ingestError: unknown;
      // Paused while answers are checked: an answer read at a position holds every event acknowledged before it, and may hold later ones.
      let paused: Promise<void> | undefined;
      let resume = () => {};
      let idle = () => {};
      // Steady ingest through every node in turn, acknowledged batches only into the reference.
      const steady = (async () => {
        for (let turn = 0; ingesting; turn++) {
          if (paused !== undefined) {
            idle();
            await paused;
          }
          const node = nodes[turn % nodes.length]!;
          const batch = Array.from({ length: 25 }, () => order(next++));
          try {
            const result = await node.ingest('order', batch.map((e) => e.raw));
            position = position.map((seq, p) => Math.max(seq, result.position?.[p] ?? 0));
            events.push(...batch.map((e) => e.ref));
          } catch (error) {
            // A node closed between the pick and the ingest: nothing was acknowledged, the batch is sent again elsewhere.
            if (!String(error).includes('clos')) ingestError = error;
          }
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      })();
      try {
        await eventually(() => events.length >= 300, 'the first events');
        await bounded(nodes[0]!.runBatch(), 'the first cycle', nodes);
        const switchMs: number[] = [];
        for (let round = 1; round <= ROUNDS; round++) {
          const definition = DEFINITIONS[round % DEFINITIONS.length]!;
          const asked = nodes[round % nodes.length]!;
          const began = performance.now();
          const answer = await asked.applyView(definition);
          assert.equal(answer.version, round + 1, `round ${round}: the version asked for`);
          if (round === LEAVING_ROUND) {
            // The batch node leaves: another takes the lease once it is released and switches the change in.
            const holder = nodes.find((n) => n.status().cluster?.batchNode === n.name) ?? nodes[0]!;
            await holder.close();
            nodes.splice(nodes.indexOf(holder), 1, await open(holder.name));
          }
          await eventually(() => nodes.every((n) => n.catalog.views.get('churn')?.definition.granularity === definition.granularity && n.status().viewVersions.churn === round + 1),
            () => `round ${round}: every node to serve version ${round + 1}: ${nodes.map((n) => `${n.name} v${n.status().viewVersions.churn}`).join(', ')}`, { timeoutMs: 90_000, intervalMs: 20 });
          if (round !== LEAVING_ROUND) switchMs.push(performance.now() - began);
          const stopped = new Promise<void>((resolve) => (idle = resolve));
          paused = new Promise<void>((resolve) => (resume = resolve));
          await stopped;
          try {
            for (const node of nodes) {
              await checkViewAnswers(node, definition, events, position, `round ${round}`);
              await checkViewAnswers(node, shopConfig.views[0]!, events, position, `round ${round}, a view left alone`);
            }
          } finally {
            paused = undefined;
            resume();
          }
        }
        assert.equal(ingestError, undefined, String(ingestError));
        const sorted = switchMs.sort((x, y) => x - y);
        t.diagnostic(`apply to every node serving, ${sorted.length} rounds under ingest: median ${Math.round(sorted[Math.floor(sorted.length / 2)]!)} ms, min ${Math.round(sorted[0]!)}, max ${Math.round(sorted.at(-1)!)}; ${events.length} events`);
        // Each node reads the views record at its next poll: the changes switched in leave its list then.
        await eventually(() => nodes.every((n) => n.status().viewChanges.length === 0), () => `no node to list a change: ${nodes.map((n) => `${n.name} ${JSON.stringify(n.status().viewChanges)}`).join('; ')}`, { timeoutMs: 20_000 });
      } finally {
        ingesting = false;
        paused = undefined;
        resume();
        await steady;
        await Promise.allSettled(nodes.map((n) => n.close()));
      }
    });
  });
});
