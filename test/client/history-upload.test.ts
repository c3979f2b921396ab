/**
 * `client.uploadHistory` against a real server: a file sent by its path, as
 * a Node stream and as bytes is imported, and its summary comes back with
 * the name given; the bytes sent are told as they go; a file of no known
 * format is refused before anything is sent; the server's refusals come
 * back as their classes.
 */
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createClient, HistoryUploadTooLargeError, UnknownEventTypeError, type TandemClient } from '../../src/client/index.ts';
import { shopConfig } from '../support/shop-config.ts';
import { makeTempDir } from '../support/temp-dir.ts';
import { openTestServer, type TestServer } from '../support/test-server.ts';

function order(id: string, day: number): Record<string, unknown> {
  return { id, at: new Date(Date.UTC(2023, 0, 1 + day)).toISOString(), country: 'DE', mobile: day % 2 === 0, amount: 10 + day, qty: 1 };
}

describe('client - uploadHistory', () => {
  let opened: TestServer;
  let client: TandemClient<typeof shopConfig>;
  let files: Awaited<ReturnType<typeof makeTempDir>>;

  before(async () => {
    opened = await openTestServer(shopConfig, { limits: { historyBytes: 50_000 } });
    client = createClient<typeof shopConfig>({ url: await opened.server.app.listen({ host: '127.0.0.1', port: 0 }) });
    files = await makeTempDir('tandem-client-history-');
  });
  after(async () => {
    await opened.close();
    await files.remove();
  });

  const orders = async () => (await client.query({ view: 'by_country_hour', granularity: 'all' })).rows[0]?.orders;

  test('a path, a Node stream and bytes are imported; the bytes sent are told; the answers count the events', { timeout: 60_000 }, async () => {
    const path = join(files.dir, 'orders-2023.ndjson');
    const text = Array.from({ length: 40 }, (_, i) => JSON.stringify(order(`a${i}`, i))).join('\n') + '\n';
    await writeFile(path, text);
    const told: [number, number | undefined][] = [];
    const first = await client.uploadHistory('order', path, { onBytes: (sent, total) => told.push([sent, total]) });
    assert.deepEqual([first.imported, first.duplicates, first.rejected, first.files[0]!.file], [40, 0, 0, 'orders-2023.ndjson']);
    assert.deepEqual(told.at(-1), [Buffer.byteLength(text), Buffer.byteLength(text)], 'the last count is the whole file');
    const again = await client.uploadHistory('order', createReadStream(path), { format: 'ndjson', name: 'again.ndjson' });
    assert.deepEqual([again.imported, again.duplicates, again.files[0]!.file], [0, 40, 'again.ndjson']);
    const bytes = await client.uploadHistory('order', Buffer.from(JSON.stringify([order('b1', 100), order('b2', 101)])), { format: 'json' });
    assert.equal(bytes.imported, 2);
    assert.equal(await orders(), 42);
  });

  test('a name of no known format is refused before sending; the server\'s refusals are their classes', async () => {
    await assert.rejects(client.uploadHistory('order', join(files.dir, 'orders.txt')), (e: unknown) => e instanceof TypeError && /orders\.txt/.test(e.message));
    const path = join(files.dir, 'big.csv');
    await writeFile(path, `id,at,country,mobile,amount,qty\n${'x,2023-01-01T00:00:00Z,DE,true,1,1\n'.repeat(2_000)}`);
    await assert.rejects(client.uploadHistory('order', path), (e: unknown) => e instanceof HistoryUploadTooLargeError && e.limit === 50_000);
    await assert.rejects(client.uploadHistory('refund' as 'order', await readFile(path), { format: 'csv' }), (e: unknown) => e instanceof UnknownEventTypeError && e.eventType === 'refund');
  });
});
