/**
 * The dashboard on data far in the past (a month of payments from March
 * 2025): it opens on the data, frames all time to the data, takes custom
 * ranges and drag-zooms, marks partial buckets, labels large sums compactly
 * from zero, reports each layer's own value, lays its table out at phone
 * width, and checks an API key's scopes before keeping it. Each at desktop
 * and phone width; screenshots go to /tmp/dashboard-shots/.
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { defineConfig, defineEventType, defineView, type Tandem } from '../../src/index.ts';
import { keyDigest } from '../../src/definitions/index.ts';
import { chromiumSkipReason } from '../support/chromium.ts';
import { forgetStorage, keptKey, legend, pointAt, scrollsInside, shownQuery, sidewaysOverflow, text, waitForText, waitUntil, withDashboard, type DashboardServer } from './page-helpers.ts';

const SHOTS = '/tmp/dashboard-shots';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const MARCH = Date.UTC(2025, 2, 1);
const APRIL = Date.UTC(2025, 3, 1);
const LAST_DAY = Date.UTC(2025, 2, 31);
const VIEWPORTS = [{ name: 'desktop', width: 1280, height: 900 }, { name: 'phone', width: 390, height: 844 }] as const;

const payment = defineEventType({
  name: 'payment',
  time: 'at',
  idempotencyKey: 'id',
  fields: { id: 'string', at: 'timestamp', method: 'string', amount: { type: 'number', scale: 2 } },
});

const config = defineConfig({
  eventTypes: [payment],
  views: [
    defineView(payment, {
      name: 'payments_by_method', dimensions: ['method'], granularity: 'hour',
      measures: { volume: { type: 'sum', field: 'amount' }, payments: { type: 'count' } },
    }),
    defineView(payment, {
      name: 'refunds_by_method', dimensions: ['method'], granularity: 'hour',
      measures: { refunded: { type: 'sum', field: 'amount' } },
      filter: [{ field: 'amount', op: '<', value: 0 }],
    }),
  ],
});

interface Payment { id: string; at: number; method: string; amount: string }

/** A month of payments, large amounts and some large refunds, first at 00:05 on 1 March and last at 23:55 on 31 March. */
function marchPayments(count: number): Payment[] {
  let seed = 2025;
  const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  const cents = (low: number, high: number) => low + Math.floor(next() * (high - low));
  const methods = ['card', 'sepa', 'paypal'];
  return Array.from({ length: count }, (_, i) => {
    const at = i === 0 ? MARCH + 5 * 60_000 : i === count - 1 ? APRIL - 5 * 60_000 : MARCH + Math.floor(next() * (APRIL - MARCH));
    const amount = next() < 0.05 ? -cents(1_000_000, 20_000_000) : cents(100_000, 9_999_999);
    return { id: `p${i}`, at, method: methods[i % 3]!, amount: (amount / 100).toFixed(2) };
  });
}

const centsOf = (p: Payment) => Math.round(Number(p.amount) * 100);
const money = (cents: number) => (cents / 100).toLocaleString('en-US', { maximumFractionDigits: 2 });
// The range inputs are 24-hour UTC text: `YYYY-MM-DD HH:MM`.
const inputValue = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');

/** Types a range as a user does: each input, then Enter. */
async function setRange(page: Page, from: string, to: string): Promise<void> {
  await page.fill('#range-from', from);
  await page.fill('#range-to', to);
  await page.press('#range-to', 'Enter');
}

async function waitForQuery(page: Page, what: string, check: (query: Record<string, unknown>) => boolean): Promise<void> {
  await waitUntil(`the query box shows ${what}`, async () => check(await shownQuery(page)));
}

/** The chart's frame and labels, as it reports them. */
async function chartFacts(page: Page) {
  const attr = async (name: string) => (await page.getAttribute('#chart', name)) ?? '';
  return {
    points: Number(await attr('data-points')),
    xMin: Date.parse(await attr('data-x-min')),
    xMax: Date.parse(await attr('data-x-max')),
    yMin: Number(await attr('data-y-min')),
    yMax: Number(await attr('data-y-max')),
    yLabels: (await attr('data-y-labels')).split(' '),
    partial: (await attr('data-partial')).split(' ').filter((t) => t !== ''),
  };
}

async function boxOf(page: Page, selector: string) {
  const box = await page.locator(selector).boundingBox();
  assert.ok(box, `${selector} is laid out`);
  return box;
}

