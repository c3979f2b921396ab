/**
 * An erasure of more keyed events than one seal's message can name: the
 * hashes of their idempotency keys (19 bytes each in a seal's body) go out
 * over several seals in a row, each within the log's message size (512 KiB
 * by default, less where the servers' `max_payload` is smaller). Before,
 * one seal named them all, the servers refused it past their `max_payload`
 * (here 256 KiB, about 13,000 hashes; at the default 1 MiB, about 55,000),
 * and the erasure could never complete. Every node then answers without the
 * events, and an erased key sent again counts once, on every node.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ClusterNode } from '../../../src/backends/nats/internal.ts';
import { byCustomer, ERASED_CUSTOMER, erasureConfig, reference, usageEvents, type UsageEvent } from '../../support/erasure-fixture.ts';
import { bounded } from '../../support/hang-guard.ts';
import { NatsCluster, natsSkipReason } from '../../support/nats-cluster.ts';
import { canonicalRows } from '../../support/reference.ts';
import { withTempDir } from '../../support/temp-dir.ts';

const PARTITIONS = 2;
/** More than two seals hold under {@link MAX_PAYLOAD}. */
const ERASED = 30_000;
const MAX_PAYLOAD = 256 * 1024;

describe('an erasure of many keyed events', { skip: natsSkipReason(), timeout: 300_000 }, () => {
  let nats: NatsCluster | undefined;
  before(async () => {
    nats = await NatsCluster.start({ size: 1, maxPayload: MAX_PAYLOAD });
  });
  after(async () => {
    await nats?.stop();
  });

  test('its keys are forgotten over several seals, and every node answers as if the events were never stored', async () => {
    await withTempDir(async (dir) => {
      const config = { ...erasureConfig, cluster: { name: 'erasuremany', partitions: PARTITIONS, replicas: 1 } };
      const open = (name: string) => ClusterNode.open({ dataDir: join(dir, name), config, servers: nats!.urls, node: name, leaseMs: 3_000 });
      const nodes: ClusterNode[] = [await open('a'), await open('b')];
      let position = new Array<number>(PARTITIONS).fill(0);
      const send = async (node: ClusterNode, events: readonly UsageEvent[]) => {
        const result = await bounded(node.ingest('usage', events), `an ingest through ${node.name}`, nodes);
        position = position.map((seq, p) => Math.max(seq, result.position?.[p] ?? 0));
        return result;
      };
      const answers = async (node: ClusterNode) => JSON.stringify(canonicalRows((await node.query({ view: byCustomer.name, groupBy: ['customer'], granularity: 'all', after: position })).rows));
      try {
        const erased = usageEvents(0, ERASED, 1);
        const others = usageEvents(ERASED, 500, 1e9);
        for (let at = 0; at < erased.length; at += 5_000) await send(nodes[(at / 5_000) % 2]!, erased.slice(at, at + 5_000));
        await send(nodes[1]!, others);
        await bounded(nodes[0]!.runBatch(), 'a cycle', nodes);

        const audit = await bounded(nodes[1]!.erase({ eventType: 'usage', where: { customer: ERASED_CUSTOMER } }, { by: 'test' }), 'the erasure', nodes);
        assert.equal(audit.events, ERASED);
        const expected = (await reference(others))[0];
        for (const node of nodes) assert.equal(await answers(node), expected, `${node.name} answers without the erased events`);

        // Keys from the first and the last share of the seals, sent again: new on every node, once.
        const back = [erased[0]!, erased.at(-1)!].map((e, i) => ({ ...e, customer: 'cust-back', at: Date.UTC(2025, 2, 1) + i }));
        assert.equal((await send(nodes[0]!, back)).duplicates, 0);
        assert.equal((await send(nodes[1]!, back)).duplicates, back.length);
        const later = (await reference([...others, ...back]))[0];
        for (const node of nodes) assert.equal(await answers(node), later, `${node.name} counts each key sent again once`);
        await bounded(nodes[1]!.runBatch(), 'a cycle after the erasure', nodes);
        for (const node of nodes) assert.equal(await answers(node), later, `${node.name} answers so from the batch layer too`);
      } finally {
        for (const node of nodes) await node.close().catch(() => undefined);
      }
    });
  });
});
