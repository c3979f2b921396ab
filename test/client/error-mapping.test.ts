/**
 * Every error the server answers with comes back as the class the engine or
 * the server threw: each is put through the server's own error mapping
 * (`httpError`) and read back by the client's, and must keep its class,
 * code, message and the fields the request or the message tell.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  BodyTooLargeError, createClient, CrossOriginError, DiskFullError, ErasureFrozenValueError, ForbiddenError, HeadersTooLargeError, HostNotAllowedError, InvalidCompressionError,
  InvalidEventError, InvalidQueryError, InvalidUtf8Error, LogClosedError, LogOverloadedError, LogWriteError, MalformedBodyError, MalformedHttpError,
  QueryTimeoutError, RequestTimeoutError, ResultTooLargeError, ServerUnreachableError, ShuttingDownError, SpeedLayerFullError, TandemError,
  TandemHttpError, TimeZoneRollUpError, TooManyEventsError, UnauthorizedError, UnknownDimensionError, UnknownEventTypeError, UnknownMeasureError, UnknownTimeZoneError,
  UnknownViewError, UnsupportedCharsetError, UnsupportedEncodingError, UnsupportedMediaTypeError, HistoryImportRunningError, HistoryUploadTooLargeError, HistoryFileError,
  HistoryImportUnsupportedError,
} from '../../src/client/index.ts';
import { errorFromAnswer, readErrorAnswer, type RequestContext } from '../../src/client/error-from-answer.ts';
import { httpError } from '../../src/server/http-errors.ts';
import { errorAnswer, startStub, withStub } from './stub-server.ts';

interface Case {
  readonly error: TandemError;
  readonly context?: RequestContext;
  /** Fields that must come back equal; the others (files, causes) the answer does not carry. */
  readonly fields: readonly string[];
}

const CASES: readonly Case[] = [
  { error: new UnknownEventTypeError('refund'), context: { eventType: 'refund' }, fields: ['eventType'] },
  { error: new InvalidEventError('amount', "Field 'amount' must be a number, not string \"ten\"."), fields: ['field'] },
  { error: new InvalidQueryError('from', 'from must be an ISO-8601 date-time or epoch milliseconds.'), fields: ['field'] },
  { error: new UnknownViewError('revenue_by_contry'), context: { query: { view: 'revenue_by_contry' } }, fields: ['view'] },
  { error: new UnknownViewError('revenue_by_contry'), fields: ['view'] },
  { error: new UnknownDimensionError('groupBy[1]', 'contry', 'v'), context: { query: { view: 'v', groupBy: ['device', 'contry'] } }, fields: ['field', 'dimension', 'view'] },
  { error: new UnknownDimensionError('where.contry', 'contry', 'v'), context: { query: { view: 'v', where: { contry: 'DE' } } }, fields: ['field', 'dimension', 'view'] },
  { error: new UnknownMeasureError('orderBy[0].measure', 'revenu', 'v'), context: { query: { view: 'v', orderBy: [{ measure: 'revenu' }] } }, fields: ['field', 'measure', 'view'] },
  { error: new UnknownTimeZoneError('Mars/Base'), context: { query: { view: 'v', timeZone: 'Mars/Base' } }, fields: ['field', 'timeZone'] },
  { error: new UnknownTimeZoneError('Mars/Base'), fields: ['field', 'timeZone'] },
  { error: new TimeZoneRollUpError('v', 'day', 'Europe/Berlin', 'hour'), context: { query: { view: 'v', timeZone: 'Europe/Berlin' } }, fields: ['field', 'view', 'granularity', 'timeZone', 'needs'] },
  { error: new TimeZoneRollUpError('v', 'hour', 'Asia/Kolkata', 'minute'), fields: ['field', 'view', 'granularity', 'timeZone', 'needs'] },
  { error: new TimeZoneRollUpError('v', 'minute', 'Asia/Kolkata', undefined), fields: ['field', 'view', 'granularity', 'timeZone', 'needs'] },
  { error: new ResultTooLargeError(123_456, 100_000), fields: ['field', 'rows', 'maxRows'] },
  { error: new QueryTimeoutError(10_000), fields: ['timeoutMs'] },
  { error: new SpeedLayerFullError(5_000_000, 5_000_000), fields: ['held', 'limit', 'measure'] },
  { error: new SpeedLayerFullError(1.5 * 2 ** 30, 2 ** 30, 'bytes'), fields: ['held', 'limit', 'measure'] },
  { error: new LogClosedError(), fields: [] },
  { error: new LogWriteError('/data/log/0.seg', new Error('EIO')), fields: [] },
  { error: new LogOverloadedError(1_000_123, 1_000_000), fields: ['pendingEvents', 'limit'] },
  { error: new DiskFullError('/data', new Error('ENOSPC')), fields: [] },
  { error: new MalformedBodyError('The query must be a JSON object such as {"view": "..."}.'), fields: [] },
  { error: new UnauthorizedError('The API key is not valid for this server.'), fields: [] },
  { error: new ForbiddenError('admin', "This API key may not run batches or read status and metrics; that needs a key with the 'admin' scope."), fields: ['scope'] },
  { error: new TooManyEventsError(100_001, 100_000), fields: ['events', 'limit'] },
  { error: new BodyTooLargeError(16_777_216), fields: ['limit'] },
  { error: new BodyTooLargeError(1024, true), fields: ['limit'] },
  { error: new UnsupportedMediaTypeError('text/plain', 'application/json'), fields: ['mediaType'] },
  { error: new UnsupportedMediaTypeError(undefined, 'application/json'), fields: ['mediaType'] },
  { error: new UnsupportedCharsetError('latin1'), fields: ['charset'] },
  { error: new UnsupportedEncodingError('br'), fields: ['encoding'] },
  { error: new InvalidCompressionError('gzip'), fields: ['encoding'] },
  { error: new InvalidUtf8Error(), fields: [] },
  { error: new HostNotAllowedError(), fields: [] },
  { error: new CrossOriginError(), fields: [] },
  { error: new ShuttingDownError(), fields: [] },
  { error: new RequestTimeoutError(10_000, 30_000), fields: ['headersMs', 'requestMs'] },
  { error: new RequestTimeoutError(1_500, 2_000), fields: ['headersMs', 'requestMs'] },
  { error: new HeadersTooLargeError(16_384), fields: ['limit'] },
  { error: new MalformedHttpError(), fields: [] },
  { error: new ErasureFrozenValueError('largest', 'most', 'units'), fields: ['view', 'measure', 'field'] },
  { error: new HistoryImportRunningError('order'), fields: ['eventType'] },
  { error: new HistoryUploadTooLargeError(10 * 2 ** 30), fields: ['limit'] },
  { error: new HistoryFileError('orders: 2023.parquet', 'DuckDB cannot read it: No magic bytes found at end of file'), fields: ['file', 'reason'] },
  { error: new HistoryImportUnsupportedError('A cluster node takes no history upload: import the file with tandem ingest --history.'), fields: [] },
];

