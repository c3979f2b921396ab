/**
 * The explorer split by a dimension, and its state in the URL (issue #32):
 * the top values are drawn as series of their own, "other" holds exactly the
 * rest for counts and sums and is left out, with a reason, where it cannot
 * be known; the legend toggles series and shows each one's batch and speed
 * parts; a link restores everything shown; times are typed in 24-hour UTC;
 * on a phone the explorer comes first. Screenshots go to /tmp/dashboard-shots/.
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
const DAYS = 3;

const visit = defineEventType({
  name: 'visit',
  time: 'at',
  idempotencyKey: 'id',
  fields: { id: 'string', at: 'timestamp', location: 'string', device: 'string', amount: { type: 'number', scale: 2 } },
});

const config = defineConfig({
  eventTypes: [visit],
  views: [
    defineView(visit, {
      name: 'visits_by_location', dimensions: ['location', 'device'], granularity: 'hour',
      measures: { visits: { type: 'count' }, spend: { type: 'sum', field: 'amount' }, biggest: { type: 'max', field: 'amount' } },
    }),
  ],
});

interface Visit { id: string; at: number; location: string; device: string; amount: string }

// Uneven weights, so the ranking is clear: Seattle, New York, Berlin lead, four more follow.
const LOCATIONS = [['Seattle', 30], ['New York', 24], ['Berlin', 16], ['Tokyo', 9], ['Paris', 8], ['Oslo', 7], ['Lima', 6]] as const;

/** Visits over the first three days of March 2025, amounts in cents that add up to more than a double's 0.1 + 0.2 can. */
function visits(count: number, prefix: string, seed: number): Visit[] {
  let state = seed;
  const next = () => (state = (state * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  const weights = LOCATIONS.reduce((sum, [, w]) => sum + w, 0);
  const pick = () => {
    let r = next() * weights;
    for (const [name, w] of LOCATIONS) if ((r -= w) < 0) return name;
    return LOCATIONS[0][0];
  };
  return Array.from({ length: count }, (_, i) => ({
    id: `${prefix}${i}`, at: MARCH + Math.floor(next() * DAYS * DAY), location: pick(), device: next() < 0.5 ? 'phone' : 'desktop',
    amount: (Math.floor(next() * 100_000) / 100).toFixed(2),
  }));
}

const cents = (v: Visit) => BigInt(Math.round(Number(v.amount) * 100));
/** Cents as the exact decimal the page writes: 1234.5, 7, -0.25. */
const decimal = (c: bigint) => {
  const sign = c < 0n ? '-' : '';
  const abs = c < 0n ? -c : c;
  const fraction = String(abs % 100n).padStart(2, '0').replace(/0+$/, '');
  return `${sign}${abs / 100n}${fraction ? `.${fraction}` : ''}`;
};

interface Expected { label: string; total: string }

/** The series the page should draw: the top `n` locations by `measure`, then "other" with the rest. */
function expectedSeries(events: Visit[], n: number, measure: (list: Visit[]) => bigint): Expected[] {
  const by = new Map<string, Visit[]>();
  for (const e of events) by.set(e.location, [...by.get(e.location) ?? [], e]);
  const ranked = [...by.entries()].map(([label, list]) => ({ label, value: measure(list) })).sort((a, b) => (b.value > a.value ? 1 : b.value < a.value ? -1 : 0));
  const top = ranked.slice(0, n);
  const rest = ranked.slice(n).reduce((sum, r) => sum + r.value, 0n);
  return [...top.map((r) => ({ label: r.label, total: String(r.value) })), ...(ranked.length > n ? [{ label: 'other', total: String(rest) }] : [])];
}

const countOf = (list: Visit[]) => BigInt(list.length);
const centsOf = (list: Visit[]) => list.reduce((sum, v) => sum + cents(v), 0n);

async function shownSeries(page: Page): Promise<Expected[]> {
  return JSON.parse((await page.getAttribute('#chart', 'data-series')) ?? '[]') as Expected[];
}

async function waitForSeries(page: Page, what: string, expected: Expected[]): Promise<void> {
  let last: Expected[] = [];
  await waitUntil(() => `the chart shows ${what} (last seen ${JSON.stringify(last)})`, async () => JSON.stringify(last = await shownSeries(page)) === JSON.stringify(expected));
}

/** The legend row of a series, by its label. */
const legendRow = (page: Page, label: string) => page.locator('#chart .u-legend tr.u-series').filter({ has: page.locator('.u-label', { hasText: new RegExp(`^${label}$`) }) });

/** The controls' values: what a link must bring back. */
async function controls(page: Page) {
  return {
    view: await page.inputValue('#view'), measure: await page.inputValue('#measure'), range: await page.inputValue('#range'),
    from: await page.inputValue('#range-from'), to: await page.inputValue('#range-to'), granularity: await page.inputValue('#granularity'),
    split: await page.inputValue('#group-by'), top: await page.inputValue('#top-n'), device: await page.inputValue('select[data-dimension="device"]'),
  };
}

const LINK = '?view=visits_by_location&measure=visits&range=custom&from=2025-03-01T00:00Z&to=2025-03-04T00:00Z&granularity=day&split=location&top=3';

test('dashboard explorer: top values as series with an exact "other", a legend that toggles them and shows batch and speed parts, state in the URL, 24-hour times', { skip: chromiumSkipReason(), timeout: 180_000 }, async () => {
  const batched = visits(6000, 'b', 11);
  // After the batch: the speed layer holds these, in the same days.
  const late = visits(400, 's', 12);
  const all = [...batched, ...late];
  const prepare = async (tandem: Tandem) => {
    await tandem.ingest('visit', batched);
    await tandem.runBatch();
    await tandem.ingest('visit', late);
  };
  await mkdir(SHOTS, { recursive: true });
  await withDashboard({ config, viewport: { width: 1280, height: 900 }, prepare }, async ({ tandem, page, base, problems }) => {
    page.on('console', (message) => { if (message.type() === 'error') problems.push(`console: ${message.text()}`); });
    await page.goto(`${base}/${LINK}`);

    // Counts: the top three locations as their own series, "other" the exact rest; the table ranks the same dimension.
    await waitForSeries(page, 'the top 3 visit counts and other', expectedSeries(all, 3, countOf));
    assert.equal(await page.locator('#legend-other').isVisible(), false);
    assert.equal(await text(page, '#top thead th >> nth=0'), 'location');
    assert.equal(await page.locator('#chart .u-legend tr.u-series').count(), 5, 'time, three locations and other');

    // Times are 24-hour UTC text, as the label says.
    assert.equal(await page.getAttribute('#range-from', 'type'), 'text');
    assert.equal(await page.inputValue('#range-from'), '2025-03-01 00:00');
    assert.equal(await page.inputValue('#range-to'), '2025-03-04 00:00');
    // So is the time axis: hours as 00:00 to 23:00, never 12am or 4pm.
    const ticks = ((await page.getAttribute('#chart', 'data-x-labels')) ?? '').split('\n');
    assert.ok(ticks.length > 2 && ticks.every((t) => /^(\d{2}:\d{2}|\d{2}-\d{2})( (\d{4}-)?\d{2}-\d{2}| \d{4})?$/.test(t)), `24-hour ticks: ${ticks.join(' | ')}`);
    await page.screenshot({ path: `${SHOTS}/explorer-desktop-split-count.png`, fullPage: true });

    // Hovering a day: each series gives its value and the batch and speed parts of it.
    await page.mouse.move(...Object.values(await pointAt(page, MARCH + DAY)) as [number, number]);
    await waitUntil('the legend shows 2 March', async () => (await legend(page))['time (UTC)'] === '2025-03-02');
    const inDay = (list: Visit[]) => list.filter((v) => v.at >= MARCH + DAY && v.at < MARCH + 2 * DAY);
    const top = expectedSeries(all, 3, countOf).slice(0, 3).map((s) => s.label);
    const shown = await legend(page);
    for (const label of top) {
      const count = (list: Visit[]) => inDay(list).filter((v) => v.location === label).length;
      const [b, s] = [count(batched), count(late)];
      assert.equal(shown[label], `${(b + s).toLocaleString('en-US')} (batch ${b.toLocaleString('en-US')} · speed ${s.toLocaleString('en-US')})`, label);
    }
    const rest = (list: Visit[]) => inDay(list).filter((v) => !top.includes(v.location)).length;
    assert.equal(shown.other, `${(rest(batched) + rest(late)).toLocaleString('en-US')} (batch ${rest(batched).toLocaleString('en-US')} · speed ${rest(late).toLocaleString('en-US')})`);
    // The viewport, not the element: an element screenshot may scroll the chart from under the pointer.
    await page.screenshot({ path: `${SHOTS}/explorer-desktop-hover.png` });

    // Sums: "other" is exact to the cent, however many amounts went into it.
    await page.selectOption('#measure', 'spend');
    await waitForSeries(page, 'the top 3 by spend and other', expectedSeries(all, 3, centsOf).map((s) => ({ ...s, total: decimal(BigInt(s.total)) })));

    // The legend toggles a series: off, struck through, remembered in the URL; on again.
    const second = (await shownSeries(page))[1]!.label;
    await legendRow(page, second).locator('.u-label').click();
    await waitUntil('the series is off', async () => (await legendRow(page, second).getAttribute('class'))?.includes('u-off') === true);
    assert.deepEqual(JSON.parse((await page.getAttribute('#chart', 'data-hidden'))!), [second]);
    await waitUntil('the URL names the hidden series', async () => new URL(page.url()).searchParams.getAll('hide').includes(second));
    await page.locator('.explorer').screenshot({ path: `${SHOTS}/explorer-desktop-toggled.png` });

    // A filter, then the URL round trip: a fresh load of the link shows the same controls, query, series and hidden series.
    await page.selectOption('select[data-dimension="device"]', '"phone"');
    const phones = all.filter((v) => v.device === 'phone');
    await waitForSeries(page, 'phone visits by spend', expectedSeries(phones, 3, centsOf).map((s) => ({ ...s, total: decimal(BigInt(s.total)) })));
    await waitUntil('the URL names the filter', async () => new URL(page.url()).searchParams.get('where.device') === '"phone"');
    const link = page.url();
    const before = { controls: await controls(page), query: await shownQuery(page), series: await shownSeries(page) };
    assert.equal(before.controls.device, '"phone"');
    await page.goto('about:blank');
    await page.goto(link);
    await waitForSeries(page, 'the same series from the link', before.series);
    assert.deepEqual(await controls(page), before.controls);
    assert.deepEqual(await shownQuery(page), before.query);
    await waitUntil('the hidden series is off again', async () => (await legendRow(page, second).getAttribute('class'))?.includes('u-off') === true);
    await legendRow(page, second).locator('.u-label').click();
    await waitUntil('the URL no longer hides it', async () => !new URL(page.url()).searchParams.getAll('hide').includes(second));
    // From the keyboard too: a legend entry takes the focus, and Enter or Space toggles it.
    await legendRow(page, second).focus();
    await page.keyboard.press('Enter');
    await waitUntil('Enter switches it off', async () => (await legendRow(page, second).getAttribute('aria-pressed')) === 'false');
    await page.keyboard.press(' ');
    await waitUntil('Space switches it on', async () => (await legendRow(page, second).getAttribute('aria-pressed')) === 'true');
    assert.equal((await legendRow(page, second).getAttribute('class'))?.includes('u-off'), false);
    await page.screenshot({ path: `${SHOTS}/explorer-desktop-from-link.png`, fullPage: true });

    // A view added while serving refills the view list; what the explorer shows stays as it was.
    await tandem.applyView({ name: 'visits_by_device', eventType: 'visit', dimensions: ['device'], granularity: 'day', measures: { visits: { type: 'count' } } });
    await waitUntil('the explorer offers the new view', async () => (await page.locator('#view option[value="visits_by_device"]').count()) === 1);
    await page.waitForTimeout(500);
    assert.deepEqual(await controls(page), before.controls);
    assert.deepEqual(await shownSeries(page), before.series);

    // A maximum: no "other", and the legend says why.
    await page.selectOption('#measure', 'biggest');
    await waitUntil('the chart has no other series', async () => {
      const series = await shownSeries(page);
      return series.length === 3 && !series.some((s) => s.label === 'other');
    });
    assert.equal(await text(page, '#legend-other'), 'No "other" series: max values of groups do not add up, so the rest cannot be derived from the total.');
    await page.locator('.explorer').screenshot({ path: `${SHOTS}/explorer-desktop-max.png` });

    // No split: one series again, with its batch and speed parts.
    await page.selectOption('#group-by', '');
    await page.selectOption('#measure', 'visits');
    await waitUntil('the chart is one series', async () => (await page.getAttribute('#chart', 'data-series')) === null && (await page.getAttribute('#chart', 'data-total')) === String(phones.length));
    assert.ok(await page.locator('#top-n').isDisabled());
    assert.equal(new URL(page.url()).searchParams.get('split'), null);

    // "Previous range" only after a zoom; a typed time that is no time is refused in one sentence.
    assert.ok(await page.locator('#range-back').isHidden());
    await page.selectOption('#range', 'all');
    await waitUntil('all time is asked for', async () => (await shownQuery(page)).from === undefined);
    assert.ok(await page.locator('#range-back').isHidden(), 'picking a range is no zoom');
    const start = await pointAt(page, MARCH + DAY);
    const end = await pointAt(page, MARCH + 2 * DAY);
    await page.mouse.move(start.x, start.y);
    await page.mouse.down();
    await page.mouse.move(end.x, end.y, { steps: 8 });
    await page.mouse.up();
    await waitUntil('the zoom shows "previous range"', async () => page.locator('#range-back').isVisible());
    await page.fill('#range-from', '2025-03-01 2:00 PM');
    await page.press('#range-from', 'Enter');
    await waitUntil('the note asks for a 24-hour time', async () => (await text(page, '#range-note')) === 'Write the start and the end as YYYY-MM-DD HH:MM, in UTC, such as 2025-03-10 14:30.');
    await page.fill('#range-from', '2025-03-01 14:00');
    await page.fill('#range-to', '2025-03-02 06:00');
    await page.press('#range-to', 'Enter');
    await waitUntil('the typed range is asked for', async () => {
      const q = await shownQuery(page);
      return q.from === '2025-03-01T14:00:00.000Z' && q.to === '2025-03-02T06:00:00.000Z';
    });
    assert.ok(await page.locator('#range-back').isHidden(), 'a typed range starts over');
    assert.equal(new URL(page.url()).searchParams.get('from'), '2025-03-01T14:00Z');
    assert.deepEqual(problems, []);
  });
});

test('dashboard explorer on a phone: the explorer comes first, split series fit the screen', { skip: chromiumSkipReason(), timeout: 120_000 }, async () => {
  const events = visits(3000, 'p', 21);
  const prepare = async (tandem: Tandem) => {
    await tandem.ingest('visit', events);
    await tandem.runBatch();
  };
  await mkdir(SHOTS, { recursive: true });
  await withDashboard({ config, viewport: { width: 390, height: 844 }, prepare }, async ({ page, base, problems }) => {
    await page.goto(`${base}/${LINK}`);
    await waitForSeries(page, 'the top 3 and other', expectedSeries(events, 3, countOf));
    const explorer = (await page.locator('.explorer').boundingBox())!;
    const layers = (await page.locator('.layers').boundingBox())!;
    assert.ok(explorer.y < 844 / 4, `the explorer starts on the first screen (at ${explorer.y}px)`);
    assert.ok(explorer.y < layers.y, 'the explorer comes before the status cards');
    assert.ok(await sidewaysOverflow(page) <= 0, 'the page does not scroll sideways');
    await page.screenshot({ path: `${SHOTS}/explorer-phone-first-screen.png` });
    await page.screenshot({ path: `${SHOTS}/explorer-phone-full.png`, fullPage: true });
    // The series colours on the dark theme: the chart is rebuilt with them.
    await page.click('#theme');
    await waitUntil('the split chart is redrawn dark', async () => (await page.getAttribute('html', 'data-theme')) === 'dark' && (await shownSeries(page)).length === 4);
    await page.waitForTimeout(300);
    await page.screenshot({ path: `${SHOTS}/explorer-phone-dark.png` });
    assert.deepEqual(problems, []);
  });
});
