/**
 * Bad input, fuzzed: thousands of seeded requests to the ingest and query
 * endpoints, built from hostile values. Every one must get an answer with a
 * known status and, for an error, one clear sentence; the server must stay up;
 * and data ingested before the fuzzing must answer exactly as before.
 */
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { deflateSync, gzipSync } from 'node:zlib';
import { createServer, type TandemServer } from '../../src/server/index.ts';
import { Tandem } from '../../src/index.ts';
import { shopConfig } from '../support/shop-config.ts';

const BODY_LIMIT = 256 * 1024;
const CANARY = 'canary-country';
let dir: string;
let tandem: Tandem;
let server: TandemServer;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tandem-fuzz-'));
  tandem = await Tandem.open({ dataDir: dir, config: shopConfig });
  server = createServer({ tandem, limits: { bodyBytes: BODY_LIMIT } });
});
after(async () => {
  await server.app.close();
  await tandem.close();
  await rm(dir, { recursive: true, force: true });
});

const SQL = ["'; DROP TABLE events; --", '" OR 1=1 --', 'x"); COPY (SELECT 1) TO \'/tmp/pwned\'; --', '$1', '?', '\\', '/*', 'read_parquet(\'/etc/passwd\')'];

/** A value of any kind a client could send, biased to the nasty ones. */
const hostile: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...SQL),
  fc.constantFrom(1e308, -1e308, 2 ** 53 + 1, -(2 ** 63), 5e-324, 0.1 + 0.2, -0),
  fc.constantFrom('2024-02-30T00:00:00Z', '1899-12-31T23:59:59Z', '10000-01-01T00:00:00Z', 'yesterday', '', '2024-05-01T25:00:00Z'),
  fc.constantFrom(-62135596800000, 253402300800000, Number.MAX_SAFE_INTEGER),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constant('x'.repeat(70_000)),
  fc.constant('\ud800 lone surrogate'),
  fc.constant('nul\u0000inside'),
  fc.anything({ maxDepth: 3 }),
  fc.constant(JSON.parse('{"__proto__":{"polluted":true}}')),
  fc.constant({ constructor: { prototype: { polluted: true } } }),
  fc.constant(nested(200)),
);

function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = { a: [value] };
  return value;
}

/** An order with some fields replaced by hostile values, some dropped, and hostile extra keys. */
const hostileOrder = fc.record({
  id: fc.oneof(fc.uuid(), hostile),
  at: fc.oneof(fc.constant('2024-05-01T12:30:00Z'), hostile),
  country: fc.oneof(fc.constantFrom('DE', 'FR'), hostile),
  mobile: fc.oneof(fc.boolean(), hostile),
  amount: fc.oneof(fc.constant(12.5), hostile),
  qty: fc.oneof(fc.constant(2), hostile),
  constructor: hostile,
  extra: hostile,
}, { requiredKeys: [] });

/** A line of an NDJSON body: an order, any JSON, or text that is not JSON at all. */
const line = fc.oneof(
  hostileOrder.map((o) => JSON.stringify(o) ?? 'null'),
  hostile.map((v) => JSON.stringify(v) ?? 'undefined'),
  fc.constantFrom('NaN', 'Infinity', '{"a":', '[1,2', '{"id":1}{"id":2}', '\u0000', '{"id": "\\ud800"}', '{"__proto__": {"polluted": true}, "id": "p"}'),
  fc.string({ unit: 'binary', maxLength: 60 }),
);

const ingestRequest = fc.record({
  type: fc.oneof(fc.constant('order'), fc.constantFrom('nope', '__proto__', 'constructor', '..%2F..%2Fetc', "order'--", 'x'.repeat(300))),
  contentType: fc.constantFrom('application/x-ndjson', 'application/json', 'text/plain', 'application/x-ndjson; charset=latin1', 'application/json; charset=utf-8'),
  // Compressed as declared, declared but not compressed, or an encoding the server does not take.
  encoding: fc.constantFrom(undefined, undefined, 'gzip', 'deflate', 'br'),
  compress: fc.boolean(),
  body: fc.oneof(
    fc.array(line, { maxLength: 8 }).map((lines) => Buffer.from(lines.join('\n'))),
    fc.array(hostileOrder, { maxLength: 8 }).map((orders) => Buffer.from(JSON.stringify(orders))),
    fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
    fc.constant(Buffer.from([0x7b, 0x22, 0x69, 0x64, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d])),
  ),
});

