/**
 * A node's name is claimed against the registry on a real NATS server: a
 * name whose heartbeat another process still writes is refused, whatever the
 * entry's timestamp says; a name left by a clean stop, or by a process that
 * died (its entry silent, or old), is taken at once or after the liveness
 * window; and a process stopping after another took its name over leaves
 * that one's entry alone.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectNats, NodeNameTakenError } from '../../../src/backends/nats/internal.ts';
import type { Heartbeat } from '../../../src/backends/nats/heartbeat.ts';
import { FORGET_AFTER_MS, NodeRegistry } from '../../../src/backends/nats/node-registry.ts';
import { NatsCluster, natsSkipReason } from '../../support/nats-cluster.ts';

/** Short enough to keep the suite quick, long enough for several beats of a live writer every 100 ms. */
const LIVENESS_MS = 1_500;

const beatOf = (instance: string, at = Date.now()): Heartbeat => ({
  node: 'n1', instance, host: 'box', pid: 42, url: `http://${instance}.example:8080`, applied: [0], batchVersion: null, at,
});

describe('node registry', { skip: natsSkipReason(), timeout: 180_000 }, () => {
  let nats: NatsCluster | undefined;
  let nc: NatsConnection | undefined;
  let buckets = 0;
  before(async () => {
    nats = await NatsCluster.start({ size: 1 });
    nc = await connectNats({ servers: nats.urls });
  });
  after(async () => {
    await nc?.close();
    await nats?.stop();
  });
  const registry = () => NodeRegistry.open(nc!, `registry_test_${buckets++}`, 1);

  /** Milliseconds `task` took. */
  const timed = async (task: () => Promise<unknown>) => {
    const started = Date.now();
    await task();
    return Date.now() - started;
  };

  test('node registry - a name another process still beats under is refused, naming where it runs', async () => {
    const r = await registry();
    await r.claim(beatOf('live'), LIVENESS_MS);
    const beating = setInterval(() => void r.beat(beatOf('live')).catch(() => undefined), 100);
    try {
      await assert.rejects(r.claim(beatOf('second'), LIVENESS_MS), (error: unknown) => {
        assert.ok(error instanceof NodeNameTakenError, String(error));
        assert.equal(error.node, 'n1');
        assert.equal(error.message, "Node name 'n1' is in use by a running node on box (pid 42) at http://live.example:8080: start this one with another --node name, or, if that node has died, start this one again once it has been silent for 2 s.");
        return true;
      });
      // Even with a timestamp far in the past (another host's clock): what counts is that the entry keeps changing.
      const skewed = setInterval(() => void r.beat(beatOf('live', Date.now() - 30_000)).catch(() => undefined), 100);
      try {
        await assert.rejects(r.claim(beatOf('third'), LIVENESS_MS), NodeNameTakenError);
      } finally {
        clearInterval(skewed);
      }
    } finally {
      clearInterval(beating);
    }
    assert.equal((await r.nodes()).find((n) => n.node === 'n1')?.instance, 'live', 'a refused claim writes nothing');
  });

  test('node registry - a name whose process died is taken over: at once when its entry is old, after the liveness window when it is recent', async () => {
    const r = await registry();
    await r.claim(beatOf('crashed'), LIVENESS_MS);
    const waited = await timed(() => r.claim(beatOf('restarted'), LIVENESS_MS));
    assert.ok(waited >= LIVENESS_MS, `a recent silent entry is watched for ${LIVENESS_MS} ms first, not ${waited}`);
    assert.equal((await r.nodes()).find((n) => n.node === 'n1')?.instance, 'restarted');

    await r.beat(beatOf('long-gone', Date.now() - FORGET_AFTER_MS - 1_000));
    assert.ok(await timed(() => r.claim(beatOf('fresh'), LIVENESS_MS)) < LIVENESS_MS, 'an entry older than the registry lists is not watched');
    assert.ok(await timed(() => r.claim(beatOf('fresh'), LIVENESS_MS)) < LIVENESS_MS, 'a process claims its own name again at once');
  });

  test('node registry - nodes beating while the registry is listed are listed once each', async () => {
    const r = await registry();
    const names = Array.from({ length: 12 }, (_, i) => `n${i}`);
    const beat = (node: string) => r.beat({ ...beatOf(`i-${node}`), node });
    await Promise.all(names.map(beat));
    // The key listing is a live consumer: a beat landing while it runs lists its key again, unless the census drops it.
    let beating = true;
    const beats = (async () => {
      while (beating) await Promise.all(names.map(beat));
    })();
    try {
      for (let round = 0; round < 40; round++) assert.deepEqual((await r.nodes()).map((n) => n.node), [...names].sort());
    } finally {
      beating = false;
      await beats;
    }
  });

  test('node registry - a clean stop frees the name at once; a process whose name was taken over leaves the new entry alone', async () => {
    const r = await registry();
    await r.claim(beatOf('first'), LIVENESS_MS);
    await r.leave('n1', 'first');
    assert.deepEqual(await r.nodes(), []);
    assert.ok(await timed(() => r.claim(beatOf('second'), LIVENESS_MS)) < LIVENESS_MS, 'a name left cleanly is taken at once');
    await r.leave('n1', 'first');
    assert.equal((await r.nodes())[0]?.instance, 'second', 'the stale process did not remove the new one');
  });
});