describe('client - error answers', () => {
  for (const { error, context, fields } of CASES) {
    test(`errors - ${error.code} comes back as ${error.constructor.name}${context === undefined ? ' without context' : ''}`, () => {
      const { status, body } = httpError(error, 1024);
      const back = errorFromAnswer(status, body.error, context);
      assert.equal(back.constructor, error.constructor);
      assert.ok(back instanceof TandemError);
      assert.equal(back.code, error.code);
      assert.equal(back.name, error.name);
      assert.equal(back.message, body.error.message, 'the server\'s own message');
      for (const field of fields) assert.deepEqual((back as unknown as Record<string, unknown>)[field], (error as unknown as Record<string, unknown>)[field], field);
    });
  }

  test('errors - an unknown code, or an answer that is no Tandem error, becomes a TandemHttpError', () => {
    const unknown = errorFromAnswer(418, { code: 'teapot', message: 'No coffee here.', field: 'pot' });
    assert.ok(unknown instanceof TandemHttpError && unknown instanceof TandemError);
    assert.deepEqual([unknown.code, unknown.status, unknown.message, unknown.field, unknown.name], ['teapot', 418, 'No coffee here.', 'pot', 'TandemHttpError']);
    assert.deepEqual(readErrorAnswer(502, '<html>Bad Gateway</html>'), { code: 'unexpected_answer', message: 'The server answered 502: <html>Bad Gateway</html>' });
    assert.deepEqual(readErrorAnswer(500, ''), { code: 'unexpected_answer', message: 'The server answered 500 with an empty body.' });
    assert.deepEqual(readErrorAnswer(400, '{"error":{"code":"x"}}').code, 'unexpected_answer');
    // Names on Object.prototype are no codes.
    assert.ok(errorFromAnswer(400, { code: 'constructor', message: 'm' }) instanceof TandemHttpError);
  });

  test('errors - a proxy\'s page and a body that is not JSON', async () => {
    await withStub((r) => (r.url.endsWith('status') ? { status: 502, body: '<html>Bad Gateway</html>' } : { status: 200, body: 'OK' }), async (stub) => {
      const client = createClient({ url: stub.url });
      await assert.rejects(client.status(), (e: unknown) => e instanceof TandemHttpError && e.status === 502 && e.code === 'unexpected_answer');
      await assert.rejects(client.views(), (e: unknown) => e instanceof TandemHttpError && e.status === 200 && /not JSON: OK/.test(e.message));
    });
  });

  test('errors - a server that is not there: ServerUnreachableError', async () => {
    const stub = await startStub(() => ({ status: 200 }));
    await stub.close();
    await assert.rejects(createClient({ url: stub.url }).status(), (e: unknown) =>
      e instanceof ServerUnreachableError && e.code === 'server_unreachable' && e.url === `${stub.url}/` && /ECONNREFUSED/.test(e.message) && e.cause !== undefined);
  });
});

