/**
 * What a request body may be: the documented media types only, UTF-8 only
 * (a bad byte never changes a key silently), and gzip or deflate with the
 * body limit counted after decompression.
 */
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { request as httpRequest } from 'node:http';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { deflateSync, gzipSync } from 'node:zlib';
import { parseNdjson, parseNdjsonBytes, type TandemServer } from '../../src/server/index.ts';
import { decodedBody } from '../../src/server/content-encoding.ts';
import type { Tandem } from '../../src/index.ts';
import { shopConfig } from '../support/shop-config.ts';
import { openTestServer, type TestServer } from '../support/test-server.ts';

const SEED = 20261129;
const BODY_LIMIT = 64 * 1024;
let opened: TestServer;
let tandem: Tandem;
let server: TandemServer;

before(async () => {
  opened = await openTestServer({ ...shopConfig, server: { limits: { bodyBytes: BODY_LIMIT } } });
  ({ tandem, server } = opened);
});
after(() => opened.close());

let nextId = 0;
const order = (id = `o${nextId++}`) => ({ id, at: '2024-05-01T12:30:00Z', country: 'DE', mobile: true, amount: 12.5, qty: 2 });
const ndjson = (events: readonly unknown[]) => events.map((e) => JSON.stringify(e)).join('\n');

function post(url: string, payload: Buffer | string, headers: Record<string, string>) {
  return server.app.inject({ method: 'POST', url, headers, payload });
}

interface ErrorAnswer { readonly statusCode: number; json(): unknown; readonly body: string }

