/**
 * Any node asks the batch lease's holder to run a cycle, over a real
 * 3-server NATS cluster (holder and asker on different servers): the asker
 * gets the holder's BatchSummary, or the holder's error as its own class, or
 * one typed error for each way the holder can fail to answer (nobody
 * listens, it goes silent, the cycle outlasts the wait, it answers
 * garbage). Every message is checked before a field of it is read; the
 * errors map to HTTP without leaking the holder's files.
 */
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RequestError, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { LogClosedError } from '../../../src/log/errors.ts';
import type { BatchOptions, BatchSummary } from '../../../src/engine/index.ts';
import { connectNats } from '../../../src/backends/nats/cluster-log.ts';
import { BatchRequests, type BatchRequestsOptions } from '../../../src/backends/nats/batch-requests.ts';
import { batchRequestSubject, errorPayload, parseReply, parseRequest, remoteError, type ErrorPayload } from '../../../src/backends/nats/batch-request-messages.ts';
import {
  ArchiveDamagedError, BatchFencedError, BatchHolderSilentError, BatchHolderUnreachableError, BatchLeaseExpiringError, BatchLeaseHeldError, BatchRequestTimeoutError,
  BucketStalledError, ClusterBucketMissingError, ClusterLogClosedError, InvalidBatchMessageError, InvalidClusterOptionError, InvalidClusterRecordError,
  LogBehindArchiveError, RemoteBatchFailedError,
} from '../../../src/backends/nats/errors.ts';
import type { TandemError } from '../../../src/definitions/errors.ts';
import { httpError } from '../../../src/server/http-errors.ts';
import { eventually } from '../../support/eventually.ts';
import { NatsCluster, natsSkipReason } from '../../support/nats-cluster.ts';

const CLUSTER = 'shop';

const SUMMARY: BatchSummary = {
  version: 4, cutoff: 1_234, cutoffs: [700, 534], events: 1_200, durationMs: 812.5, exportMs: 40.25, mode: 'incremental', inputEvents: 34,
  views: { revenue: { rows: 12, durationMs: 3.5 }, by_country: { rows: 0, durationMs: 1 } },
};

/** A promise and the functions that settle it. */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: unknown) => void } {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What ask rejected with: the test asserts on it rather than on a message pattern. */
async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  assert.fail('the ask resolved');
}

/** An error's own fields, as a rebuilt one must carry them too. */
const fieldsOf = (error: Error) => Object.fromEntries(Object.entries(error));

/** Warnings a served node logged, to check a refusal was reported. */
function recordingLogger(): { warnings: string[]; logger: NonNullable<BatchRequestsOptions['logger']> } {
  const warnings: string[] = [];
  return { warnings, logger: { info: () => undefined, warn: (_o, m) => void warnings.push(m ?? ''), error: () => undefined } };
}

