/**
 * History files sent to a running server (`POST /v1/history/{eventType}`):
 * a Parquet file and a CSV file are imported and published, after which
 * every answer counts exactly their accepted events; a keyed type loaded
 * twice adds nothing; a second upload while one runs is a 409, a file past
 * the limit a 413, an unknown type a 404; `/v1/status` follows an upload;
 * and no temporary file outlives its request, whether it succeeded, was
 * refused or was cut off by the client.
 */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import fc from 'fast-check';
import { dataDirectory } from '../../src/util/data-directory.ts';
import { checkAllQueries } from '../support/check-answers.ts';
import { eventually } from '../support/eventually.ts';
import { shopConfig } from '../support/shop-config.ts';
import { AcceptedEvents, shopEvent, type GeneratedEvent } from '../support/shop-events.ts';
import { makeTempDir } from '../support/temp-dir.ts';
import { openTestServer, type TestServer } from '../support/test-server.ts';

const LIMIT = 100_000;

/** Generated orders whose keys are `prefix`-ed, so that each file's are its own; events with an undeclared field are left out (a file's columns are fixed). */
function orders(prefix: string, count: number, seed: number): GeneratedEvent[] {
  return fc.sample(shopEvent, { numRuns: count, seed }).filter((e) => !('extra' in e.raw)).map((e) => ({
    ...e, ref: { ...e.ref, id: `${prefix}${e.ref.id}` }, raw: { ...e.raw, id: `${prefix}${String(e.raw.id)}` },
  }));
}

/** Writes the events as Parquet or CSV with DuckDB, every value as text (as a CSV-born file holds it). */
async function writeFileOf(dir: string, name: string, events: readonly GeneratedEvent[], format: 'parquet' | 'csv'): Promise<string> {
  const ndjson = join(dir, `${name}.ndjson`);
  await writeFile(ndjson, events.map((e) => JSON.stringify(e.raw)).join('\n') + '\n');
  const path = join(dir, `${name}.${format}`);
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const columns = ['id', 'at', 'country', 'device', 'amount', 'qty'].map((c) => `'${c}': 'VARCHAR'`).join(', ');
  await connection.run(`COPY (SELECT "id", "at", "country", "device", "mobile", "amount", CAST("qty" AS DOUBLE) AS "qty" FROM read_json('${ndjson}', format = 'newline_delimited',
    columns = {${columns}, 'mobile': 'BOOLEAN'})) TO '${path}' (FORMAT ${format === 'csv' ? 'csv, HEADER' : 'parquet'})`);
  connection.closeSync();
  instance.closeSync();
  return path;
}

