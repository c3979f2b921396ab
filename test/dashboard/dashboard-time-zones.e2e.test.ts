/**
 * The explorer in a time zone (issue #32): the zone is picked (UTC, the
 * browser's own, or any typed in), sent with every chart query and kept in
 * the link; days are the zone's local ones, checked against counts made here
 * from the events ingested; inputs, axis and legend read local time; a zone
 * the view cannot be rolled up into, or no zone at all, is the server's one
 * sentence where errors show, and the explorer goes on. Screenshots go to
 * /tmp/dashboard-shots/.
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { defineConfig, defineEventType, defineView, type Tandem } from '../../src/index.ts';
import { chromiumSkipReason } from '../support/chromium.ts';
import { legend, pointAt, shownQuery, sidewaysOverflow, text, waitUntil, withDashboard } from './page-helpers.ts';

const SHOTS = '/tmp/dashboard-shots';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const MARCH = Date.UTC(2025, 2, 1);
/** Fixed offsets over early March 2025: Berlin's summer time starts on the 30th, Lord Howe's ends on 6 April, Buenos Aires has none. */
const BERLIN = HOUR;
const LORD_HOWE = 11 * HOUR;
const BUENOS_AIRES = -3 * HOUR;

const visit = defineEventType({ name: 'visit', time: 'at', idempotencyKey: 'id', fields: { id: 'string', at: 'timestamp', city: 'string' } });
const config = defineConfig({
  eventTypes: [visit],
  views: [defineView(visit, { name: 'visits', dimensions: ['city'], granularity: 'hour', measures: { n: { type: 'count' } } })],
});

interface Visit { id: string; at: number; city: string }

