/**
 * A batch node killed and started again under its name finds the control
 * record naming it as the holder of a live lease term that its previous
 * process took: it cannot renew that term, only take a new one once it has
 * expired (up to a lease time later). A cycle asked meanwhile, of it or of
 * any other node, is a transient refusal: 503 `batch_lease_expiring` with
 * Retry-After set to the time the old term has left. A lease that another
 * live node holds stays a 409 `batch_lease_held` naming that node.
 *
 * The lease logic runs on an in-memory store with a test clock; then two
 * nodes in this process on a real NATS server, the record rewritten as a
 * killed process leaves it (a term of the node's name that its running
 * process never took), answer over HTTP.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { AddressInfo } from 'node:net';
import { BatchControl, type ControlRecord } from '../../../src/backends/nats/batch-control.ts';
import { errorPayload, remoteError } from '../../../src/backends/nats/batch-request-messages.ts';
import { BatchLeaseExpiringError, BatchLeaseHeldError } from '../../../src/backends/nats/errors.ts';
import { ClusterNode, connectNats, CONTROL_KEY, KvRevisionedStore } from '../../../src/backends/nats/internal.ts';
import { MemoryRevisionedStore } from '../../../src/backends/nats/revisioned-store.ts';
import { createClient, type RetryNotice } from '../../../src/client/index.ts';
import { createServer, type TandemServer } from '../../../src/server/index.ts';
import { httpError } from '../../../src/server/http-errors.ts';
import { NatsCluster, natsSkipReason } from '../../support/nats-cluster.ts';
import { withTempDir } from '../../support/temp-dir.ts';

const LEASE_MS = 15_000;
const SENTENCE = /^Batch node a restarted and cannot run cycles until the lease its previous process held expires in (\d+) s; retry then\.$/;

test('a restarted node that finds its name on a live lease term it did not take is told to wait until that term expires: 503, Retry-After the seconds left, rounded up', async () => {
  const clock = { now: 1_000_000 };
  const store = new MemoryRevisionedStore<ControlRecord>();
  const options = { node: 'a', leaseMs: LEASE_MS, now: () => clock.now };
  const killed = new BatchControl(store, options);
  assert.equal(await killed.acquire(), true);
  clock.now += 2_300;
  // The same name, a new process: the term in the record is not one it took.
  const restarted = new BatchControl(store, options);
  assert.equal(await restarted.acquire(), false);
  const refusal = await restarted.refusal();
  assert.ok(refusal instanceof BatchLeaseExpiringError, String(refusal));
  assert.deepEqual([refusal.node, refusal.expiresInMs, refusal.retryAfterMs], ['a', 12_700, 13_000]);
  assert.equal(refusal.message, 'Batch node a restarted and cannot run cycles until the lease its previous process held expires in 13 s; retry then.');
  const answer = httpError(refusal, 1_000);
  assert.equal(answer.status, 503);
  assert.deepEqual(answer.body, { error: { code: 'batch_lease_expiring', message: refusal.message } });
  assert.equal(answer.headers['retry-after'], '13');

  // A moment before the expiry it still says a second, never 0.
  clock.now += 12_699;
  assert.equal(await restarted.acquire(), false);
  assert.equal(httpError(await restarted.refusal(), 1_000).headers['retry-after'], '1');
  // Once the term expired the node takes the next one and runs cycles again.
  clock.now += 1;
  assert.equal(await restarted.acquire(), true);
  assert.equal(restarted.term, 2);
});

test('a lease another live node holds stays a 409 batch_lease_held naming it, also for a restarted node whose old term another node took over', async () => {
  const clock = { now: 1_000_000 };
  const store = new MemoryRevisionedStore<ControlRecord>();
  const control = (node: string) => new BatchControl(store, { node, leaseMs: LEASE_MS, now: () => clock.now });
  const a = control('a');
  const b = control('b');
  assert.equal(await b.acquire(), true);
  assert.equal(await a.acquire(), false);
  const held = await a.refusal();
  assert.ok(held instanceof BatchLeaseHeldError, String(held));
  assert.equal(held.holder, 'b');
  const answer = httpError(held, 1_000);
  assert.equal(answer.status, 409);
  assert.equal(answer.body.error.code, 'batch_lease_held');
  assert.equal(answer.headers['retry-after'], undefined);

  // a's previous process held the lease; it expired and b took it before the restarted a looked.
  const killed = control('a');
  clock.now += LEASE_MS;
  assert.equal(await killed.acquire(), true);
  clock.now += LEASE_MS;
  assert.equal(await b.acquire(), true);
  const restarted = control('a');
  assert.equal(await restarted.acquire(), false);
  const refusal = await restarted.refusal();
  assert.ok(refusal instanceof BatchLeaseHeldError && refusal.holder === 'b', String(refusal));
});

test('the refusal travels to the node that asked for the cycle with the time left, and answers 503 there too', () => {
  const back = remoteError('a', JSON.parse(JSON.stringify(errorPayload('a', new BatchLeaseExpiringError('a', 4_200)))) as never);
  assert.ok(back instanceof BatchLeaseExpiringError, String(back));
  assert.deepEqual([back.node, back.expiresInMs], ['a', 4_200]);
  const answer = httpError(back, 1_000);
  assert.deepEqual([answer.status, answer.body.error.code, answer.headers['retry-after']], [503, 'batch_lease_expiring', '5']);
});

describe('a batch node restarted on a real NATS server', { skip: natsSkipReason(), timeout: 120_000 }, () => {
  let nats: NatsCluster | undefined;
  before(async () => {
    nats = await NatsCluster.start({ size: 1 });
  });
  after(async () => {
    await nats?.stop();
  });

  test('POST /v1/batch on it and on another node answers 503 batch_lease_expiring with Retry-After until its old term expires; then the cycle runs', async () => {
    await withTempDir(async (dir) => {
      const config = {
        eventTypes: [{ name: 'hit', time: 'at', idempotencyKey: 'id', fields: { id: 'string', at: 'timestamp', page: 'string' } }],
        views: [{ name: 'pages', eventType: 'hit', dimensions: ['page'], granularity: 'hour', measures: { hits: { type: 'count' } } }],
        cluster: { name: 'restarted_batch_node', partitions: 2, replicas: 1 },
      };
      const leaseMs = 10_000;
      const running = new Set<ClusterNode>();
      const open = async (node: string) => {
        const opened = await ClusterNode.open({ dataDir: `${dir}/${node}`, config, servers: nats!.urls, node, leaseMs });
        running.add(opened);
        return opened;
      };
      const servers: TandemServer[] = [];
      const nc = await connectNats({ servers: nats!.urls });
      try {
        const first = await open('a');
        await first.ingest('hit', [{ id: 'h1', at: '2026-11-29T10:00:00Z', page: '/p1' }]);
        assert.equal((await first.runBatch()).version, 1);
        const control = await KvRevisionedStore.open<ControlRecord>(nc, { bucket: `${config.cluster.name}_control` });
        const held = (await control.get(CONTROL_KEY))!.value.lease!;
        // Killed, node a would leave its lease as it was; closed, it lets it go: put it back as a kill leaves it.
        running.delete(first);
        await first.close();
        const released = (await control.get(CONTROL_KEY))!;
        assert.notEqual(await control.update(CONTROL_KEY, { ...released.value, lease: { ...held, expiresAt: Date.now() + leaseMs } }, released.revision), undefined);
        // The same name, a new process (and a new BatchControl, which took no term), and a node b that saw no free lease.
        const a = await open('a');
        const b = await open('b');
        servers.push(createServer({ tandem: a }), createServer({ tandem: b }));
        let wait = 0;
        for (const [i, { app }] of servers.entries()) {
          const answer = await app.inject({ method: 'POST', url: '/v1/batch' });
          assert.equal(answer.statusCode, 503, `node ${'ab'[i]}: ${answer.body}`);
          const { code, message } = answer.json<{ error: { code: string; message: string } }>().error;
          assert.equal(code, 'batch_lease_expiring');
          const seconds = SENTENCE.exec(message)?.[1];
          assert.ok(seconds !== undefined, message);
          assert.equal(answer.headers['retry-after'], seconds, 'Retry-After is the time the sentence names');
          assert.ok(Number(seconds) >= 1 && Number(seconds) <= leaseMs / 1000, message);
          wait = Math.max(wait, Number(seconds));
        }
        assert.equal(a.status().batchFailing, null, 'a lease left to expire is no failing batch layer');
        // The typed client waits as told, once, and the cycle it asks again runs.
        const { app } = servers[1]!;
        await app.listen({ host: '127.0.0.1', port: 0 });
        const notices: RetryNotice[] = [];
        const client = createClient({ url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, retry: { onRetry: (n) => notices.push(n) } });
        const started = Date.now();
        assert.equal((await client.batch()).version, 2);
        assert.deepEqual(notices.map((n) => [n.status, n.code]), [[503, 'batch_lease_expiring']]);
        assert.ok(notices[0]!.waitMs <= wait * 1000 && Date.now() - started >= notices[0]!.waitMs, JSON.stringify(notices));
      } finally {
        await Promise.all(servers.map(({ app }) => app.close()));
        await Promise.all([...running].map((node) => node.close()));
        await nc.close();
      }
    });
  });
});
