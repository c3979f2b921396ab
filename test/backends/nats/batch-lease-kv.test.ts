/**
 * The batch lease on a real JetStream KV bucket on a 3-server cluster, over
 * separate connections, as between nodes. The bucket has one replica: on
 * nats-server 2.9 a replicated bucket's compare-and-set let two racing
 * writers both win (bench/cluster/kv-cas-race.ts). Nodes race for the lease
 * round after round and exactly one wins each; a node whose lease was taken
 * over cannot publish; and when the bucket's server is killed, no node holds
 * the lease until it is back, after which the lease moves and the old holder
 * stays fenced.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BatchControl, KvRevisionedStore, type ControlRecord } from '../../../src/backends/nats/internal.ts';
import { eventually } from '../../support/eventually.ts';
import { clusterForSuite, natsSkipReason } from '../../support/nats-cluster.ts';

const skip = natsSkipReason();

describe('batch lease on JetStream KV', { skip, timeout: 240_000 }, () => {
  const suite = clusterForSuite();
  const node = async (name: string, bucket: string, clock: { now: number }): Promise<BatchControl> => {
    const nc = await suite.connect({ servers: suite.cluster.urls, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
    const store = await KvRevisionedStore.open<ControlRecord>(nc, { bucket });
    return new BatchControl(store, { node: name, leaseMs: 1_000, now: () => clock.now });
  };


  test('lease - three nodes race twenty times: exactly one wins each round, and only it can publish', async () => {
    const clock = { now: 1_000_000 };
    const nodes = await Promise.all(['a', 'b', 'c'].map((name) => node(name, 'race_control', clock)));
    let handovers = 0;
    let holder = -1;
    for (let round = 1; round <= 20; round++) {
      clock.now += 2_000; // every lease of the round before has expired
      const won = await Promise.all(nodes.map((n) => n.acquire()));
      assert.equal(won.filter(Boolean).length, 1, `round ${round}: ${won}`);
      if (won.indexOf(true) !== holder) handovers++;
      holder = won.indexOf(true);
      const outcomes = await Promise.all(nodes.map((n) => n.publish(round, [round])));
      assert.deepEqual(outcomes.map((o) => o.ok), won, `round ${round}: only the holder publishes`);
    }
    const record = await nodes[0]!.read();
    assert.equal(record.published?.version, 20);
    assert.equal(record.lease?.term, handovers, 'the term counts the hand-overs');
  });

  test('lease - while the bucket\'s server is down no node takes the lease; once it is back, the lease moves and the old holder stays fenced', async () => {
    const clock = { now: 5_000_000 };
    const [a, b] = await Promise.all([node('a', 'kill_control', clock), node('b', 'kill_control', clock)]);
    assert.equal(await a.acquire(), true);
    assert.deepEqual(await a.publish(1, [1]), { ok: true });
    const server = (await suite.cluster.leaderOf('KV_kill_control')) ?? 0;
    suite.cluster.kill(server, 'SIGKILL');
    clock.now += 2_000;
    assert.equal(await b.acquire().catch(() => false), false, 'no lease without the bucket');
    await suite.cluster.restart(server);
    await eventually(() => b.acquire(), 'b to take the expired lease once the bucket\'s server is back', { timeoutMs: 90_000, intervalMs: 250 });
    assert.deepEqual(await a.publish(2, [2]), { ok: false, reason: 'not the lease holder' });
    assert.deepEqual(await b.publish(2, [2]), { ok: true });
  });
});