describe('client - requests', () => {
  test('requests - the base URL\'s path is kept; the key, media types and extra headers are sent', async () => {
    await withStub((r) => (r.url.includes('events') ? { status: 200, body: { accepted: 2, stored: 2, duplicates: 0, rejected: [], firstOffset: 0, lastOffset: 1 } } : { status: 200, body: {} }), async (stub) => {
      const client = createClient({ url: `${stub.url}/tandem`, apiKey: 'secret-key-0123456789', headers: { 'x-trace': 't1' } });
      assert.equal(client.url, `${stub.url}/tandem/`);
      await client.ingest('page view', [{ a: 1, text: 'line\nbreak' }, undefined]);
      await client.query({ view: 'v', limit: 1 });
      await client.batch();
      await client.status();
      await client.views();
      assert.deepEqual(stub.requests.map((r) => `${r.method} ${r.url}`), [
        'POST /tandem/v1/events/page%20view', 'POST /tandem/v1/query', 'POST /tandem/v1/batch', 'GET /tandem/v1/status', 'GET /tandem/v1/views',
      ]);
      const [ingest, query, batch, status] = stub.requests;
      // One event per line, line breaks inside strings escaped; a value JSON cannot write goes as null, rejected at its index.
      assert.equal(ingest!.body, '{"a":1,"text":"line\\nbreak"}\nnull');
      assert.equal(ingest!.headers['content-type'], 'application/x-ndjson');
      assert.equal(query!.body, '{"view":"v","limit":1}');
      assert.equal(query!.headers['content-type'], 'application/json');
      assert.equal(batch!.body, '{}');
      assert.equal(status!.headers['content-type'], undefined);
      for (const r of stub.requests) {
        assert.equal(r.headers.authorization, 'Bearer secret-key-0123456789');
        assert.equal(r.headers.accept, 'application/json');
        assert.equal(r.headers['x-trace'], 't1');
      }
    });
  });

  test('ingest - a body too large in bytes is sent again in halves, for this call only; one event too large alone fails', async () => {
    const tooLarge = errorAnswer(413, 'body_too_large', "The request body is larger than this server's limit of 100 bytes; send smaller batches.");
    const lines = (body: string) => body.split('\n').length;
    await withStub((r) => (lines(r.body) > 3 || r.body.includes('huge') ? tooLarge : { status: 200, body: { accepted: lines(r.body), stored: lines(r.body), duplicates: 0, rejected: [], firstOffset: 0, lastOffset: 0 } }), async (stub) => {
      const client = createClient({ url: stub.url, batchSize: 8 });
      const result = await client.ingest('e', Array.from({ length: 10 }, (_, i) => ({ i })));
      assert.equal(result.accepted, 10);
      assert.deepEqual(stub.requests.map((r) => lines(r.body)), [8, 4, 2, 2, 2, 2, 2]);

      stub.requests.length = 0;
      await client.ingest('e', [{ i: 0 }, { i: 1 }, { i: 2 }]);
      assert.deepEqual(stub.requests.map((r) => lines(r.body)), [3], 'the next call starts at the full batch size again');

      stub.requests.length = 0;
      await assert.rejects(client.ingest('e', [{ i: 0 }, { huge: true }]), (e: unknown) => e instanceof BodyTooLargeError && e.code === 'body_too_large' && e.limit === 100);
      assert.deepEqual(stub.requests.map((r) => lines(r.body)), [2, 1, 1]);
    });
  });

  test('ingest - a 413 too_many_events that states no limit halves the batch', async () => {
    const tooMany = errorAnswer(413, 'too_many_events', 'Too many events in one request.');
    await withStub((r) => (r.body.split('\n').length > 2 ? tooMany : { status: 200, body: { accepted: 2, stored: 2, duplicates: 0, rejected: [], firstOffset: 0, lastOffset: 1 } }), async (stub) => {
      const result = await createClient({ url: stub.url, batchSize: 8 }).ingest('e', Array.from({ length: 4 }, (_, i) => ({ i })));
      assert.equal(result.accepted, 4);
      assert.deepEqual(stub.requests.map((r) => r.body.split('\n').length), [4, 2, 2]);
    });
  });

  test('options - a batch size that is not a positive integer is refused at once', () => {
    assert.throws(() => createClient({ url: 'http://127.0.0.1:1', batchSize: 0 }), RangeError);
    assert.throws(() => createClient({ url: 'http://127.0.0.1:1', batchSize: 1.5 }), RangeError);
    assert.throws(() => createClient({ url: 'not a url' }), TypeError);
  });
});
