import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { test } from 'node:test';
import { demoConfig, ShopGenerator, type ShopEvents } from '../../src/demo/index.ts';
import type { Tandem } from '../../src/index.ts';
import { keyDigest } from '../../src/definitions/index.ts';
import { chromiumSkipReason } from '../support/chromium.ts';
import { sidewaysOverflow, text, waitForText, waitUntil, withDashboard, type DashboardServer } from './page-helpers.ts';

const ARTIFACTS = new URL('../../test-artifacts/', import.meta.url);
const HOUR = 3_600_000;

async function ingest(tandem: Tandem, events: ShopEvents): Promise<void> {
  for (const [type, list] of Object.entries(events)) if (list.length > 0) await tandem.ingest(type, list);
}

test('dashboard: live layer strip, explorer filter, batch moves version and boundary, phone width, dark theme, no console errors', { skip: chromiumSkipReason(), timeout: 120_000 }, async () => {
  const generator = new ShopGenerator({ seed: 42 });
  const prepare = async (tandem: Tandem) => {
    const now = Date.now();
    await ingest(tandem, generator.backfill(20_000, now - 20 * HOUR, now));
    await tandem.runBatch();
    await ingest(tandem, generator.live(3000));
  };
  await withDashboard({ config: demoConfig, server: { version: 'test' }, viewport: { width: 1280, height: 900 }, prepare }, async ({ tandem, page, base, problems }) => {
    page.on('console', (message) => { if (message.type() === 'error') problems.push(`console: ${message.text()}`); });
    page.on('request', (request) => { if (!request.url().startsWith(base) && !request.url().startsWith('data:')) problems.push(`outside request: ${request.url()}`); });
    await page.goto(base);

    // The layer strip shows the live offsets, and follows new ingest.
    await waitForText(page, '#log-end', tandem.status().logEnd.toLocaleString('en-US'));
    await waitForText(page, '#batch-version', 'v1');
    assert.equal(await text(page, '#batch-cutoff'), `offset ${tandem.status().batch!.cutoff.toLocaleString('en-US')}`);
    await ingest(tandem, generator.live(500));
    await waitForText(page, '#log-end', tandem.status().logEnd.toLocaleString('en-US'));

    // The explorer: pick a view, see a chart and a table; a filter changes both.
    await page.selectOption('#view', 'revenue_by_country');
    await page.waitForSelector('#chart canvas');
    await waitUntil('the table has rows', async () => (await page.locator('#top tbody tr').count()) > 1);
    const totalBefore = await page.getAttribute('#chart', 'data-total');
    const rowsBefore = await page.locator('#top tbody tr').count();
    await page.waitForSelector('select[data-dimension="country"] option[value="\\"DE\\""]', { state: 'attached' });
    await page.selectOption('select[data-dimension="country"]', '"DE"');
    await waitUntil('the chart changes', async () => (await page.getAttribute('#chart', 'data-total')) !== totalBefore);
    await waitUntil('the table shows one country', async () => (await page.locator('#top tbody tr').count()) === 1);
    assert.ok(rowsBefore > 1);
    assert.equal(await text(page, '#top tbody tr td >> nth=0'), 'DE');
    assert.match(await page.inputValue('#query-text'), /"country": "DE"/);

    // The query box runs the query it shows and prints the answer's meta.
    await page.click('#run-query');
    await waitUntil('the query box shows meta', async () => ((await page.locator('#query-meta').textContent()) ?? '').startsWith('meta '));
    assert.match(await text(page, '#query-meta'), /"batchVersion":1/);

    // A batch moves the version, the cutoff and the chart's boundary.
    const boundaryBefore = await page.getAttribute('#chart', 'data-boundary');
    await page.click('#run-batch');
    await waitForText(page, '#batch-version', 'v2');
    await waitForText(page, '#batch-cutoff', `offset ${tandem.status().batch!.cutoff.toLocaleString('en-US')}`);
    await waitUntil('the boundary moves', async () => (await page.getAttribute('#chart', 'data-boundary')) !== boundaryBefore);
    await waitForText(page, '#speed-events', '0');

    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: new URL('dashboard-desktop.png', ARTIFACTS).pathname, fullPage: true });

    // Phone width: nothing overflows sideways. Dark theme applies.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(300);
    const overflow = await sidewaysOverflow(page);
    assert.ok(overflow <= 0, `page overflows a phone screen by ${overflow}px`);
    await page.click('#theme');
    assert.equal(await page.getAttribute('html', 'data-theme'), 'dark');
    await page.waitForTimeout(300);
    await page.screenshot({ path: new URL('dashboard-phone-dark.png', ARTIFACTS).pathname, fullPage: true });

    assert.deepEqual(problems, []);
  });
});

test('dashboard: on a server with API keys it asks for a key, refuses a wrong one, and works with the right one', { skip: chromiumSkipReason(), timeout: 60_000 }, async () => {
  const secret = 'dashboard-key-0123456789';
  const prepare = (tandem: Tandem) => ingest(tandem, new ShopGenerator({ seed: 7 }).live(1000));
  const server = { apiKeys: [{ name: 'ops', scopes: new Set(['query', 'admin']), digest: keyDigest(secret) }] } satisfies DashboardServer;
  await withDashboard({ config: demoConfig, server, prepare }, async ({ tandem, page, base, problems }) => {
    await page.goto(base);
    await page.waitForSelector('#key-dialog[open]');
    await page.fill('#key-input', 'not-the-key-at-all-000');
    await page.click('#key-submit');
    await waitForText(page, '#key-error', 'The server did not accept that key.');
    await page.fill('#key-input', secret);
    await page.click('#key-submit');
    await waitForText(page, '#live', 'live');
    await waitForText(page, '#log-end', tandem.status().logEnd.toLocaleString('en-US'));
    await page.waitForSelector('#chart canvas');
    assert.equal(await page.locator('#key-dialog[open]').count(), 0);
    assert.deepEqual(problems, []);
  });
});