describe('batch requests over NATS', { skip: natsSkipReason(), timeout: 240_000 }, () => {
  let nats: NatsCluster | undefined;
  /** The holder's connection (first server), the asker's (second), and a connection standing in for a foreign or frozen process (first). */
  let holderNc: NatsConnection;
  let askerNc: NatsConnection;
  let rawNc: NatsConnection;
  let asker: BatchRequests;
  const opened: BatchRequests[] = [];
  const rawSubscriptions: Subscription[] = [];

  before(async () => {
    nats = await NatsCluster.start();
    [holderNc, askerNc, rawNc] = await Promise.all([0, 1, 0].map((i) => connectNats({ servers: nats!.urls[i]! })));
    asker = await serve(askerNc, 'asker', () => Promise.reject(new Error('the asker was asked')));
  });
  after(async () => {
    // A run a failed test left pending must not hold the suite open.
    await Promise.all(opened.map((r) => Promise.race([r.close(), delay(5_000)])));
    for (const sub of rawSubscriptions) sub.unsubscribe();
    await Promise.all([holderNc, askerNc, rawNc].map((nc) => nc?.close().catch(() => undefined)));
    await nats?.stop();
  });

  async function serve(nc: NatsConnection, node: string, run: BatchRequestsOptions['run'], extra: Partial<BatchRequestsOptions> = {}): Promise<BatchRequests> {
    const requests = await BatchRequests.serve(nc, { cluster: CLUSTER, node, run, keepaliveMs: 100, ...extra });
    opened.push(requests);
    return requests;
  }

  /** Whether the asker's server knows someone listens on `node`'s subject: interest crosses the cluster's routes a moment after it is made. */
  async function listened(node: string): Promise<void> {
    const subject = batchRequestSubject(CLUSTER, node);
    await eventually(() => askerNc.request(subject, 'ping', { timeout: 300 }).then(
      () => true,
      (error: unknown) => !(error instanceof RequestError && error.isNoResponders()),
    ), `the asker's server to see a subscriber on ${subject}`, { timeoutMs: 10_000 });
  }

  /** A holder on the first server, seen from the asker's. */
  async function holder(node: string, run: BatchRequestsOptions['run'], extra: Partial<BatchRequestsOptions> = {}): Promise<BatchRequests> {
    const requests = await serve(holderNc, node, run, extra);
    await listened(node);
    return requests;
  }

  /** A process that takes `node`'s requests and answers each with `answer` (nothing, for a frozen one); the pings of {@link listened} go unanswered. */
  async function impostor(node: string, answer: () => readonly string[]): Promise<void> {
    rawSubscriptions.push(rawNc.subscribe(batchRequestSubject(CLUSTER, node), {
      callback: (_error, msg) => {
        if (msg.string() !== 'ping') for (const reply of answer()) msg.respond(reply);
      },
    }));
    await rawNc.flush();
    await listened(node);
  }

  test('batch requests - any node asks the holder and answers with its BatchSummary; the options reach the holder, and asks at once are each answered', async () => {
    const asked: BatchOptions[] = [];
    await holder('n1', async (options) => {
      asked.push(options);
      await delay(200);
      return SUMMARY;
    });
    const answers = await Promise.all([asker.ask('n1', { full: true }), asker.ask('n1'), asker.ask('n1', { full: false })]);
    for (const answer of answers) assert.deepEqual(answer, SUMMARY);
    assert.deepEqual(asked.map((o) => JSON.stringify(o)).sort(), ['{"full":false}', '{"full":true}', '{}']);
  });

  test('batch requests - a cycle far longer than the asker\'s silence is answered: the holder says it is still running', async () => {
    await holder('slow', async () => {
      await delay(2_000);
      return SUMMARY;
    });
    const started = Date.now();
    assert.deepEqual(await asker.ask('slow', {}, { silenceMs: 600 }), SUMMARY);
    assert.ok(Date.now() - started >= 2_000);
  });

  test('batch requests - the holder\'s errors come back as their own classes, with their sentences and fields', async () => {
    const errors: TandemError[] = [
      new BatchLeaseHeldError('n3'),
      new BatchLeaseExpiringError('failing', 12_300),
      new BatchFencedError(7, 'node n3 took the lease under term 4'),
      new ArchiveDamagedError('object store shop_master', [{ blob: 'master/order/p000-1-40.parquet', problem: 'missing' }, { blob: 'batch/v3-t2/manifest.json', problem: 'digest differs' }], 'a cycle extends the served version\'s chain, so it stops until the objects are restored.'),
      new ClusterBucketMissingError('shop_master'),
      new BucketStalledError('shop_master', 'listing the objects', 15_000),
      new LogBehindArchiveError(1, 40, 52),
      new InvalidClusterRecordError('KV bucket shop_control', 'batch-control', 'batch control record', 'lease.term is not an integer of at least 1', 'a node that serves a version rebuilds it.'),
    ];
    let failing = 0;
    await holder('failing', () => Promise.reject(errors[failing]));
    for (; failing < errors.length; failing++) {
      const sent = errors[failing]!;
      const back = await rejection(asker.ask('failing'));
      assert.equal(back.constructor, sent.constructor, `${sent.code}: ${String(back)}`);
      assert.equal(back.message, sent.message);
      assert.deepEqual(fieldsOf(back), fieldsOf(sent));
    }
  });

  test('batch requests - any other failure is RemoteBatchFailedError naming the holder: a Tandem error with its code and sentence, anything else without its detail', async () => {
    const thrown: unknown[] = [new LogClosedError(), new Error('ENOENT: /srv/tandem/d1/versions/v4 is gone'), 'a string'];
    let i = 0;
    await holder('closing', () => Promise.reject(thrown[i++]));
    const closed = await rejection(asker.ask('closing'));
    assert.ok(closed instanceof RemoteBatchFailedError);
    assert.deepEqual([closed.holder, closed.remoteCode, closed.remoteMessage], ['closing', 'log_closed', 'The event log is closed.']);
    assert.equal(closed.message, 'Node closing, which holds the batch lease, ran the batch cycle and it failed (log_closed): The event log is closed.');
    for (let n = 0; n < 2; n++) {
      const internal = await rejection(asker.ask('closing'));
      assert.ok(internal instanceof RemoteBatchFailedError);
      assert.equal(internal.remoteCode, 'internal');
      assert.equal(internal.remoteMessage, 'The cycle failed with an unexpected error; the log of node closing has the detail.');
      assert.doesNotMatch(internal.message, /srv|ENOENT/);
    }
  });

  test('batch requests - nobody answers for the holder: BatchHolderUnreachableError at once, not after the silence', async () => {
    const started = Date.now();
    const error = await rejection(asker.ask('gone', {}, { silenceMs: 30_000 }));
    assert.ok(error instanceof BatchHolderUnreachableError, String(error));
    assert.deepEqual([error.holder, error.subject, error.code], ['gone', batchRequestSubject(CLUSTER, 'gone'), 'batch_holder_unreachable']);
    assert.match(error.message, /^Node gone holds the batch lease, but no node answers batch requests under that name/);
    assert.ok(Date.now() - started < 5_000, `${Date.now() - started} ms`);
  });

  test('batch requests - a holder that goes silent (frozen, crashed, cut off): BatchHolderSilentError after the silence, long before the time limit', async () => {
    await impostor('frozen', () => []);
    await impostor('froze-mid-cycle', () => ['{"state":"running"}']);
    for (const node of ['frozen', 'froze-mid-cycle']) {
      const started = Date.now();
      const error = await rejection(asker.ask(node, {}, { silenceMs: 700, timeoutMs: 60_000 }));
      assert.ok(error instanceof BatchHolderSilentError, String(error));
      assert.deepEqual([error.holder, error.silentMs], [node, 700]);
      const waited = Date.now() - started;
      assert.ok(waited >= 650 && waited < 10_000, `${node}: ${waited} ms`);
    }
  });

  test('batch requests - a cycle still running at the time limit: BatchRequestTimeoutError, and asking again joins it', async () => {
    let cycle: Promise<BatchSummary> | undefined;
    let runs = 0;
    await holder('long', () => {
      runs++;
      cycle ??= delay(2_500).then(() => SUMMARY);
      return cycle;
    });
    const error = await rejection(asker.ask('long', {}, { timeoutMs: 800, silenceMs: 500 }));
    assert.ok(error instanceof BatchRequestTimeoutError, String(error));
    assert.deepEqual([error.holder, error.waitedMs], ['long', 800]);
    assert.match(error.message, /still running the batch cycle after 1 s, the longest this node waits for it: the cycle publishes when it is done/);
    assert.deepEqual(await asker.ask('long'), SUMMARY);
    assert.equal(runs, 2, 'the second ask reached the running cycle');
  });

  test('batch requests - a reply that is not a batch reply is InvalidBatchMessageError naming what is wrong, never a TypeError', async () => {
    const replies = [
      ['not json', /it is not JSON/],
      ['[]', /it is not an object/],
      ['{}', /state is not present/],
      ['{"state":"done"}', /state is not 'running', 'published' or 'failed'/],
      ['{"state":"published","summary":{"version":"4"}}', /summary\.version is not an integer of at least 1/],
      [JSON.stringify({ state: 'published', summary: { ...SUMMARY, views: { v: { rows: -1, durationMs: 1 } } } }), /summary\.views\.v\.rows is not an integer of at least 0/],
      ['{"state":"failed","error":{"code":"x"}}', /error\.message is not present/],
    ] as const;
    let next = 0;
    await impostor('garbled', () => ['{"state":"running"}', replies[next++]![0]]);
    for (const [, reason] of replies) {
      const error = await rejection(asker.ask('garbled', {}, { silenceMs: 5_000 }));
      assert.ok(error instanceof InvalidBatchMessageError, String(error));
      assert.deepEqual([error.node, error.kind], ['garbled', 'reply']);
      assert.match(error.reason, reason);
      assert.match(error.message, /^Node garbled answered the request for a batch cycle with a reply that is not valid \(.+\), so whether its cycle published is unknown/);
    }
  });

  test('batch requests - an error whose fields do not come whole is RemoteBatchFailedError with the holder\'s code and sentence', async () => {
    const sentence = 'Node n3 holds the batch lease, so batch cycles run there; ask that node, or wait for its lease to expire.';
    const answers = [{ fields: {} }, { fields: { holder: 3 } }, {}];
    let next = 0;
    await impostor('older', () => [JSON.stringify({ state: 'failed', error: { code: 'batch_lease_held', message: sentence, ...answers[next++] } })]);
    for (let n = 0; n < answers.length; n++) {
      const error = await rejection(asker.ask('older'));
      assert.ok(error instanceof RemoteBatchFailedError, String(error));
      assert.deepEqual([error.remoteCode, error.remoteMessage], ['batch_lease_held', sentence]);
    }
  });

  test('batch requests - an error whose fields would not fit in one message still comes back, with its code and sentence', async () => {
    const missing = Array.from({ length: 40_000 }, (_, i) => ({ blob: `master/order/p000-${i}-${i + 1}.parquet`, problem: 'missing' }));
    const damaged = new ArchiveDamagedError('object store shop_master', missing, 'a cycle stops until the objects are restored.');
    assert.ok(JSON.stringify(missing).length > 1_048_576, 'more than a message holds');
    await holder('damaged', () => Promise.reject(damaged));
    const error = await rejection(asker.ask('damaged'));
    assert.ok(error instanceof RemoteBatchFailedError, String(error));
    assert.deepEqual([error.remoteCode, error.remoteMessage], ['archive_damaged', damaged.message]);
  });

  test('batch requests - a request that is not one is refused with a typed reply, runs nothing, and is logged', async () => {
    let runs = 0;
    const { warnings, logger } = recordingLogger();
    await holder('strict', async () => {
      runs++;
      return SUMMARY;
    }, { logger });
    const subject = batchRequestSubject(CLUSTER, 'strict');
    for (const [request, reason] of [['garbage', /it is not JSON/], ['{"full":true}', /from is not present/], ['{"from":"n2","full":"yes"}', /full is not a boolean/]] as const) {
      const reply = parseReply((await askerNc.request(subject, request, { timeout: 5_000 })).string(), 'strict');
      assert.equal(reply.state, 'failed');
      assert.ok(reply.state === 'failed' && reply.error.code === 'batch_message_invalid', JSON.stringify(reply));
      assert.match(reply.error.message, /^A request for a batch cycle from another node is not valid/);
      assert.match(reply.error.message, reason);
    }
    assert.equal(runs, 0);
    assert.ok(warnings.filter((w) => w === 'a batch request is not valid; refused').length >= 3, warnings.join('\n'));
  });

  test('batch requests - close stops answering and waits for the request being answered; a closed node\'s own asks end with ClusterLogClosedError', async () => {
    const cycle = deferred<BatchSummary>();
    let started = false;
    const closing = await holder('leaving', () => {
      started = true;
      return cycle.promise;
    });
    const answer = asker.ask('leaving');
    await eventually(() => started, 'the holder to start the cycle');
    let closed = false;
    const closes = closing.close().then(() => (closed = true));
    await delay(300);
    assert.equal(closed, false, 'close waits for the request it is answering');
    cycle.resolve(SUMMARY);
    assert.deepEqual(await answer, SUMMARY);
    await closes;
    await eventually(async () => (await rejection(asker.ask('leaving', {}, { silenceMs: 1_000 }))) instanceof BatchHolderUnreachableError, 'a closed node to be unreachable', { timeoutMs: 10_000 });

    await impostor('unhurried', () => []);
    const leaving = await serve(askerNc, 'leaving-asker', () => Promise.reject(new Error('not asked')));
    const waiting = rejection(leaving.ask('unhurried', {}, { silenceMs: 60_000 }));
    await delay(100);
    await leaving.close();
    assert.ok((await waiting) instanceof ClusterLogClosedError);
    assert.ok((await rejection(leaving.ask('unhurried'))) instanceof ClusterLogClosedError);
  });

  test('batch requests - node names a subject token cannot hold are answered on subjects of their own', async () => {
    const names = ['db.primary', 'a*', 'a>', 'host 1', 'nœud', 'n1'];
    const subjects = names.map((n) => batchRequestSubject(CLUSTER, n));
    assert.equal(subjects[5], 'shop.batch.6e31');
    assert.equal(new Set(subjects).size, names.length);
    for (const s of subjects) assert.match(s, /^shop\.batch\.[0-9a-f]+$/);
    for (const [i, name] of names.slice(0, 4).entries()) await holder(name, async () => ({ ...SUMMARY, version: 10 + i }));
    for (const [i, name] of names.slice(0, 4).entries()) assert.equal((await asker.ask(name)).version, 10 + i, name);
    assert.throws(() => batchRequestSubject('a.b', 'n1'), InvalidClusterOptionError);
    assert.throws(() => batchRequestSubject(CLUSTER, ''), InvalidClusterOptionError);
  });
});

