/**
 * Cluster numbers a user can read (issue #32): two nodes in this process on
 * a real NATS server, four partitions. Ingests of many events each (one
 * message per partition and request), with copies of earlier events sent
 * again: every node's status counts each partition's events exactly (their
 * sum is the distinct events accepted, while the sequences count far fewer
 * messages), before and after a cycle; the archive's events and bytes match
 * what the object store holds; `/v1/status` carries them through its schema
 * and `tandem status` prints them. And the one ingest rule: an answer on
 * either node includes an ingest's events exactly when `answerIncludes(meta,
 * position)` says so, and with `after: position` it always does.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Objm } from '@nats-io/obj';
import { ClusterNode } from '../../../src/backends/nats/internal.ts';
import { formatStatus, type StatusAnswer } from '../../../src/cli/format-status.ts';
import { answerIncludes } from '../../../src/client/index.ts';
import type { ClusterStatus } from '../../../src/engine/index.ts';
import { createServer } from '../../../src/server/index.ts';
import { answerValidator } from '../../support/answer-validator.ts';
import { eventually } from '../../support/eventually.ts';
import { NatsCluster, natsSkipReason } from '../../support/nats-cluster.ts';
import { shopConfig } from '../../support/shop-config.ts';
import { withTempDir } from '../../support/temp-dir.ts';

const LEASE_MS = 3_000;
const PARTITIONS = 4;
const BASE = Date.UTC(2024, 2, 1);

const order = (i: number) => ({ id: `o${i}`, at: BASE + i * 60_000, country: ['DE', 'FR', 'US'][i % 3]!, mobile: i % 2 === 0, amount: (i % 50) + 0.25, qty: i % 4 });
const orders = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => order(from + i));
const ordersIn = (rows: readonly Record<string, unknown>[]) => rows.reduce((n, r) => n + Number(r.orders), 0);

/** The cluster as `node`'s status shows it. */
function clusterOf(node: ClusterNode): ClusterStatus {
  return node.status().cluster!;
}

