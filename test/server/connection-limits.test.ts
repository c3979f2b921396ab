/**
 * Slow and stalled clients cannot hold the server: a request that stops
 * anywhere is cut with 408 once its time is up, a refusal closes the
 * connection at once, connections beyond the bound are refused, and close()
 * finishes within its grace period whatever clients do.
 */
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { DEFAULT_CONNECTION_LIMITS, type ConnectionLimits, type ServerOptions } from '../../src/server/index.ts';
import { connectionLimits } from '../../src/server/connection-limits.ts';
import { type TandemConfig } from '../../src/index.ts';
import { keyDigest } from '../../src/definitions/index.ts';
import { shopConfig } from '../support/shop-config.ts';
import { openTestServer, type TestServer } from '../support/test-server.ts';
import { postBytes, stall, type Exchange } from './raw-socket.ts';

const SEED = 20261129;
/** Node checks its timeouts on an interval, and test machines are slow: how late a cut may come. */
// What a busy 2-core machine may add to a timeout; still far below the 20 s and 60 s limits these tests tell apart.
const SLACK_MS = 5_000;

const ndjson = (count: number) => Array.from({ length: count }, (_, i) =>
  JSON.stringify({ id: `s${i}`, at: '2024-05-01T12:30:00Z', country: 'DE', mobile: true, amount: 1, qty: 1 })).join('\n');

async function listening(config: TandemConfig, options: Omit<ServerOptions, 'tandem'>): Promise<{ opened: TestServer; port: number }> {
  const opened = await openTestServer(config, options);
  try {
    await opened.server.app.listen({ host: '127.0.0.1', port: 0 });
  } catch (error) {
    await opened.close();
    throw error;
  }
  return { opened, port: (opened.server.app.server.address() as { port: number }).port };
}

function openConnections(opened: TestServer): Promise<number> {
  return new Promise((resolve, reject) => opened.server.app.server.getConnections((error, count) => (error === null ? resolve(count) : reject(error))));
}