describe('batch request messages', () => {
  test('batch request messages - whatever a reply holds, reading it gives a reply or InvalidBatchMessageError, never another error', () => {
    fc.assert(fc.property(fc.oneof(fc.json(), fc.string(), fc.jsonValue().map((summary) => JSON.stringify({ state: 'published', summary }))), (text) => {
      try {
        parseReply(text, 'n1');
      } catch (error) {
        assert.ok(error instanceof InvalidBatchMessageError, String(error));
      }
    }), { seed: 27, numRuns: 500 });
    fc.assert(fc.property(fc.oneof(fc.json(), fc.string()), (text) => {
      try {
        parseRequest(text);
      } catch (error) {
        assert.ok(error instanceof InvalidBatchMessageError, String(error));
      }
    }), { seed: 27, numRuns: 500 });
  });

  test('batch request messages - a holder\'s refusal of a request comes back to the asker as InvalidBatchMessageError', () => {
    const refusal = new InvalidBatchMessageError('another node', 'request', 'full is not a boolean');
    const back = remoteError('n1', JSON.parse(JSON.stringify(errorPayload('n1', refusal))) as ErrorPayload);
    assert.ok(back instanceof InvalidBatchMessageError);
    assert.equal(back.message, refusal.message);
    assert.equal(back.kind, 'request');
  });

  test('batch request messages - a summary reads back without fields it does not know', () => {
    const reply = parseReply(JSON.stringify({ state: 'published', summary: { ...SUMMARY, secret: 'x', views: { v: { rows: 1, durationMs: 2, extra: 3 } } } }), 'n1');
    assert.deepEqual(reply, { state: 'published', summary: { ...SUMMARY, views: { v: { rows: 1, durationMs: 2 } } } });
  });

  test('batch request messages - over HTTP: the holder unreachable, silent or still running is a 503 to retry; a failure there or garbage is a 502; its files never show', () => {
    const cases = [
      [new BatchHolderUnreachableError('n1', 'shop.batch.6e31'), 503, '5'],
      [new BatchHolderSilentError('n1', 15_000), 503, '5'],
      [new BatchRequestTimeoutError('n1', 30 * 60_000), 503, '10'],
      [new RemoteBatchFailedError('n1', 'internal', 'The cycle failed with an unexpected error; the log of node n1 has the detail.'), 502, undefined],
      [new InvalidBatchMessageError('n1', 'reply', 'it is not JSON'), 502, undefined],
    ] as const;
    for (const [error, status, retryAfter] of cases) {
      const answer = httpError(error, 1_024);
      assert.equal(answer.status, status, error.code);
      assert.equal(answer.headers['retry-after'], retryAfter, error.code);
      assert.deepEqual(answer.body, { error: { code: error.code, message: error.message } });
    }
    assert.match(new BatchRequestTimeoutError('n1', 30 * 60_000).message, /after 30 min,/);
    // A sentence the holder wrote that names its files passes the same filter as one written here.
    const written = new RemoteBatchFailedError('n1', 'log_write_failed', 'Writing the event log /srv/tandem/d1/log/0.seg failed: EIO.');
    const { body } = httpError(written, 1_024);
    assert.equal(body.error.message, 'Node n1, which holds the batch lease, ran the batch cycle and it failed (log_write_failed): The server could not write to its event log, so nothing in this request was stored; try again later.');
    const tricky = new RemoteBatchFailedError('n1', 'constructor', 'odd $& code');
    assert.equal(httpError(tricky, 1_024).body.error.message, tricky.message);
  });
});