describe('cluster numbers', { skip: natsSkipReason(), timeout: 300_000 }, () => {
  let nats: NatsCluster | undefined;
  before(async () => {
    nats = await NatsCluster.start({ size: 1 });
  });
  after(async () => {
    await nats?.stop();
  });

  test('status counts each partition\'s events exactly, and the archive\'s events and bytes; the ingest rule holds on every node', async () => {
    await withTempDir(async (dir) => {
      const config = { ...shopConfig, cluster: { name: 'numbers', partitions: PARTITIONS, replicas: 1 } };
      const open = (name: string) => ClusterNode.open({ dataDir: `${dir}/${name}`, config, servers: nats!.urls, node: name, partitionLeaseMs: LEASE_MS });
      const nodes = [await open('a'), await open('b')];
      let distinct = 0;
      let position = new Array<number>(PARTITIONS).fill(0);
      const ingest = async (node: ClusterNode, events: readonly object[], fresh: number) => {
        const result = await node.ingest('order', events);
        assert.equal(result.accepted, events.length);
        assert.equal(result.duplicates, events.length - fresh);
        assert.equal(result.lastOffset, null, 'a cluster has no offsets');
        distinct += fresh;
        position = position.map((seq, p) => Math.max(seq, result.position![p]!));
        return result;
      };
      /** Every node counts `distinct` events over the partitions, each partition's told by its holder. */
      const countsAll = (when: string) => eventually(
        () => nodes.every((n) => clusterOf(n).events === distinct),
        () => `every node to count ${distinct} events ${when}: ${nodes.map((n) => `${n.name} ${JSON.stringify(clusterOf(n).partitions.map((p) => p.events))}`).join('; ')}`,
        { timeoutMs: 30_000, intervalMs: 100 },
      );
      try {
        // Ten requests of 200 events: each is one message per partition, so sequences stay far below the events.
        for (let r = 0; r < 10; r++) await ingest(nodes[r % 2]!, orders(r * 200, (r + 1) * 200), 200);
        // Copies of 150 earlier events, through the other node: duplicates, counted once.
        await ingest(nodes[1]!, orders(0, 150), 0);
        await countsAll('before a cycle');
        for (const node of nodes) {
          const cluster = clusterOf(node);
          const messages = cluster.partitions.reduce((n, p) => n + p.applied, 0);
          assert.ok(messages < distinct / 10, `${node.name}: ${messages} messages carry ${distinct} events`);
          assert.ok(cluster.partitions.every((p) => p.events! > 0 && p.archivedEvents === 0), JSON.stringify(cluster.partitions));
        }

        await nodes[0]!.runBatch();
        await ingest(nodes[0]!, orders(2_000, 2_100), 100);
        await countsAll('after a cycle and more ingest');
        await eventually(() => nodes.every((n) => n.status().batch?.version === 1), 'both nodes to serve version 1');
        const nc = await nats!.connect();
        const objects = await (await new Objm(nc).open('numbers_master')).list().finally(() => nc.close());
        // The events' Parquet objects: the duplicate rule's snapshots (master/filters/) are not events.
        const stored = objects.filter((o) => !o.deleted && o.name.startsWith('master/order/')).reduce((n, o) => n + o.size, 0);
        assert.ok(stored > 0);
        await eventually(() => nodes.every((n) => clusterOf(n).archiveBytes === stored), () => `both nodes to report the archive's ${stored} bytes: ${nodes.map((n) => clusterOf(n).archiveBytes).join(', ')}`);
        for (const node of nodes) {
          const cluster = clusterOf(node);
          assert.equal(cluster.partitions.reduce((n, p) => n + p.archivedEvents!, 0), 2_000, `${node.name}: the archive holds the events below the cutoff`);
          assert.equal(cluster.partitions.reduce((n, p) => n + p.archiveBytes!, 0), stored);
        }

        // /v1/status carries the numbers through its schema, and tandem status prints them.
        const server = createServer({ tandem: nodes[1]! });
        try {
          const answer = (await server.app.inject({ url: '/v1/status' })).json() as StatusAnswer & { cluster: ClusterStatus };
          const doc = (await server.app.inject({ url: '/openapi.json' })).json() as { components: { schemas: Record<string, unknown> } };
          assert.equal(answerValidator(doc.components)({ $ref: '#/components/schemas/Status' }, answer), undefined, 'the status validates against its schema');
          assert.equal(answer.cluster.events, distinct);
          assert.equal(answer.cluster.archiveBytes, stored);
          assert.deepEqual(answer.cluster.partitions.map((p) => p.archivedEvents), clusterOf(nodes[1]!).partitions.map((p) => p.archivedEvents));
          const printed = formatStatus(answer);
          assert.match(printed, new RegExp(`^master dataset  ${distinct.toLocaleString('en-US')} events · .* · archive 2,000 events in [\\d.]+ KiB · [\\d,]+ messages applied$`, 'm'));
          assert.equal(printed.match(/^ {2}partition \d+ +[\d,]+ events · archive [\d,]+ events in .* · [\d,]+ messages? applied · owner [ab]$/gm)?.length, PARTITIONS, printed);
        } finally {
          await server.app.close();
        }

        // The ingest rule, on both nodes: an answer includes an ingest exactly when answerIncludes says so.
        for (const [i, node] of nodes.entries()) {
          const other = nodes[1 - i]!;
          const before = ordersIn((await other.query({ view: 'all_time', granularity: 'all' })).rows);
          const result = await ingest(node, orders(3_000 + i * 100, 3_100 + i * 100), 100);
          const asked = await other.query({ view: 'all_time', granularity: 'all' });
          const included = ordersIn(asked.rows) === before + 100;
          assert.equal(answerIncludes(asked.meta, result.position), included, `${other.name}: meta.applied ${asked.meta.applied} against position ${result.position}`);
          const waited = await other.query({ view: 'all_time', granularity: 'all', after: result.position! });
          assert.ok(answerIncludes(waited.meta, result.position), 'an answer with after includes the ingest');
          assert.equal(ordersIn(waited.rows), before + 100);
        }
        await countsAll('at the end');
      } finally {
        await Promise.allSettled(nodes.map((n) => n.close()));
      }
    });
  });
});