test('dashboard on historical data: opens on the data, all time spans it, custom range and drag-zoom, partial buckets, compact zero-based axis, per-layer legend, phone layout', { skip: chromiumSkipReason(), timeout: 180_000 }, async () => {
  const payments = marchPayments(12_000);
  // After the batch: the speed layer holds these, in the same day as batch data.
  const late = [1, 2, 3].map((i) => ({ id: `late${i}`, at: LAST_DAY + 12 * HOUR + i * 60_000, method: 'card', amount: '100000.00' }));
  const lastDayBatch = payments.filter((p) => p.at >= LAST_DAY).reduce((sum, p) => sum + centsOf(p), 0);
  const prepare = async (tandem: Tandem) => {
    await tandem.ingest('payment', payments);
    await tandem.runBatch();
    await tandem.ingest('payment', late);
  };
  await mkdir(SHOTS, { recursive: true });
  await withDashboard({ config, server: { version: 'test' }, prepare }, async ({ page, base, problems }) => {
    page.on('console', (message) => { if (message.type() === 'error') problems.push(`console: ${message.text()}`); });
    for (const viewport of VIEWPORTS) {
      await page.setViewportSize(viewport);
      await page.goto(base);

      // Nothing in the last 24 hours: the explorer opens on all the data, unasked, and all time is the data's extent.
      await waitUntil('the chart shows the data', async () => Number(await page.getAttribute('#chart', 'data-points')) > 0);
      assert.equal(await page.inputValue('#range'), 'all');
      assert.match(await text(page, '#range-note'), /Nothing in the last 24 hours/);
      assert.equal(await page.inputValue('#granularity'), 'day');
      assert.equal(await page.inputValue('#range-from'), inputValue(MARCH));
      assert.equal(await page.inputValue('#range-to'), inputValue(APRIL));
      let facts = await chartFacts(page);
      assert.equal(facts.points, 31);
      assert.ok(Math.abs(facts.xMin - MARCH) <= DAY, `x starts at the data (${new Date(facts.xMin).toISOString()})`);
      assert.ok(Math.abs(facts.xMax - APRIL) <= DAY, `x ends at the data, not today (${new Date(facts.xMax).toISOString()})`);

      // Daily sums in the millions: compact labels, none clipped to ",200,000", measured from zero.
      assert.ok(facts.yLabels.some((l) => /^\d+(\.\d+)?M$/.test(l)), `compact labels: ${facts.yLabels.join(' ')}`);
      assert.ok(facts.yLabels.every((l) => /^-?\d+(\.\d+)?[kMB]?$/.test(l)), `no long labels: ${facts.yLabels.join(' ')}`);
      assert.equal(facts.yMin, 0);

      // The last day holds batch data and 300,000 in the speed layer: the legend gives each, and the total.
      await page.mouse.move(...Object.values(await pointAt(page, LAST_DAY)) as [number, number]);
      await waitUntil('the legend shows 31 March', async () => (await legend(page))['time (UTC)'] === '2025-03-31');
      assert.deepEqual(await legend(page), {
        'time (UTC)': '2025-03-31', 'speed layer': '300,000', 'batch view': money(lastDayBatch), total: money(lastDayBatch + 30_000_000),
      });
      await page.screenshot({ path: `${SHOTS}/history-${viewport.name}-all-time.png`, fullPage: true });

      // A custom range, in UTC, goes into the query; shown by day, the two days it cuts are marked partial.
      await setRange(page, '2025-03-10 10:00', '2025-03-12 06:00');
      await waitForQuery(page, 'the custom range', (q) => q.from === '2025-03-10T10:00:00.000Z' && q.to === '2025-03-12T06:00:00.000Z');
      assert.equal(await page.inputValue('#range'), 'custom');
      await page.selectOption('#granularity', 'day');
      await waitUntil('partial days are marked', async () => (await chartFacts(page)).partial.length === 2);
      assert.deepEqual((await chartFacts(page)).partial, ['2025-03-10T00:00:00.000Z', '2025-03-12T00:00:00.000Z']);
      assert.ok(await page.locator('#legend-partial').isVisible());
      await page.mouse.move(...Object.values(await pointAt(page, Date.UTC(2025, 2, 10))) as [number, number]);
      await waitUntil('the legend says partial', async () => (await legend(page))['time (UTC)'] === '2025-03-10 (partial)');
      await page.screenshot({ path: `${SHOTS}/history-${viewport.name}-partial.png`, fullPage: true });
      // The hatch is drawn in the theme's colours: look at it dark too, then go back.
      await page.click('#theme');
      await waitUntil('the chart is redrawn dark with its partial days', async () => (await page.getAttribute('html', 'data-theme')) === 'dark' && (await chartFacts(page)).partial.length === 2);
      await page.locator('.explorer').screenshot({ path: `${SHOTS}/history-${viewport.name}-partial-dark.png` });
      await page.click('#theme');

      // Drag-zoom from all time: the range becomes the dragged days, at a finer granularity; "previous range" goes back.
      await page.selectOption('#range', 'all');
      await waitForQuery(page, 'all time', (q) => q.from === undefined);
      await waitUntil('the chart shows all time', async () => (await chartFacts(page)).points === 31);
      const start = await pointAt(page, Date.UTC(2025, 2, 5));
      const end = await pointAt(page, Date.UTC(2025, 2, 8));
      await page.mouse.move(start.x, start.y);
      await page.mouse.down();
      await page.mouse.move(end.x, end.y, { steps: 8 });
      await page.mouse.up();
      await waitForQuery(page, 'the zoomed range', (q) => typeof q.from === 'string');
      const zoomed = await shownQuery(page);
      assert.ok(Math.abs(Date.parse(zoomed.from as string) - Date.UTC(2025, 2, 5)) <= 6 * HOUR, `zoomed from ${String(zoomed.from)}`);
      assert.ok(Math.abs(Date.parse(zoomed.to as string) - Date.UTC(2025, 2, 8)) <= 6 * HOUR, `zoomed to ${String(zoomed.to)}`);
      assert.equal(zoomed.granularity, 'hour');
      await waitUntil('the chart shows the zoomed hours', async () => (await chartFacts(page)).points > 31);
      facts = await chartFacts(page);
      assert.ok(facts.xMin >= Date.parse(zoomed.from as string) - HOUR && facts.xMax <= Date.parse(zoomed.to as string) + HOUR);
      await page.click('#range-back');
      await waitForQuery(page, 'all time again', (q) => q.from === undefined && q.granularity === 'day');
      assert.equal(await page.inputValue('#range'), 'all');

      // Refunds are negative sums: compact negative labels, and zero is the top of the scale.
      await page.selectOption('#view', 'refunds_by_method');
      await waitForQuery(page, 'the refunds view', (q) => q.view === 'refunds_by_method');
      await waitUntil('the refunds chart is drawn', async () => (await chartFacts(page)).yMax === 0);
      facts = await chartFacts(page);
      assert.ok(facts.yLabels.some((l) => /^-\d+(\.\d+)?M$/.test(l)), `negative compact labels: ${facts.yLabels.join(' ')}`);
      await page.selectOption('#view', 'payments_by_method');
      await waitForQuery(page, 'the payments view', (q) => q.view === 'payments_by_method');

      // The table: at phone width its cells fit the screen (or, failing that, scroll inside their box); the page never scrolls sideways.
      await waitUntil('the table has rows', async () => (await page.locator('#top tbody tr').count()) === 3);
      const wrap = page.locator('.table-wrap');
      await page.locator('.explorer').screenshot({ path: `${SHOTS}/history-${viewport.name}-explorer.png` });
      const wrapBox = await boxOf(page, '.table-wrap');
      assert.ok(wrapBox.x + wrapBox.width <= viewport.width, 'the table box is within the screen');
      const scrollable = await scrollsInside(wrap);
      const cells = page.locator('#top tbody tr >> nth=0').locator('td');
      assert.equal(await cells.count(), 5);
      if (scrollable) await wrap.evaluate((el) => { el.scrollLeft = el.scrollWidth; });
      for (let i = scrollable ? 4 : 0; i < 5; i++) {
        const box = (await cells.nth(i).boundingBox())!;
        assert.ok(box.x >= wrapBox.x - 1 && box.x + box.width <= wrapBox.x + wrapBox.width + 1, `cell ${i} shows in the table box`);
      }
      if (viewport.name === 'phone') assert.equal(scrollable, false, 'at phone width the compact rows fit without scrolling');
      assert.ok(await sidewaysOverflow(page) <= 0, 'the page does not scroll sideways');
      await wrap.evaluate((el) => { el.scrollLeft = 0; });
      await page.screenshot({ path: `${SHOTS}/history-${viewport.name}-table.png`, fullPage: true });

      // An empty range: no header for the message to sit on.
      await setRange(page, '2024-01-01 00:00', '2024-01-02 00:00');
      await waitForText(page, '#table-state', 'No rows in this range.');
      await waitForText(page, '#chart-state', 'No events in this range.');
      assert.equal(await page.locator('#top thead tr').count(), 0);
      const message = await boxOf(page, '#table-state');
      const table = await page.locator('#top').boundingBox();
      assert.ok(!table || table.height === 0 || message.y >= table.y + table.height, 'the message is below the table, not over its header');
      await page.screenshot({ path: `${SHOTS}/history-${viewport.name}-empty.png`, fullPage: true });
    }
    assert.deepEqual(problems, []);
  });
});