describe('history upload - over HTTP', () => {
  let opened: TestServer;
  let url: string;
  let files: Awaited<ReturnType<typeof makeTempDir>>;
  let uploads: string;
  const accepted = new AcceptedEvents();

  const upload = async (path: string, contentType: string, query = '') => {
    const response = await fetch(`${url}/v1/history/order${query}`, { method: 'POST', headers: { 'content-type': contentType }, body: await readFile(path) });
    return { status: response.status, body: await response.json() as Record<string, unknown> };
  };
  const leftovers = async () => (await readdir(uploads).catch(() => [])).length;

  before(async () => {
    // The limit from the config's server.limits (the client's test gives it as a server option); the files are larger
    // than the body limit of event requests, which does not bound them.
    opened = await openTestServer({ ...shopConfig, server: { limits: { historyBytes: LIMIT, bodyBytes: 4096 } } });
    url = await opened.server.app.listen({ host: '127.0.0.1', port: 0 });
    files = await makeTempDir('tandem-history-files-');
    uploads = dataDirectory(opened.tandem.dataDir).uploads;
  });
  after(async () => {
    await opened.close();
    await files.remove();
  });

  test('a Parquet file and a CSV file are imported: the summary counts them, and every answer counts exactly the accepted events', { timeout: 120_000 }, async () => {
    const live = orders('live-', 60, 1);
    await opened.tandem.ingestUntyped('order', live.map((e) => e.raw));
    accepted.add(live);
    for (const [i, format] of (['parquet', 'csv'] as const).entries()) {
      // CSV writes a missing field and an empty string alike, so its file holds valid events only.
      const events = orders(`${format}-`, 300, 10 + i).filter((e) => format === 'parquet' || e.valid);
      const path = await writeFileOf(files.dir, `orders-${format}`, events, format);
      assert.ok((await readFile(path)).length > 4096, 'the file is larger than the body limit');
      const before = accepted.events.length;
      accepted.add(events);
      const { status, body } = await upload(path, format === 'csv' ? 'text/csv' : 'application/vnd.apache.parquet', `?name=${format}-orders.${format}`);
      assert.equal(status, 200, JSON.stringify(body));
      assert.equal(body.imported, accepted.events.length - before, `${format}: imported`);
      assert.equal(body.rejected, events.filter((e) => !e.valid).length, `${format}: rejected`);
      assert.equal((body.files as { file: string }[])[0]!.file, `${format}-orders.${format}`, 'the file is named as the client named it, not by its temporary path');
      assert.equal(await leftovers(), 0, 'the temporary file is gone');
      await checkAllQueries(opened.tandem, accepted);
    }
  });

  test('a keyed type loaded twice adds nothing the second time; octet-stream with ?format= is taken', { timeout: 60_000 }, async () => {
    const events = orders('twice-', 200, 3);
    const path = await writeFileOf(files.dir, 'twice', events, 'parquet');
    accepted.add(events);
    const first = await upload(path, 'application/vnd.apache.parquet');
    assert.equal(first.status, 200, JSON.stringify(first.body));
    const again = await upload(path, 'application/octet-stream', '?format=parquet');
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.equal(again.body.imported, 0);
    assert.equal(again.body.duplicates, (first.body.imported as number) + (first.body.duplicates as number), "every valid row is stored already");
    await checkAllQueries(opened.tandem, accepted);
    assert.equal(await leftovers(), 0);
  });

  test('while a file arrives, /v1/status shows it and a second upload is a 409; a client that gives up leaves no file, and the next upload runs', { timeout: 60_000 }, async () => {
    const chunk = Buffer.from(`${JSON.stringify({ id: 'slow-1', at: '2024-03-02T00:00:00Z', country: 'DE', mobile: true, amount: 1, qty: 1 })}\n`);
    const slow = httpRequest(`${url}/v1/history/order?name=slow.ndjson`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' } });
    const ended = new Promise<void>((resolve) => slow.on('error', () => resolve()).on('close', () => resolve()));
    slow.write(chunk);
    const history = async () => ((await (await fetch(`${url}/v1/status`)).json()) as { history?: Record<string, unknown> }).history;
    await eventually(async () => (await history())?.bytesReceived === chunk.length, 'the status to count the bytes sent');
    assert.deepEqual(await history(), { eventType: 'order', phase: 'uploading', file: 'slow.ndjson', bytesReceived: chunk.length, rowsDone: 0, rowsKnown: 0 });
    const second = await fetch(`${url}/v1/history/order`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: chunk });
    assert.equal(second.status, 409);
    assert.equal((await second.json() as { error: { code: string } }).error.code, 'history_import_running');
    assert.equal(await leftovers(), 1, 'the first upload is on disk while it arrives');
    slow.destroy();
    await ended;
    await eventually(async () => (await leftovers()) === 0, 'the cut-off upload to be removed');
    await eventually(async () => (await history()) === undefined, 'the status to drop the cut-off upload');
    const next = await fetch(`${url}/v1/history/order`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: chunk });
    assert.equal(next.status, 200, await next.text());
  });

  test('a file past the limit is a 413 naming it, whether its length is declared or not; nothing stays', async () => {
    const big = Buffer.alloc(LIMIT + 1, 'x');
    const declared = await fetch(`${url}/v1/history/order`, { method: 'POST', headers: { 'content-type': 'text/csv' }, body: big });
    assert.equal(declared.status, 413);
    const error = (await declared.json() as { error: { code: string; message: string } }).error;
    assert.equal(error.code, 'history_upload_too_large');
    assert.match(error.message, /100,000 bytes/);
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${url}/v1/history/order`, { method: 'POST', headers: { 'content-type': 'text/csv' } }, (res) => resolve(res.statusCode!));
      req.on('error', reject);
      req.write(big.subarray(0, LIMIT / 2));
      req.end(big.subarray(LIMIT / 2));
    });
    assert.equal(chunked, 413);
    await eventually(async () => (await leftovers()) === 0, 'the refused uploads to be removed');
  });

  test('a gzip body is decoded as it arrives, and the limit counts its decoded bytes', async () => {
    const events = Array.from({ length: 50 }, (_, i) => ({ id: `gz-${i}`, at: '2024-03-05T00:00:00Z', country: 'FR', mobile: false, amount: 2, qty: 1 }));
    const zipped = await fetch(`${url}/v1/history/order?name=gz.ndjson`, {
      method: 'POST', headers: { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' }, body: gzipSync(events.map((e) => JSON.stringify(e)).join('\n')),
    });
    assert.equal(zipped.status, 200, await zipped.clone().text());
    assert.equal((await zipped.json() as { imported: number }).imported, 50);
    const bomb = await fetch(`${url}/v1/history/order`, { method: 'POST', headers: { 'content-type': 'text/csv', 'content-encoding': 'gzip' }, body: gzipSync(Buffer.alloc(LIMIT * 3, 'a')) });
    assert.equal(bomb.status, 413);
    assert.equal((await bomb.json() as { error: { code: string } }).error.code, 'history_upload_too_large');
    await eventually(async () => (await leftovers()) === 0, 'the refused upload to be removed');
  });

  test('an unknown event type is its 404, a media type that says no format a 415, an unreadable file a 400 naming the client\'s name', async () => {
    const unknown = await fetch(`${url}/v1/history/nope`, { method: 'POST', headers: { 'content-type': 'text/csv' }, body: 'a\n1\n' });
    assert.equal(unknown.status, 404);
    assert.equal((await unknown.json() as { error: { code: string } }).error.code, 'unknown_event_type');
    for (const contentType of ['text/plain', 'application/octet-stream']) {
      const refused = await fetch(`${url}/v1/history/order`, { method: 'POST', headers: { 'content-type': contentType }, body: 'a\n1\n' });
      assert.equal(refused.status, 415, contentType);
    }
    const broken = await fetch(`${url}/v1/history/order?name=broken.parquet`, { method: 'POST', headers: { 'content-type': 'application/vnd.apache.parquet' }, body: 'not parquet' });
    assert.equal(broken.status, 400);
    const error = (await broken.json() as { error: { code: string; message: string } }).error;
    assert.equal(error.code, 'history_file_unreadable');
    assert.match(error.message, /^History file broken\.parquet cannot be imported/);
    assert.equal(await leftovers(), 0);
  });
});

describe('history upload - progress', () => {
  test('/v1/status follows the import past the upload: importing, then publishing, with the client\'s name and the rows done', { timeout: 120_000 }, async () => {
    const opened = await openTestServer(shopConfig);
    try {
      const url = await opened.server.app.listen({ host: '127.0.0.1', port: 0 });
      const rows = 40_000;
      const body = Array.from({ length: rows }, (_, i) => JSON.stringify({ id: `p${i}`, at: 1_700_000_000_000 + i * 1000, country: 'DE', mobile: i % 2 === 0, amount: 1, qty: 1 })).join('\n');
      const seen: { phase: string; file: string; rowsDone: number; rowsKnown: number }[] = [];
      let done = false;
      const watching = (async () => {
        while (!done) {
          const { history } = await (await fetch(`${url}/v1/status`)).json() as { history?: (typeof seen)[number] };
          if (history !== undefined) seen.push(history);
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      })();
      const answer = await fetch(`${url}/v1/history/order?name=progress.ndjson`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body });
      done = true;
      await watching;
      assert.equal(answer.status, 200, await answer.text());
      const phases = [...new Set(seen.map((s) => s.phase))];
      assert.ok(phases.includes('importing') || phases.includes('publishing'), `phases seen: ${phases.join(', ')}`);
      assert.ok(seen.every((s) => s.file === 'progress.ndjson' && s.rowsDone <= Math.max(s.rowsKnown, rows)));
      const last = seen.at(-1)!;
      if (last.phase === 'publishing') assert.deepEqual([last.rowsDone, last.rowsKnown], [rows, rows]);
    } finally {
      await opened.close();
    }
  });
});