function assertError(response: ErrorAnswer, status: number, code: string, message?: RegExp): void {
  assert.equal(response.statusCode, status, response.body);
  const { error } = response.json() as { error: { code: string; message: string } };
  assert.equal(error.code, code);
  assert.match(error.message, /^[A-Z'].*\.$/s, 'one sentence');
  assert.doesNotMatch(error.message, /\n/);
  if (message !== undefined) assert.match(error.message, message);
}

/** A media type token as a client might make one up. */
const token = fc.stringMatching(/^[a-z][a-z0-9.+-]{0,15}$/);

describe('media types', () => {
  const REFUSED = [
    'text/plain', 'text/plain; charset=utf-8', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x',
    'text/csv', 'application/xml', 'application/ndjson', 'application/jsonl', 'application/octet-stream', 'application/json5', '*/*', 'json',
  ];
  const otherType = fc.oneof(
    fc.constantFrom(...REFUSED),
    fc.tuple(token, token).map(([type, subtype]) => `${type}/${subtype}`).filter((t) => t !== 'application/json' && t !== 'application/x-ndjson'),
  );

  test('media types - any body type but NDJSON and JSON is refused with 415 on every POST route, and nothing is stored (fast-check, seeded)', async () => {
    const logEnd = tandem.status().logEnd;
    await fc.assert(fc.asyncProperty(otherType, fc.constantFrom('/v1/events/order', '/v1/query', '/v1/batch'), async (contentType, url) => {
      const response = await post(url, ndjson([order()]), { 'content-type': contentType });
      assertError(response, 415, 'unsupported_media_type', /is not accepted here; send /);
    }), { seed: SEED, numRuns: 200 });
    assert.equal(tandem.status().logEnd, logEnd);
  });

  test('media types - NDJSON is for events only: a query or batch in NDJSON gets 415 naming application/json', async () => {
    for (const url of ['/v1/query', '/v1/batch']) {
      assertError(await post(url, '{"view":"all_time"}', { 'content-type': 'application/x-ndjson' }), 415, 'unsupported_media_type', /send a JSON body as application\/json\.$/);
    }
  });

  test('media types - a body without a Content-Type is refused; a POST without a body (a batch run) needs none', async () => {
    const response = await server.app.inject({ method: 'POST', url: '/v1/events/order', payload: ndjson([order()]), headers: { 'content-type': undefined } });
    assertError(response, 415, 'unsupported_media_type', /^A body without a Content-Type header is not accepted here/);
    assert.equal((await server.app.inject({ method: 'POST', url: '/v1/batch' })).statusCode, 200);
  });

  test('media types - a text/plain refusal closes the connection, so a stalled or hostile body is not read on', async () => {
    const response = await post('/v1/events/order', ndjson([order()]), { 'content-type': 'text/plain' });
    assert.equal(response.statusCode, 415);
    assert.equal(response.headers.connection, 'close');
  });
});

describe('charsets', () => {
  const utf8 = fc.tuple(fc.constantFrom('utf-8', 'UTF-8', 'utf8', 'Utf-8', '"utf-8"'), fc.constantFrom('', ' ', '  '), fc.constantFrom('charset', 'CHARSET', 'Charset'))
    .map(([name, space, key]) => `;${space}${key}=${name}`);
  const other = fc.oneof(
    fc.constantFrom('iso-8859-1', 'latin1', 'us-ascii', 'utf-16', 'utf-16le', 'windows-1252', 'shift_jis', '', 'utf-7', 'cp1252'),
    token.filter((t) => t !== 'utf-8' && t !== 'utf8'),
  );

  test('charsets - UTF-8, however spelled, is taken, alone or beside other parameters (fast-check, seeded)', async () => {
    await fc.assert(fc.asyncProperty(utf8, fc.constantFrom('application/x-ndjson', 'application/json', 'Application/JSON'), fc.boolean(), async (parameter, type, extra) => {
      const ndjsonType = type === 'application/x-ndjson';
      const payload = ndjsonType ? ndjson([order()]) : JSON.stringify([order()]);
      const response = await post('/v1/events/order', payload, { 'content-type': `${type}${extra ? '; version=1' : ''}${parameter}` });
      assert.equal(response.statusCode, 200, response.body);
      assert.equal((response.json() as { accepted: number }).accepted, 1);
    }), { seed: SEED, numRuns: 60 });
  });

  test('charsets - any other declared charset gets 415 naming it, before the body is read (fast-check, seeded)', async () => {
    const logEnd = tandem.status().logEnd;
    await fc.assert(fc.asyncProperty(other, fc.constantFrom('application/x-ndjson', 'application/json'), fc.constantFrom('/v1/events/order', '/v1/query'), async (charset, type, url) => {
      if (url === '/v1/query' && type === 'application/x-ndjson') return;
      const response = await post(url, type === 'application/json' ? JSON.stringify([order()]) : ndjson([order()]), { 'content-type': `${type}; charset=${charset}` });
      assertError(response, 415, 'unsupported_charset', /send text encoded as UTF-8/);
      assert.ok((response.json() as { error: { message: string } }).error.message.includes(`'${charset.toLowerCase()}'`));
    }), { seed: SEED, numRuns: 150 });
    assert.equal(tandem.status().logEnd, logEnd);
  });
});

describe('UTF-8', () => {
  /** An order as a Latin-1 client writes it: é is the single byte 0xe9, which is not UTF-8. */
  const latin1Order = (id: string) => Buffer.from(JSON.stringify(order(id)), 'latin1');

  test('UTF-8 - ids that differ only in a Latin-1 byte are never merged: each bad line is rejected alone, by index', async () => {
    const logEnd = tandem.status().logEnd;
    const body = Buffer.concat([latin1Order('caf\u00e9-1'), Buffer.from('\n'), latin1Order('caf\u00e8-1'), Buffer.from('\n'), Buffer.from(JSON.stringify(order('plain-1')))]);
    const response = await post('/v1/events/order', body, { 'content-type': 'application/x-ndjson' });
    assert.equal(response.statusCode, 200, response.body);
    const result = response.json() as { accepted: number; duplicates: number; rejected: unknown[] };
    assert.deepEqual(result.rejected, [0, 1].map((index) => ({ index, field: '', error: 'This line is not valid UTF-8; send text encoded as UTF-8.' })));
    assert.equal(result.accepted, 1);
    assert.equal(tandem.status().logEnd, logEnd + 1);
    // The same ids in UTF-8 are two orders, not one and a duplicate.
    const utf8 = await post('/v1/events/order', ndjson([order('caf\u00e9-1'), order('caf\u00e8-1')]), { 'content-type': 'application/x-ndjson; charset=utf-8' });
    assert.deepEqual(utf8.json(), { accepted: 2, stored: 2, duplicates: 0, rejected: [], firstOffset: logEnd + 1, lastOffset: logEnd + 2, position: [logEnd + 3] });
  });

  test('UTF-8 - a JSON array (or query) with a byte that is not UTF-8 is refused whole with 400', async () => {
    const array = Buffer.concat([Buffer.from('['), latin1Order('caf\u00e9-2'), Buffer.from(']')]);
    assertError(await post('/v1/events/order', array, { 'content-type': 'application/json' }), 400, 'invalid_utf8', /^The body is not valid UTF-8/);
    const query = Buffer.from('{"view":"all_time","where":{"country":["D\u00c9"]}}', 'latin1');
    assertError(await post('/v1/query', query, { 'content-type': 'application/json' }), 400, 'invalid_utf8');
  });

  test('UTF-8 - any NDJSON bytes parse as their lines would alone: a bad line rejected by index, every other line as text (fast-check, seeded)', () => {
    const lineBytes = fc.oneof(
      fc.uint8Array({ maxLength: 30 }).map((bytes) => Buffer.from(bytes.filter((b) => b !== 0x0a))),
      fc.string({ unit: 'grapheme', maxLength: 20 }).map((text) => Buffer.from(JSON.stringify({ id: text.replace(/\n/g, ' ') }))),
      fc.constantFrom(Buffer.from([0xc3]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xf4, 0x90, 0x80, 0x80]), Buffer.from([0xc0, 0xaf]), Buffer.from(' \r')),
    );
    fc.assert(fc.property(fc.array(lineBytes, { maxLength: 12 }), fc.integer({ min: 1, max: 40 }), (lines, lineLimit) => {
      const limits = { lineBytes: lineLimit, events: Infinity };
      const parsed = parseNdjsonBytes(Buffer.concat(lines.flatMap((line, i) => (i === 0 ? [line] : [Buffer.from('\n'), line]))), limits);
      const expected = { events: [] as unknown[], positions: [] as number[], rejected: [] as unknown[] };
      (lines.length === 0 ? [Buffer.alloc(0)] : lines).forEach((line, index) => {
        const text = line.toString('utf8');
        if (text.trim().length === 0) return;
        if (!isUtf8(line)) return void expected.rejected.push({ index, field: '', error: 'This line is not valid UTF-8; send text encoded as UTF-8.' });
        const alone = parseNdjson(text, limits);
        expected.events.push(...alone.events);
        expected.positions.push(...alone.positions.map(() => index));
        expected.rejected.push(...alone.rejected.map((r) => ({ ...r, index })));
      });
      assert.deepEqual(parsed, expected);
    }), { seed: SEED, numRuns: 2000 });
  });
});

describe('content encodings', () => {
  const encoders: Record<string, (body: Buffer) => Buffer> = { gzip: gzipSync, 'x-gzip': gzipSync, deflate: deflateSync, identity: (b) => b };

  test('content encodings - gzip, deflate and identity bodies, NDJSON or JSON, answer as the plain body does (fast-check, seeded)', async () => {
    await fc.assert(fc.asyncProperty(
      fc.integer({ min: 1, max: 20 }), fc.constantFrom('gzip', 'x-gzip', 'deflate', 'identity', 'GZIP', ' Deflate '), fc.boolean(),
      async (count, encoding, asJson) => {
        const events = Array.from({ length: count }, () => order());
        const plain = Buffer.from(asJson ? JSON.stringify(events) : ndjson(events));
        const logEnd = tandem.status().logEnd;
        const response = await post('/v1/events/order', encoders[encoding.trim().toLowerCase()]!(plain), {
          'content-type': asJson ? 'application/json' : 'application/x-ndjson', 'content-encoding': encoding,
        });
        assert.equal(response.statusCode, 200, response.body);
        assert.deepEqual(response.json(), { accepted: count, stored: count, duplicates: 0, rejected: [], firstOffset: logEnd, lastOffset: logEnd + count - 1, position: [logEnd + count] });
      },
    ), { seed: SEED, numRuns: 60 });
  });

  test('content encodings - a gzip query is decoded too', async () => {
    const response = await post('/v1/query', gzipSync(JSON.stringify({ view: 'all_time', granularity: 'all' })), { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    assert.equal(response.statusCode, 200, response.body);
  });

  test('content encodings - any other encoding gets 415 naming it, and nothing is stored (fast-check, seeded)', async () => {
    const logEnd = tandem.status().logEnd;
    const other = fc.oneof(fc.constantFrom('br', 'compress', 'zstd', 'gzip, gzip', 'gzip, identity', 'x-compress', 'deflate-raw', 'chunked'), token.filter((t) => !['gzip', 'x-gzip', 'deflate', 'identity'].includes(t)));
    await fc.assert(fc.asyncProperty(other, async (encoding) => {
      const response = await post('/v1/events/order', ndjson([order()]), { 'content-type': 'application/x-ndjson', 'content-encoding': encoding });
      assertError(response, 415, 'unsupported_encoding', /send the body uncompressed, or compressed with gzip or deflate\.$/);
    }), { seed: SEED, numRuns: 100 });
    assert.equal(tandem.status().logEnd, logEnd);
  });

  test('content encodings - a body that does not decompress as declared gets 400, truncated or not compressed at all (fast-check, seeded)', async () => {
    const logEnd = tandem.status().logEnd;
    const whole = gzipSync(ndjson([order(), order()]));
    const corrupt = fc.oneof(
      fc.integer({ min: 1, max: whole.length - 1 }).map((n) => ({ encoding: 'gzip', body: whole.subarray(0, n) })),
      fc.uint8Array({ minLength: 1, maxLength: 100 }).map((bytes) => ({ encoding: 'deflate', body: Buffer.concat([Buffer.from('{"id"'), bytes]) })),
      fc.constant({ encoding: 'gzip', body: Buffer.from(ndjson([order()])) }),
    );
    await fc.assert(fc.asyncProperty(corrupt, async ({ encoding, body }) => {
      const response = await post('/v1/events/order', body, { 'content-type': 'application/x-ndjson', 'content-encoding': encoding });
      assertError(response, 400, 'invalid_compression', new RegExp(`^The body is not valid ${encoding} data`));
    }), { seed: SEED, numRuns: 100 });
    assert.equal(tandem.status().logEnd, logEnd);
  });

  test('content encodings - the body limit counts decompressed bytes: a body just under it is taken, one over gets 413', async () => {
    const fits = Array.from({ length: 300 }, () => order());
    assert.ok(Buffer.byteLength(ndjson(fits)) < BODY_LIMIT);
    assert.equal((await post('/v1/events/order', gzipSync(ndjson(fits)), { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' })).statusCode, 200);
    const over = Buffer.from(ndjson(fits) + '\n' + ' '.repeat(BODY_LIMIT));
    const response = await post('/v1/events/order', gzipSync(over), { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' });
    assertError(response, 413, 'body_too_large', /limit of 65,536 bytes once decompressed; send smaller batches\.$/);
  });

  test('content encodings - a zip bomb (1 GiB of zeros in 1 MB of gzip) is refused at the limit, and decompression stops there', async () => {
    const member = gzipSync(Buffer.alloc(1024 * 1024));
    const bomb = Buffer.concat(Array.from({ length: 1024 }, () => member));
    let read = 0;
    const source = Readable.from((function* chunks() {
      for (let at = 0; at < bomb.length; at += 1024) {
        read += 1024;
        yield bomb.subarray(at, at + 1024);
      }
    })());
    const body = decodedBody(source, 'gzip', 4 * 1024 * 1024);
    let decoded = 0;
    const failure = await new Promise<Error>((resolve) => {
      body.on('data', (chunk: Buffer) => void (decoded += chunk.length));
      body.on('error', resolve);
      body.on('end', () => resolve(new Error('the whole bomb was decoded')));
    });
    assert.equal((failure as { code?: string }).code, 'body_too_large');
    assert.ok(decoded <= 4 * 1024 * 1024, `${decoded} bytes decoded`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.ok(read < bomb.length / 10, `${read} of ${bomb.length} compressed bytes read`);

    // Over HTTP, with a limit above the compressed size: 413, not a gigabyte in memory.
    const started = performance.now();
    const response = await post('/v1/events/order', bomb.subarray(0, 60 * member.length), { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' });
    assertError(response, 413, 'body_too_large', /once decompressed/);
    assert.ok(performance.now() - started < 5_000);
  });

  test('content encodings - over a real socket, a chunked gzip upload is decoded and a chunked bomb is refused with 413', async () => {
    await server.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = server.app.server.address() as { port: number };
    const send = (body: Buffer) => new Promise<{ status: number; text: string }>((resolve, reject) => {
      const request = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/v1/events/order', headers: { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip', 'transfer-encoding': 'chunked' } }, (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => void (text += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
      });
      request.on('error', reject);
      for (let at = 0; at < body.length; at += 100) request.write(body.subarray(at, at + 100));
      request.end();
    });
    const events = Array.from({ length: 50 }, () => order());
    const answer = await send(gzipSync(ndjson(events)));
    assert.equal(answer.status, 200, answer.text);
    assert.equal((JSON.parse(answer.text) as { accepted: number }).accepted, 50);
    const member = gzipSync(Buffer.alloc(1024 * 1024));
    const refused = await send(Buffer.concat(Array.from({ length: 50 }, () => member)));
    assert.equal(refused.status, 413, refused.text);
    assert.equal((JSON.parse(refused.text) as { error: { code: string } }).error.code, 'body_too_large');
  });
});