test('dashboard API key: a key without the scopes the page needs is refused in one sentence, kept only on request, and can be changed or forgotten', { skip: chromiumSkipReason(), timeout: 120_000 }, async () => {
  const keys = { ops: 'ops-key-0123456789abcdef', reader: 'reader-key-0123456789abc', loader: 'loader-key-0123456789abc' };
  const server = {
    apiKeys: [
      { name: 'ops', scopes: new Set(['query', 'admin']), digest: keyDigest(keys.ops) },
      { name: 'reader', scopes: new Set(['query']), digest: keyDigest(keys.reader) },
      { name: 'loader', scopes: new Set(['ingest']), digest: keyDigest(keys.loader) },
    ],
  } satisfies DashboardServer;
  const prepare = async (tandem: Tandem) => {
    await tandem.ingest('payment', marchPayments(500));
  };
  await mkdir(SHOTS, { recursive: true });
  await withDashboard({ config, server, prepare }, async ({ page, base, problems }) => {
    const kept = () => keptKey(page);
    const enter = async (key: string) => {
      await page.fill('#key-input', key);
      await page.click('#key-submit');
    };
    for (const viewport of VIEWPORTS) {
      await page.setViewportSize(viewport);
      await page.goto(base);
      await forgetStorage(page);
      await page.reload();

      // Keys short of query or admin are refused, naming what is missing; none is kept.
      await page.waitForSelector('#key-dialog[open]');
      await enter(keys.reader);
      await waitForText(page, '#key-error', 'This key lacks the admin scope, so layer status and batch runs are off.');
      assert.ok(await page.locator('#key-anyway').isVisible());
      await page.screenshot({ path: `${SHOTS}/key-${viewport.name}-missing-admin.png` });
      await enter(keys.loader);
      await waitForText(page, '#key-error', 'This key lacks the query and admin scopes, so the dashboard can show nothing.');
      await enter('not-a-key-at-all-000000');
      await waitForText(page, '#key-error', 'The server did not accept that key.');
      assert.equal(await kept(), null);
      assert.ok(await page.locator('#key-dialog[open]').isVisible());

      // A key with every scope is kept; the header offers to change or forget it.
      await enter(keys.ops);
      await waitForText(page, '#live', 'live');
      await page.waitForSelector('#chart canvas');
      assert.equal(await kept(), keys.ops);
      assert.ok(await page.locator('#key-change').isVisible());
      assert.ok(await page.locator('#key-forget').isVisible());
      assert.ok(await sidewaysOverflow(page) <= 0, 'the header fits the screen');
      await page.screenshot({ path: `${SHOTS}/key-${viewport.name}-header.png` });

      // Forget: the key is gone and the dialog asks again.
      await page.click('#key-forget');
      await page.waitForSelector('#key-dialog[open]');
      assert.equal(await kept(), null);

      // Continuing with a reduced key is the user's choice; the header still lets them replace it.
      await enter(keys.reader);
      await waitForText(page, '#key-error', 'This key lacks the admin scope, so layer status and batch runs are off.');
      await page.click('#key-anyway');
      await waitForText(page, '#live', 'status needs an admin key');
      await page.waitForSelector('#chart canvas');
      assert.equal(await kept(), keys.reader);
      await page.click('#key-change');
      await page.waitForSelector('#key-dialog[open]');
      assert.ok(await page.locator('#key-cancel').isVisible());
      await enter(keys.ops);
      await waitForText(page, '#live', 'live');
      assert.equal(await kept(), keys.ops);
    }
    assert.deepEqual(problems, []);
  });
});