async function until(condition: () => Promise<boolean>, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`Timed out waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function assertCutWithin(exchange: Exchange, ms: number, what: string): void {
  assert.ok(exchange.closedAfterMs >= ms * 0.9, `${what}: cut after ${Math.round(exchange.closedAfterMs)} ms, before its ${ms} ms`);
  assert.ok(exchange.closedAfterMs <= ms + SLACK_MS, `${what}: cut after ${Math.round(exchange.closedAfterMs)} ms, long after its ${ms} ms`);
}

const KEY = 'loader-key-0123456789abcdef';
const keyed: TandemConfig = { ...shopConfig, server: { apiKeys: [{ name: 'loader', scopes: ['ingest'], sha256: keyDigest(KEY).toString('hex') }] } };

test('timeouts - a request that stalls anywhere, before or after its headers, is cut with 408 in the error shape once its time is up (fast-check, seeded)', async () => {
  const limits = { headersTimeoutMs: 400, requestTimeoutMs: 900 };
  const { opened, port } = await listening(shopConfig, { connections: limits });
  try {
    const request = postBytes('/v1/events/order', ndjson(20));
    const headersEnd = request.indexOf('\r\n\r\n') + 4;
    const cuts = [0, 1, headersEnd - 1, headersEnd, headersEnd + 100, request.length - 1,
      ...fc.sample(fc.integer({ min: 0, max: request.length - 1 }), { seed: SEED, numRuns: 24 })];
    const exchanges = await Promise.all(cuts.map((cut) => stall(port, request.subarray(0, cut)).exchange));
    exchanges.forEach((exchange, i) => {
      const what = `stalled after ${cuts[i]} of ${request.length} bytes`;
      assert.equal(exchange.status, 408, `${what}: ${exchange.received}`);
      assert.equal(exchange.code, 'request_timeout', what);
      assert.match(exchange.received, /"message":"The request did not arrive in time \(headers within 400 ms, the whole request within 900 ms\), so the connection was closed; send each request without pausing\."/);
      assertCutWithin(exchange, cuts[i]! < headersEnd ? limits.headersTimeoutMs : limits.requestTimeoutMs, what);
    });
    assert.match((await opened.server.app.inject({ url: '/metrics' })).body, new RegExp(`tandem_http_request_timeouts_total ${cuts.length}`));
  } finally {
    await opened.close();
  }
});

test('timeouts - on a keyed server, a stalled upload without a key is answered 401 and closed at once, not held until its timeout (fast-check, seeded)', async () => {
  const { opened, port } = await listening(keyed, { connections: { headersTimeoutMs: 500, requestTimeoutMs: 20_000 } });
  try {
    const request = postBytes('/v1/events/order', ndjson(20));
    const headersEnd = request.indexOf('\r\n\r\n') + 4;
    const cuts = fc.sample(fc.integer({ min: headersEnd, max: request.length - 1 }), { seed: SEED, numRuns: 10 });
    const exchanges = await Promise.all(cuts.map((cut) => stall(port, request.subarray(0, cut)).exchange));
    for (const exchange of exchanges) {
      assert.equal(exchange.status, 401, exchange.received);
      assert.match(exchange.received, /\r\nconnection: close\r\n/i);
      assert.ok(exchange.closedAfterMs < SLACK_MS, `closed after ${exchange.closedAfterMs} ms`);
    }
    // With the key, the server waits for the rest of the body (up to the request timeout, as above).
    const withKey = postBytes('/v1/events/order', ndjson(20), { authorization: `Bearer ${KEY}` });
    assert.equal((await stall(port, withKey.subarray(0, withKey.length - 10), 2_000).exchange).status, undefined, 'still waiting for the body at 2 s');
  } finally {
    await opened.close();
  }
});

test('timeouts - bytes that are not HTTP, and headers over the size limit, are answered in the error shape and closed (fast-check, seeded)', async () => {
  const { opened, port } = await listening(shopConfig, { connections: { headersTimeoutMs: 400, requestTimeoutMs: 400 } });
  try {
    const garbage = fc.sample(fc.uint8Array({ minLength: 1, maxLength: 200 }), { seed: SEED, numRuns: 30 }).map((bytes) => Buffer.from(bytes));
    const exchanges = await Promise.all(garbage.map((bytes) => stall(port, bytes).exchange));
    exchanges.forEach((exchange, i) => {
      assert.ok(exchange.received === '' || exchange.code === 'malformed_http' || exchange.code === 'request_timeout', `${garbage[i]!.toString('hex')}: ${exchange.received}`);
      assert.ok(exchange.closedAfterMs <= 400 + SLACK_MS);
    });
    assert.ok(exchanges.some((e) => e.status === 400 && e.code === 'malformed_http'));
    const huge = await stall(port, `GET /healthz HTTP/1.1\r\nhost: localhost\r\nx-filler: ${'x'.repeat(20_000)}\r\n\r\n`).exchange;
    assert.equal(huge.status, 431, huge.received);
    assert.equal(huge.code, 'headers_too_large');
  } finally {
    await opened.close();
  }
});

test('connections - past the most open connections, new ones are closed as soon as accepted; once stalled ones go, the server answers again', async () => {
  const { opened, port } = await listening(shopConfig, { connections: { maxConnections: 5, headersTimeoutMs: 20_000, requestTimeoutMs: 20_000 } });
  const stalled = Array.from({ length: 5 }, () => stall(port, 'POST /v1/events/order HTTP/1.1\r\nhost: local'));
  try {
    await until(async () => (await openConnections(opened)) === 5, 'five open connections');
    const refused = await Promise.all(Array.from({ length: 20 }, () => stall(port, 'GET /healthz HTTP/1.1\r\nhost: localhost\r\n\r\n').exchange));
    for (const exchange of refused) {
      assert.equal(exchange.received, '', 'a refused connection gets no answer');
      assert.ok(exchange.closedAfterMs < SLACK_MS);
    }
    assert.equal(await openConnections(opened), 5);
    assert.match((await opened.server.app.inject({ url: '/metrics' })).body, /tandem_http_connections_refused_total 20/);
    for (const { socket } of stalled) socket.destroy();
    await until(async () => (await stall(port, 'GET /healthz HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n').exchange).status === 200, 'an answer');
  } finally {
    for (const { socket } of stalled) socket.destroy();
    await opened.close();
  }
});

test('shutdown - close() ends within its grace period while uploads stall mid-body, closing them; new connections are refused meanwhile', async () => {
  const graceMs = 400;
  const { opened, port } = await listening(shopConfig, { connections: { requestTimeoutMs: 60_000, closeGraceMs: graceMs } });
  try {
    const request = postBytes('/v1/events/order', ndjson(50));
    const stalled = Array.from({ length: 50 }, () => stall(port, request.subarray(0, request.length / 2)));
    await until(async () => (await openConnections(opened)) === 50, 'fifty open connections');
    const started = performance.now();
    const closing = opened.server.app.close();
    const late = await stall(port, 'GET /healthz HTTP/1.1\r\nhost: localhost\r\n\r\n').exchange;
    assert.equal(late.received, '', 'no answer after close() began');
    await closing;
    const tookMs = performance.now() - started;
    assert.ok(tookMs >= graceMs * 0.9 && tookMs <= graceMs + SLACK_MS, `close() took ${Math.round(tookMs)} ms`);
    for (const exchange of await Promise.all(stalled.map((s) => s.exchange))) assert.ok(exchange.closedAfterMs < 60_000 / 2);
  } finally {
    await opened.close();
  }
});

test('shutdown - a request whose headers arrive while close() drains gets 503 with Retry-After in the error shape; with nothing in flight close() is immediate', async () => {
  // A grace long enough that a busy machine's stalls cannot end the drain before the late headers arrive.
  const { opened, port } = await listening(shopConfig, { connections: { closeGraceMs: 10_000 } });
  try {
    // A request begun before close() and finished after it: its headers arrive while the server drains.
    const late = stall(port, 'GET /v1/views HTTP/1.1\r\nhost: local');
    await until(async () => (await openConnections(opened)) === 1, 'an open connection');
    const closing = opened.server.app.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
    late.socket.write('host\r\n\r\n');
    const answer = await late.exchange;
    assert.equal(answer.status, 503, answer.received);
    assert.match(answer.received, /\r\nretry-after: 5\r\n/i);
    assert.match(answer.received, /\{"error":\{"code":"shutting_down","message":"The server is shutting down and takes no new requests; retry in a few seconds\."\}\}$/);
    await closing;
  } finally {
    await opened.close();
  }
  const idle = await listening(shopConfig, { connections: { closeGraceMs: 30_000 } });
  try {
    const started = performance.now();
    await idle.opened.server.app.close();
    assert.ok(performance.now() - started < SLACK_MS);
  } finally {
    await idle.opened.close();
  }
});

test('limits - defaults fill what is not given; a limit that is not a positive whole number is refused; headers never outlast the request', () => {
  assert.deepEqual(connectionLimits(), DEFAULT_CONNECTION_LIMITS);
  assert.deepEqual(connectionLimits({ maxConnections: 7, closeGraceMs: undefined }), { ...DEFAULT_CONNECTION_LIMITS, maxConnections: 7 });
  assert.equal(connectionLimits({ requestTimeoutMs: 2_000 }).headersTimeoutMs, 2_000);
  for (const bad of [0, -1, 1.5, Number.NaN, Infinity]) {
    for (const name of Object.keys(DEFAULT_CONNECTION_LIMITS) as (keyof ConnectionLimits)[]) {
      assert.throws(() => connectionLimits({ [name]: bad }), (error: unknown) => error instanceof RangeError && error.message.includes(name));
    }
  }
});

test('limits - a connection that never sends a byte is closed after the headers timeout', async () => {
  const { opened, port } = await listening(shopConfig, { connections: { headersTimeoutMs: 300 } });
  try {
    const silent = connect(port, '127.0.0.1').resume();
    const started = performance.now();
    await new Promise((resolve) => silent.on('close', resolve).on('error', () => {}));
    assert.ok(performance.now() - started <= 300 + SLACK_MS);
  } finally {
    await opened.close();
  }
});
