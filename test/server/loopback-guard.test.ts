/**
 * A keyless server on loopback answers only this machine: requests whose Host
 * names it (else 421, against DNS rebinding) and, from browsers, pages of it
 * (else 403, against cross-site posts). Servers with keys, or bound beyond
 * loopback on purpose, are not checked.
 */
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, test } from 'node:test';
import type { TandemServer } from '../../src/server/index.ts';
import { type Tandem } from '../../src/index.ts';
import { keyDigest } from '../../src/definitions/index.ts';
import { shopConfig } from '../support/shop-config.ts';
import { openTestServer, type TestServer } from '../support/test-server.ts';

const SEED = 20261129;
let opened: TestServer;
let tandem: Tandem;
let server: TandemServer;

before(async () => {
  opened = await openTestServer(shopConfig);
  ({ tandem, server } = opened);
});
after(() => opened.close());

let nextId = 0;
const event = () => JSON.stringify({ id: `g${nextId++}`, at: '2024-05-01T12:30:00Z', country: 'DE', mobile: true, amount: 1, qty: 1 });

const port = fc.option(fc.integer({ min: 1, max: 65535 }).map((p) => `:${p}`), { nil: '' });
const loopbackName = fc.oneof(
  fc.constantFrom('localhost', 'LOCALHOST', 'LocalHost', '127.0.0.1', '[::1]', '[0:0:0:0:0:0:0:1]', '[::ffff:127.0.0.1]'),
  fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255)).map(([a, b, c]) => `127.${a}.${b}.${c}`),
);
const foreignName = fc.oneof(
  fc.domain().filter((d) => d !== 'localhost'),
  fc.ipV4().filter((ip) => !ip.startsWith('127.')),
  // Not ::1 in any spelling, nor an IPv4-mapped address, which may be 127.x.
  fc.ipV6().filter((ip) => !/ffff|^[0:]*1$/i.test(ip)).map((ip) => `[${ip}]`),
  fc.constantFrom('evil.localhost', 'localhost.evil.example', 'localhost.', '0.0.0.0', '::1', 'localhost:http', 'localhost@evil.example', '127.0.0.1.nip.io', '[::]', ''),
);

function call(method: 'GET' | 'POST', url: string, headers: Record<string, string>) {
  const body = method === 'POST' ? { payload: event(), headers: { 'content-type': 'application/x-ndjson', ...headers } } : { headers };
  return server.app.inject({ method, url, ...body });
}

function assertRefused(response: { statusCode: number; json(): unknown; body: string }, status: number, code: string): void {
  assert.equal(response.statusCode, status, response.body);
  const { error } = response.json() as { error: { code: string; message: string } };
  assert.equal(error.code, code);
  assert.match(error.message, /^This server has no API keys, so it .+; .+, or configure API keys\.$/);
}

test('loopback guard - a keyless server answers any Host naming this machine, with or without a port (fast-check, seeded)', async () => {
  await fc.assert(fc.asyncProperty(loopbackName, port, fc.constantFrom(['GET', '/healthz'] as const, ['POST', '/v1/events/order'] as const), async (name, suffix, [method, url]) => {
    const response = await call(method, url, { host: `${name}${suffix}` });
    assert.equal(response.statusCode, 200, `${name}${suffix}: ${response.body}`);
  }), { seed: SEED, numRuns: 150 });
});

test('loopback guard - any other Host gets 421 on every route, reads and writes alike, and nothing is stored (fast-check, seeded)', async () => {
  const logEnd = tandem.status().logEnd;
  const routes = fc.constantFrom(['GET', '/healthz'], ['GET', '/v1/status'], ['GET', '/'], ['GET', '/metrics'], ['POST', '/v1/events/order'], ['POST', '/v1/batch']) as fc.Arbitrary<['GET' | 'POST', string]>;
  await fc.assert(fc.asyncProperty(foreignName, port, routes, async (name, suffix, [method, url]) => {
    assertRefused(await call(method, url, { host: `${name}${suffix}` }), 421, 'host_not_allowed');
  }), { seed: SEED, numRuns: 300 });
  assert.equal(tandem.status().logEnd, logEnd);
  const metrics = await server.app.inject({ url: '/metrics' });
  assert.match(metrics.body, /tandem_http_denied_total\{reason="host"\} [1-9]/);
});

