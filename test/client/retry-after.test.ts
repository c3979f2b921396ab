/**
 * Temporary refusals (503 and 507 with Retry-After) are waited out and sent
 * again, within a bounded total wait; everything else fails at once. A
 * scripted server stands in for one under load.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  createClient, DiskFullError, LogOverloadedError, QueryTimeoutError, SpeedLayerFullError, TandemHttpError, type RetryNotice,
} from '../../src/client/index.ts';
import { retryAfterMs, sleep } from '../../src/client/retry-after.ts';
import { errorAnswer, withStub, type StubAnswer } from './stub-server.ts';

const OVERLOADED = "The event log already has 1,000,123 events waiting to be written (the limit is 1,000,000); nothing in this request was stored, so retry it shortly.";
const STORED = { status: 200, body: { accepted: 1, stored: 1, duplicates: 0, rejected: [], firstOffset: 7, lastOffset: 7 } };

/** Refuses the first `refusals` requests with `refusal`, then answers `then`. */
const refusing = (refusals: number, refusal: StubAnswer, then: StubAnswer = STORED) => (_: unknown, i: number) => (i < refusals ? refusal : then);

describe('client - Retry-After', () => {
  test('retry - a 503 with Retry-After is waited out and the same request sent again; onRetry hears of each wait', async () => {
    const notices: RetryNotice[] = [];
    await withStub(refusing(2, errorAnswer(503, 'log_overloaded', OVERLOADED, { 'retry-after': '0.2' })), async (stub) => {
      const client = createClient({ url: stub.url, retry: { onRetry: (n) => notices.push(n) } });
      const started = performance.now();
      const result = await client.ingest('order', [{ id: 'o1' }]);
      assert.equal(result.lastOffset, 7);
      assert.ok(performance.now() - started >= 390, 'it waited as told, twice');
      assert.equal(stub.requests.length, 3);
      assert.ok(stub.requests.every((r) => r.body === '{"id":"o1"}' && r.url === '/v1/events/order'));
      assert.deepEqual(notices, [
        { status: 503, code: 'log_overloaded', waitMs: 200, attempt: 1 },
        { status: 503, code: 'log_overloaded', waitMs: 200, attempt: 2 },
      ]);
    });
  });

  test('retry - a 507 disk_full is waited out too, and so is a query', async () => {
    const full = errorAnswer(507, 'disk_full', "The server's disk is full, so nothing was written; retry once space has been freed.", { 'retry-after': '0.1' });
    await withStub(refusing(1, full, { status: 200, body: { rows: [], meta: {} } }), async (stub) => {
      const answer = await createClient({ url: stub.url }).query({ view: 'v' });
      assert.deepEqual(answer.rows, []);
      assert.equal(stub.requests.length, 2);
    });
  });

  test('retry - a cluster batch node that restarted (503 batch_lease_expiring) is waited out by batch(), for the seconds Retry-After names', async () => {
    const summary = { version: 2, cutoff: 0, cutoffs: [0, 0], events: 1, durationMs: 5, exportMs: 1, views: {} };
    const restarted = errorAnswer(503, 'batch_lease_expiring', 'Batch node n1 restarted and cannot run cycles until the lease its previous process held expires in 1 s; retry then.', { 'retry-after': '1' });
    const notices: RetryNotice[] = [];
    await withStub(refusing(1, restarted, { status: 200, body: summary }), async (stub) => {
      const answer = await createClient({ url: stub.url, retry: { onRetry: (n) => notices.push(n) } }).batch();
      assert.equal(answer.version, 2);
      assert.deepEqual(stub.requests.map((r) => `${r.method} ${r.url}`), ['POST /v1/batch', 'POST /v1/batch']);
      assert.deepEqual(notices, [{ status: 503, code: 'batch_lease_expiring', waitMs: 1000, attempt: 1 }]);
    });
  });

  test('retry - gives up as soon as the next wait would pass maxWaitMs, with the typed error and the numbers its message states', async () => {
    await withStub(refusing(9, errorAnswer(503, 'log_overloaded', OVERLOADED, { 'retry-after': '5' })), async (stub) => {
      const started = performance.now();
      await assert.rejects(createClient({ url: stub.url, retry: { maxWaitMs: 1000 } }).ingest('order', [{}]), (e: unknown) =>
        e instanceof LogOverloadedError && e.code === 'log_overloaded' && e.pendingEvents === 1_000_123 && e.limit === 1_000_000 && e.message === OVERLOADED);
      assert.ok(performance.now() - started < 1000, 'no wait was started that could not end in time');
      assert.equal(stub.requests.length, 1);
    });
    // The budget is the sum of the waits: 3 × 0.3 s fit in 1 s, a fourth does not.
    await withStub(refusing(9, errorAnswer(503, 'speed_layer_full', 'The speed layer holds 5,000,000 keys, its limit of 5,000,000; nothing in this request was stored, so retry it once a batch run has absorbed them.', { 'retry-after': '0.3' })), async (stub) => {
      await assert.rejects(createClient({ url: stub.url, retry: { maxWaitMs: 1000 } }).ingest('order', [{}]), (e: unknown) =>
        e instanceof SpeedLayerFullError && e.held === 5_000_000 && e.limit === 5_000_000 && e.measure === 'keys');
      assert.equal(stub.requests.length, 4);
    });
  });

  test('retry - false throws the first refusal; a 503 without Retry-After (a query timeout) is never retried', async () => {
    await withStub(refusing(1, errorAnswer(507, 'disk_full', 'full', { 'retry-after': '0.1' })), async (stub) => {
      await assert.rejects(createClient({ url: stub.url, retry: false }).ingest('order', [{}]), DiskFullError);
      assert.equal(stub.requests.length, 1);
    });
    const timeout = 'The query ran longer than the limit of 10,000 ms and was stopped; narrow its time range or where, or use a coarser granularity.';
    await withStub(refusing(1, errorAnswer(503, 'query_timeout', timeout)), async (stub) => {
      await assert.rejects(createClient({ url: stub.url }).query({ view: 'v' }), (e: unknown) => e instanceof QueryTimeoutError && e.timeoutMs === 10_000);
      assert.equal(stub.requests.length, 1);
    });
    // A 400 with Retry-After is still a mistake, not a wait.
    await withStub(refusing(1, errorAnswer(400, 'teapot', 'No.', { 'retry-after': '0.1' }, 'x')), async (stub) => {
      await assert.rejects(createClient({ url: stub.url }).status(), (e: unknown) =>
        e instanceof TandemHttpError && e.code === 'teapot' && e.status === 400 && e.field === 'x' && e.message === 'No.');
      assert.equal(stub.requests.length, 1);
    });
  });

  test('retry - aborting during a wait rejects at once with the signal\'s reason', async () => {
    await withStub(refusing(9, errorAnswer(503, 'log_overloaded', OVERLOADED, { 'retry-after': '30' })), async (stub) => {
      const controller = new AbortController();
      const started = performance.now();
      const call = createClient({ url: stub.url, retry: { maxWaitMs: 120_000 } }).ingest('order', [{}], { signal: controller.signal });
      setTimeout(() => controller.abort(new Error('stop')), 100);
      await assert.rejects(call, /stop/);
      assert.ok(performance.now() - started < 5_000);
    });
  });

  test('Retry-After - delay-seconds and HTTP dates', () => {
    const now = Date.parse('2024-05-01T12:00:00Z');
    assert.equal(retryAfterMs('5', now), 5000);
    assert.equal(retryAfterMs(' 0 ', now), 0);
    assert.equal(retryAfterMs('Wed, 01 May 2024 12:00:10 GMT', now), 10_000);
    assert.equal(retryAfterMs('Wed, 01 May 2024 11:00:00 GMT', now), 0);
    assert.equal(retryAfterMs('soon', now), undefined);
    assert.equal(retryAfterMs('-1', now), undefined);
    assert.equal(retryAfterMs(null, now), undefined);
  });

  test('sleep - an aborted signal rejects before any wait', async () => {
    await assert.rejects(sleep(10_000, AbortSignal.abort(new Error('gone'))), /gone/);
  });
});
