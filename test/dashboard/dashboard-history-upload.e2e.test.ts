/**
 * The dashboard while a history file is sent to the server (issue #31,
 * `tandem ingest --history --url`): the batch card shows the upload as it
 * arrives and is gone once the file is imported and published. The body is
 * held open half sent, so the page sees the upload whatever the machine's
 * speed.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { demoConfig, ShopGenerator } from '../../src/demo/index.ts';
import { chromiumSkipReason } from '../support/chromium.ts';
import { waitUntil, withDashboard } from './page-helpers.ts';

const HOUR = 3_600_000;

test('dashboard: a history file being uploaded shows its progress, then goes once imported', { skip: chromiumSkipReason(), timeout: 120_000 }, async () => {
  const now = Date.now();
  const orders = new ShopGenerator({ seed: 9 }).backfill(3_000, now - 400 * HOUR, now - 200 * HOUR).order ?? [];
  const lines = new TextEncoder().encode(orders.map((e) => JSON.stringify(e)).join('\n') + '\n');
  const half = Math.floor(lines.length / 2);
  await withDashboard({ config: demoConfig, viewport: { width: 1280, height: 900 } }, async ({ tandem, page, base, problems }) => {
    await page.goto(base);
    // The status stream has reached the page: its first snapshot fills the ingest rate.
    await waitUntil('the page shows the status', async () => /events\/s/.test((await page.locator('#ingest-rate').textContent()) ?? ''));
    let send!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({ start: (controller) => void (send = controller) });
    const answered = fetch(`${base}/v1/history/order?name=old-orders.ndjson`, {
      method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body, duplex: 'half',
    } as RequestInit & { duplex: 'half' });
    // Should a wait below fail, the server's close ends this request: that is not a second failure.
    answered.catch(() => undefined);
    send.enqueue(lines.subarray(0, half));
    await waitUntil('the batch card shows the upload', async () => /history old-orders\.ndjson → order uploading: \d+ KiB received/.test((await page.locator('#history-import').textContent()) ?? ''));
    send.enqueue(lines.subarray(half));
    send.close();
    const answer = await answered;
    assert.equal(answer.status, 200, await answer.clone().text());
    const summary = await answer.json() as { imported: number };
    assert.ok(summary.imported > 0 && summary.imported <= orders.length, `${summary.imported} of ${orders.length} imported`);
    await waitUntil('the progress is gone', async () => ((await page.locator('#history-import').textContent()) ?? '') === '');
    assert.equal(tandem.status().idempotencyKeys >= summary.imported, true);
    assert.deepEqual(problems, []);
  });
});