test('loopback guard - a page of another site gets 403, whatever route it posts to; pages of this machine and programs without Origin are answered (fast-check, seeded)', async () => {
  const logEnd = tandem.status().logEnd;
  const scheme = fc.constantFrom('http://', 'https://');
  const foreignOrigin = fc.oneof(
    fc.tuple(scheme, foreignName.filter((n) => n !== '' && !n.includes('@') && !n.includes(':http')), port).map((parts) => parts.join('')),
    fc.constantFrom('null', 'file://', 'chrome-extension://abcdef', 'not a url', 'http://evil.localhost:7070'),
  );
  await fc.assert(fc.asyncProperty(foreignOrigin, fc.constantFrom('/v1/events/order', '/v1/batch', '/v1/query'), async (origin, url) => {
    const response = await server.app.inject({ method: 'POST', url, headers: { origin, 'content-type': 'application/json' }, payload: url.endsWith('order') ? `[${event()}]` : '{"view":"all_time"}' });
    assertRefused(response, 403, 'cross_origin');
  }), { seed: SEED, numRuns: 200 });
  assert.equal(tandem.status().logEnd, logEnd);
  await fc.assert(fc.asyncProperty(scheme, loopbackName, port, async (prefix, name, suffix) => {
    const response = await call('POST', '/v1/events/order', { origin: `${prefix}${name}${suffix}` });
    assert.equal(response.statusCode, 200, response.body);
  }), { seed: SEED, numRuns: 50 });
  assert.equal((await call('POST', '/v1/events/order', {})).statusCode, 200);
});

/** One request over a real socket with the given Host, as a browser tricked by DNS rebinding would send it. */
function requestWithHost(address: { port: number }, host: string, authorization?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers = { host, 'content-type': 'application/x-ndjson', ...(authorization === undefined ? {} : { authorization }) };
    const request = httpRequest({ host: '127.0.0.1', port: address.port, method: 'POST', path: '/v1/events/order', headers }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    request.on('error', reject);
    request.end(event());
  });
}

test('loopback guard - listening on 127.0.0.1, a rebound name is refused and localhost answered, over real sockets', async () => {
  const local = await openTestServer(shopConfig);
  try {
    await local.server.app.listen({ host: '127.0.0.1', port: 0 });
    const address = local.server.app.server.address() as { port: number };
    assert.equal(await requestWithHost(address, `attacker.example:${address.port}`), 421);
    assert.equal(await requestWithHost(address, `localhost:${address.port}`), 200);
  } finally {
    await local.close();
  }
});

test('loopback guard - a server with keys, or one bound beyond loopback on purpose, answers any Host: its keys or its operator decide', async () => {
  const key = 'loader-key-0123456789abcdef';
  const keyed = await openTestServer({ ...shopConfig, server: { apiKeys: [{ name: 'loader', scopes: ['ingest'], sha256: keyDigest(key).toString('hex') }] } });
  const exposed = await openTestServer(shopConfig);
  try {
    const foreign = { host: 'tandem.example.com', origin: 'https://dashboard.example.com', 'content-type': 'application/x-ndjson' };
    const withKey = await keyed.server.app.inject({ method: 'POST', url: '/v1/events/order', headers: { ...foreign, authorization: `Bearer ${key}` }, payload: event() });
    assert.equal(withKey.statusCode, 200, withKey.body);
    const withoutKey = await keyed.server.app.inject({ method: 'POST', url: '/v1/events/order', headers: foreign, payload: event() });
    assert.equal(withoutKey.statusCode, 401);
    await exposed.server.app.listen({ host: '0.0.0.0', port: 0 });
    assert.equal(await requestWithHost(exposed.server.app.server.address() as { port: number }, 'tandem.example.com'), 200);
  } finally {
    await keyed.close();
    await exposed.close();
  }
});