const queryRequest = fc.oneof(
  fc.record({
    view: fc.oneof(fc.constantFrom('by_country_hour', 'all_time', 'by_device_week'), hostile),
    from: hostile,
    to: hostile,
    where: fc.oneof(fc.dictionary(fc.oneof(fc.constantFrom('country', 'device', 'mobile', '__proto__'), fc.string()), hostile), hostile),
    groupBy: fc.oneof(fc.array(fc.oneof(fc.constantFrom('country', 'device'), hostile), { maxLength: 3 }), hostile),
    granularity: fc.oneof(fc.constantFrom('hour', 'day', 'all', 'week', 'month', 'minute'), hostile),
    orderBy: fc.oneof(fc.array(fc.record({ measure: hostile, desc: hostile }), { maxLength: 2 }), hostile),
    limit: hostile,
    layer: fc.oneof(fc.constantFrom('merged', 'batch', 'speed'), hostile),
    [SQL[0]!]: hostile,
  }, { requiredKeys: [] }).map((q) => JSON.stringify(q) ?? 'null'),
  hostile.map((v) => JSON.stringify(v) ?? ''),
  fc.string({ unit: 'binary', maxLength: 80 }),
);

const KNOWN = new Set([200, 400, 404, 413, 414, 415]);

function checkAnswer(response: { statusCode: number; body: string }, what: string): void {
  assert.ok(KNOWN.has(response.statusCode), `${what} answered ${response.statusCode}: ${response.body.slice(0, 300)}`);
  if (response.statusCode === 200) return;
  const { error } = JSON.parse(response.body) as { error: { code: string; message: string } };
  assert.equal(typeof error.code, 'string');
  assert.match(error.message, /^\S.*\.$/s, `one sentence: ${error.message.slice(0, 200)}`);
  assert.ok(error.message.length < 400, `a short message: ${error.message.slice(0, 200)}`);
  assert.doesNotMatch(error.message, /\n| {4}at |node_modules|\/tmp\//, 'no stack or paths leak');
}

async function canaryAnswer(): Promise<unknown> {
  const response = await server.app.inject({
    method: 'POST', url: '/v1/query', headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({ view: 'by_country_hour', where: { country: CANARY }, granularity: 'all' }),
  });
  assert.equal(response.statusCode, 200);
  return (response.json() as { rows: unknown[] }).rows;
}

test('fuzz - thousands of hostile ingest and query requests get a known status and one clear sentence; earlier data is unchanged', { timeout: 300_000 }, async () => {
  const canary = Array.from({ length: 20 }, (_, i) => ({ id: `canary-${i}`, at: '2024-05-01T12:30:00Z', country: CANARY, mobile: true, amount: 1.25, qty: 1 }));
  const seeded = await server.app.inject({ method: 'POST', url: '/v1/events/order', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(canary) });
  assert.equal(seeded.statusCode, 200);
  const before = await canaryAnswer();
  let ingests = 0;
  let queries = 0;
  await fc.assert(fc.asyncProperty(ingestRequest, async (request) => {
    const encode = request.encoding === 'gzip' ? gzipSync : request.encoding === 'deflate' ? deflateSync : (body: Buffer) => body;
    const payload = request.compress ? encode(request.body) : request.body;
    const headers = { 'content-type': request.contentType, ...(request.encoding === undefined ? {} : { 'content-encoding': request.encoding }) };
    const response = await server.app.inject({ method: 'POST', url: `/v1/events/${encodeURIComponent(request.type)}`, headers, payload });
    checkAnswer(response, `ingest of ${request.body.length} bytes as ${request.contentType} (${request.encoding ?? 'plain'})`);
    ingests++;
  }), { numRuns: 1_500, seed: 20261125 });
  await fc.assert(fc.asyncProperty(queryRequest, async (payload) => {
    const response = await server.app.inject({ method: 'POST', url: '/v1/query', headers: { 'content-type': 'application/json' }, payload });
    checkAnswer(response, `query ${payload.slice(0, 200)}`);
    queries++;
  }), { numRuns: 1_500, seed: 20261125 });
  assert.equal((Object.prototype as Record<string, unknown>).polluted, undefined, 'no prototype was polluted');
  assert.equal((await server.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
  await tandem.runBatch();
  assert.deepEqual(await canaryAnswer(), before, 'data ingested before the fuzzing answers as before, after a batch run too');
  console.log(`fuzzed ${ingests} ingest and ${queries} query requests`);
});
