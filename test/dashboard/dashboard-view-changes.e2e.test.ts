/**
 * The dashboard while a view changes on the server (issue #31): the batch
 * card shows the backfill's progress and what answers meanwhile, and the
 * explorer offers the new view once it is switched in, without a reload.
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { test } from 'node:test';
import { demoConfig, ShopGenerator } from '../../src/demo/index.ts';
import type { Tandem } from '../../src/index.ts';
import { chromiumSkipReason } from '../support/chromium.ts';
import { waitUntil, withDashboard } from './page-helpers.ts';

const ARTIFACTS = new URL('../../test-artifacts/', import.meta.url);
const HOUR = 3_600_000;
const byCoupon = { name: 'orders_by_coupon', eventType: 'order', dimensions: ['coupon'], granularity: 'day', measures: { orders: { type: 'count' }, revenue: { type: 'sum', field: 'amountUsd' } } };

test('dashboard: a view being backfilled shows its progress, then the explorer offers it', { skip: chromiumSkipReason(), timeout: 120_000 }, async () => {
  const generator = new ShopGenerator({ seed: 5 });
  const prepare = async (tandem: Tandem) => {
    const now = Date.now();
    // In many appends: each segment rolls over between appends, so the backfill reads several files.
    const history = generator.backfill(20_000, now - 40 * HOUR, now);
    for (const [type, list] of Object.entries(history)) for (let i = 0; i < list.length; i += 500) await tandem.ingest(type, list.slice(i, i + 500));
    await tandem.runBatch({ seal: true });
  };
  // A backfill that rests 40 times as long as it works: the page sees it under way.
  await withDashboard({ config: demoConfig, prepare, engine: { segmentBytes: 64 * 1024, backfillRestShare: 40 }, viewport: { width: 1280, height: 900 } }, async ({ tandem, page, base, problems }) => {
    await page.goto(base);
    await page.waitForSelector('#chart canvas');
    await tandem.applyView(byCoupon);
    await waitUntil('the batch card shows the backfill', async () => /orders_by_coupon v1 backfilling: \d+\/\d+ files · \d+%.* · answers once done/.test((await page.locator('#view-changes').textContent()) ?? ''));
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: new URL('dashboard-view-backfill.png', ARTIFACTS).pathname });
    await waitUntil('the new view is switched in', async () => tandem.status().viewChanges.length === 0, 90_000);
    await waitUntil('the explorer offers the new view', async () => (await page.locator('#view option[value="orders_by_coupon"]').count()) === 1);
    await waitUntil('the progress is gone', async () => ((await page.locator('#view-changes').textContent()) ?? '') === '');
    await page.selectOption('#view', 'orders_by_coupon');
    await waitUntil('the table has rows', async () => (await page.locator('#top tbody tr').count()) > 1);
    assert.deepEqual(problems, []);
  });
});