/** Visits over the first three UTC days of March 2025, denser in the evening hours that Berlin puts in the next day. */
function visits(count: number, prefix: string, seed: number): Visit[] {
  let state = seed;
  const next = () => (state = (state * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  return Array.from({ length: count }, (_, i) => {
    const day = Math.floor(next() * 3);
    const late = next() < 0.3;
    const at = MARCH + day * DAY + (late ? 23 * HOUR + Math.floor(next() * HOUR) : Math.floor(next() * DAY));
    return { id: `${prefix}${i}`, at, city: next() < 0.5 ? 'Oslo' : 'Lima' };
  });
}

/** Counts by local calendar day (`YYYY-MM-DD`), from the events themselves: shifted by the zone's fixed offset, cut at UTC midnight. */
function localDays(events: readonly Visit[], offset: number): Map<string, number> {
  const days = new Map<string, number>();
  for (const e of events) {
    const day = new Date(e.at + offset).toISOString().slice(0, 10);
    days.set(day, (days.get(day) ?? 0) + 1);
  }
  return new Map([...days].sort(([a], [b]) => a.localeCompare(b)));
}

const LINK = '?view=visits&measure=n&range=all&granularity=day';

async function waitForPoints(page: Page, what: string, points: number, zone: string): Promise<void> {
  let last = '';
  await waitUntil(() => `${what}: ${points} buckets in ${zone} (last seen ${last})`, async () => {
    // Empty until the first chart query is written there.
    const query = (await page.inputValue('#query-text')) === '' ? {} : await shownQuery(page);
    last = `${await page.getAttribute('#chart', 'data-points')} buckets, query in ${String(query.timeZone)}`;
    return query.timeZone === zone && (await page.getAttribute('#chart', 'data-points')) === String(points) && (await page.locator('#chart-state').getAttribute('data-kind')) === null;
  });
}

/** Types a zone by name, as a user does after picking "other…". */
async function typeZone(page: Page, zone: string): Promise<void> {
  await page.selectOption('#time-zone', 'other');
  await page.fill('#time-zone-other', zone);
  await page.press('#time-zone-other', 'Enter');
}

/** The sentence the engine refuses a day query over all the data in `zone` with. */
async function refusal(tandem: Tandem, zone: string): Promise<string> {
  return tandem.query({ view: 'visits', granularity: 'day', timeZone: zone }).then(() => 'no refusal', (error: Error) => error.message);
}

test('dashboard time zones: local days in the zone picked, local times shown, the zone in the link, a refused zone said in one sentence', { skip: chromiumSkipReason(), timeout: 180_000 }, async () => {
  const batched = visits(1500, 'b', 7);
  const late = visits(300, 's', 8);
  const all = [...batched, ...late];
  const prepare = async (tandem: Tandem) => {
    await tandem.ingest('visit', batched);
    await tandem.runBatch();
    await tandem.ingest('visit', late);
  };
  await mkdir(SHOTS, { recursive: true });
  await withDashboard({ config, viewport: { width: 1280, height: 900 }, prepare, browserTimeZone: 'America/New_York' }, async ({ tandem, page, base, problems }) => {
    // The refusals below are 400s, which the browser logs; anything else logged as an error is a problem.
    const refusals: string[] = [];
    page.on('console', (message) => {
      if (message.type() !== 'error') return;
      (/status of 400 \(Bad Request\)/.test(message.text()) ? refusals : problems).push(`console: ${message.text()}`);
    });
    await page.goto(`${base}/${LINK}`);

    // UTC by default, the browser's own zone offered, any other by name; quarters and years roll up from hours.
    await waitForPoints(page, 'UTC days', 3, 'UTC');
    assert.deepEqual(await page.locator('#time-zone option').evaluateAll((options) => options.map((o) => (o as unknown as { value: string }).value)), ['UTC', 'America/New_York', 'other']);
    assert.equal(await text(page, '#time-zone option >> nth=1'), 'America/New_York (this browser)');
    assert.ok(await page.locator('#time-zone-name').isHidden());
    assert.deepEqual(await page.locator('#granularity option').evaluateAll((options) => options.map((o) => (o as unknown as { value: string }).value)), ['hour', 'day', 'week', 'month', 'quarter', 'year']);
    assert.ok(await page.locator('#time-zones option[value="Europe/Berlin"]').count() === 1, 'the zones to type in are listed');

    // Berlin: four local days, the first starting at 01:00 local time (midnight UTC), each counted as the events say.
    await typeZone(page, 'Europe/Berlin');
    const days = localDays(all, BERLIN);
    assert.equal(days.size, 4);
    await waitForPoints(page, 'Berlin days', 4, 'Europe/Berlin');
    assert.equal(await page.getAttribute('#chart', 'data-total'), String(all.length));
    assert.equal(await text(page, '#range-from-label'), 'From (Europe/Berlin)');
    await page.locator('.explorer').screenshot({ path: `${SHOTS}/explorer-desktop-time-zone-controls.png` });
    const first = Math.floor(Math.min(...all.map((e) => e.at)) / HOUR) * HOUR;
    assert.equal(await page.inputValue('#range-from'), new Date(first + BERLIN).toISOString().slice(0, 16).replace('T', ' '));
    // The answer's buckets are Berlin midnights, with Berlin's offset, and hold the events of those local days.
    await page.click('#run-query');
    await waitUntil('the query box answers', async () => (await text(page, '#query-status')).includes('rows'));
    const rows = JSON.parse(await page.locator('#query-answer').innerText()) as { time: string; n: number }[];
    assert.deepEqual(rows.map((r) => [r.time, r.n]), [...days].map(([day, n]) => [`${day}T00:00:00.000+01:00`, n]));
    // The axis ticks days (no hours), and hovering a bucket names its local date with its count, batch and speed parts apart.
    // The axis ticks local time: its dates change at Berlin midnights.
    const ticks = ((await page.getAttribute('#chart', 'data-x-labels')) ?? '').split('\n');
    for (const midnight of ['00:00 03-02', '00:00 03-03']) assert.ok(ticks.includes(midnight), `a tick at ${midnight}: ${ticks.join(' | ')}`);
    const secondDay = MARCH + DAY - BERLIN;
    await page.mouse.move(...Object.values(await pointAt(page, secondDay + DAY / 2)) as [number, number]);
    await waitUntil('the legend shows 2 March in Berlin', async () => (await legend(page))['time (Europe/Berlin)'] === '2025-03-02');
    const inDay = (list: Visit[]) => list.filter((v) => v.at >= secondDay && v.at < secondDay + DAY).length;
    assert.deepEqual(await legend(page), {
      'time (Europe/Berlin)': '2025-03-02', 'speed layer': inDay(late).toLocaleString('en-US'), 'batch view': inDay(batched).toLocaleString('en-US'),
      total: inDay(all).toLocaleString('en-US'),
    });
    assert.equal(inDay(all), days.get('2025-03-02'));
    await page.screenshot({ path: `${SHOTS}/explorer-desktop-time-zone.png` });

    // The link keeps the zone: a fresh load asks in Berlin and shows it, typed in by name.
    await waitUntil('the URL names the zone', async () => new URL(page.url()).searchParams.get('tz') === 'Europe/Berlin');
    const link = page.url();
    await page.goto('about:blank');
    await page.goto(link);
    await waitForPoints(page, 'Berlin days from the link', 4, 'Europe/Berlin');
    assert.equal(await page.inputValue('#time-zone'), 'other');
    assert.equal(await page.inputValue('#time-zone-other'), 'Europe/Berlin');
    assert.equal(await text(page, '#range-to-label'), 'To (Europe/Berlin)');

    // A custom range is typed in Berlin time: 2 March 00:00 to 3 March 00:00 there is one whole local day.
    await page.fill('#range-from', '2025-03-02 00:00');
    await page.fill('#range-to', '2025-03-03 00:00');
    await page.press('#range-to', 'Enter');
    await waitUntil('the typed Berlin day is asked for', async () => {
      const q = await shownQuery(page);
      return q.from === new Date(secondDay).toISOString() && q.to === new Date(secondDay + DAY).toISOString();
    });
    await waitUntil('one whole day is shown', async () => (await page.getAttribute('#chart', 'data-total')) === String(days.get('2025-03-02')) && (await page.getAttribute('#chart', 'data-partial')) === '');
    // All time again, by day (a range picked anew lets the explorer fit the granularity).
    await page.selectOption('#range', 'all');
    await page.selectOption('#granularity', 'day');

    // The browser's own zone, picked from the list.
    await page.selectOption('#time-zone', 'America/New_York');
    await waitForPoints(page, 'New York days', 4, 'America/New_York');
    assert.ok(await page.locator('#time-zone-name').isHidden());
    await waitUntil('the URL names New York', async () => new URL(page.url()).searchParams.get('tz') === 'America/New_York');

    // Kolkata's +5:30 splits the view's hours: the server's sentence, where query errors show, and no chart or table of another zone.
    assert.deepEqual(refusals, [], 'nothing was refused before');
    await typeZone(page, 'Asia/Kolkata');
    const refused = await refusal(tandem, 'Asia/Kolkata');
    assert.match(refused, /straddle local midnights of Asia\/Kolkata/);
    await waitUntil(() => `the refusal is shown (last seen '${refused}')`, async () => (await text(page, '#chart-state')) === refused);
    assert.equal(await page.locator('#chart-state').getAttribute('data-kind'), 'error');
    assert.equal(await page.getAttribute('#chart', 'data-points'), '0');
    assert.equal(await page.locator('#top tbody tr').count(), 0);
    await page.locator('.explorer').screenshot({ path: `${SHOTS}/explorer-desktop-time-zone-refused.png` });
    // No zone at all: the server's sentence too.
    await typeZone(page, 'Mars/Olympus_Mons');
    const unknown = await refusal(tandem, 'Mars/Olympus_Mons');
    await waitUntil(() => `the unknown zone is said (expected '${unknown}')`, async () => (await text(page, '#chart-state')) === unknown);

    // And the explorer goes on: back to UTC, three days again.
    await page.selectOption('#time-zone', 'UTC');
    await waitForPoints(page, 'UTC days again', 3, 'UTC');
    assert.ok(await page.locator('#time-zone-name').isHidden());
    await waitUntil('the URL drops the zone', async () => new URL(page.url()).searchParams.get('tz') === null);
    assert.equal(await page.locator('#top tbody tr').count(), 2);
    assert.deepEqual(problems, []);
  });
});

test('dashboard time zones on a phone: the zone controls fit the screen', { skip: chromiumSkipReason(), timeout: 120_000 }, async () => {
  const events = visits(500, 'p', 9);
  // The two zones cut the days differently here: the counts tell them apart.
  assert.notEqual(localDays(events, LORD_HOWE).size, localDays(events, BUENOS_AIRES).size);
  const prepare = async (tandem: Tandem) => {
    await tandem.ingest('visit', events);
    await tandem.runBatch();
  };
  await mkdir(SHOTS, { recursive: true });
  await withDashboard({ config, viewport: { width: 390, height: 844 }, prepare, browserTimeZone: 'America/Argentina/Buenos_Aires' }, async ({ page, base, problems }) => {
    await page.goto(`${base}/?view=visits&measure=n&granularity=day&tz=Australia/Lord_Howe&range=custom&from=2025-03-01T00:00Z&to=2025-03-04T00:00Z`);
    await waitForPoints(page, 'Lord Howe days', localDays(events, LORD_HOWE).size, 'Australia/Lord_Howe');
    assert.equal(await text(page, '#range-from-label'), 'From (Australia/Lord_Howe)');
    assert.ok(await sidewaysOverflow(page) <= 0, 'the page does not scroll sideways');
    for (const id of ['#time-zone', '#time-zone-other', '#range-from', '#range-to']) {
      const box = (await page.locator(id).boundingBox())!;
      assert.ok(box.x >= 0 && box.x + box.width <= 390, `${id} is on screen (${box.x} + ${box.width})`);
    }
    await page.locator('.explorer').screenshot({ path: `${SHOTS}/explorer-phone-time-zone.png` });
    // The browser's own zone is offered under the name its Intl gives it; the longest name is typed in.
    assert.match(await text(page, '#time-zone option >> nth=1'), /Buenos_Aires \(this browser\)$/);
    await typeZone(page, 'America/Argentina/Buenos_Aires');
    await waitForPoints(page, 'Buenos Aires days', localDays(events, BUENOS_AIRES).size, 'America/Argentina/Buenos_Aires');
    assert.equal(await text(page, '#range-to-label'), 'To (America/Argentina/Buenos_Aires)');
    assert.ok(await sidewaysOverflow(page) <= 0, 'a long zone name does not widen the page');
    await page.locator('.explorer').screenshot({ path: `${SHOTS}/explorer-phone-time-zone-long.png` });
    assert.deepEqual(problems, []);
  });
});
