/**
 * Local days, weeks, months, quarters and years of a query's time zone,
 * rolled up from a view's UTC buckets, against a reference that finds each
 * event's local period directly with Intl and sums: events around the DST
 * changes of Berlin, New York and Lord Howe (a 30-minute change), in India
 * (+5:30) and in UTC, half absorbed by a batch cycle and half in the speed
 * layer. Where a view's buckets do not fit the zone's local periods (hour
 * buckets in India or on Lord Howe, day buckets anywhere but UTC) the
 * query is refused, naming the view to define.
 */
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defineConfig, defineEventType, defineView, Tandem, TimeZoneRollUpError, UnknownTimeZoneError, type QueryRow } from '../../src/index.ts';
import { withTempDir } from '../support/temp-dir.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const sale = defineEventType({
  name: 'sale',
  time: 'at',
  idempotencyKey: 'id',
  fields: { id: 'string', at: 'timestamp', region: 'string', amount: { type: 'number', scale: 2 } },
});
const measures = { orders: { type: 'count' }, revenue: { type: 'sum', field: 'amount' } } as const;
const config = defineConfig({
  eventTypes: [sale],
  views: [
    defineView(sale, { name: 'by_minute', dimensions: ['region'], granularity: 'minute', measures }),
    defineView(sale, { name: 'by_hour', dimensions: ['region'], granularity: 'hour', measures }),
    defineView(sale, { name: 'by_day', dimensions: ['region'], granularity: 'day', measures }),
  ],
});

const ZONES = ['Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kolkata', 'UTC'] as const;
type Zone = (typeof ZONES)[number];
const VIEWS = { by_minute: MINUTE, by_hour: HOUR, by_day: DAY } as const;
type ViewName = keyof typeof VIEWS;
const PERIODS = ['day', 'week', 'month', 'quarter', 'year'] as const;
type Period = (typeof PERIODS)[number];

/**
 * The view each (zone, view) pair needs instead over a whole year, where the
 * view's buckets do not fit the zone's local periods at some time of the
 * year; absent where they always fit.
 */
function needs(zone: Zone, view: ViewName): 'hour' | 'minute' | undefined {
  if (zone === 'UTC' || view === 'by_minute') return undefined;
  const wholeHours = zone === 'Europe/Berlin' || zone === 'America/New_York';
  if (view === 'by_hour') return wholeHours ? undefined : 'minute';
  return wholeHours ? 'hour' : 'minute';
}

const VIEW_OF = { hour: 'by_hour', minute: 'by_minute' } as const;

/** DST changes of the zones in 2026 (and month, quarter and year ends), around which events cluster. */
const ANCHORS = [
  '2026-03-08T07:00:00Z', '2026-11-01T06:00:00Z', // New York
  '2026-03-29T01:00:00Z', '2026-10-25T01:00:00Z', // Berlin
  '2026-04-04T15:00:00Z', '2026-10-03T15:30:00Z', // Lord Howe
  '2026-01-01T00:00:00Z', '2026-03-31T18:30:00Z', '2026-06-30T14:00:00Z', '2026-09-30T22:00:00Z', '2026-12-31T23:00:00Z',
].map(Date.parse);

/** Events within two days of an anchor, at any millisecond, with amounts in cents. */
const eventArb = fc.record({
  anchor: fc.constantFrom(...ANCHORS),
  shift: fc.integer({ min: -2 * DAY, max: 2 * DAY }),
  region: fc.constantFrom('north', 'south'),
  cents: fc.integer({ min: -5000, max: 100_000 }),
}).map(({ anchor, shift, region, cents }) => ({ at: anchor + shift, region, cents }));

/** Two events that stretch every run over a whole year, so that each zone's summer and winter offsets are in range. */
const SPAN = [{ at: Date.parse('2026-01-10T12:00:00Z'), region: 'north', cents: 100 }, { at: Date.parse('2027-01-10T12:00:00Z'), region: 'south', cents: 200 }];

type Sale = { readonly at: number; readonly region: string; readonly cents: number };

const formats = new Map<string, Intl.DateTimeFormat>();
/** Local wall-clock parts of `t` in `zone`, as Intl gives them. */
function localParts(zone: string, t: number): { y: number; m: number; d: number; text: string } {
  let format = formats.get(zone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    formats.set(zone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(t).map((p) => [p.type, p.value]));
  const text = `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}`;
  return { y: Number(parts.year), m: Number(parts.month), d: Number(parts.day), text };
}

const pad = (n: number) => String(n).padStart(2, '0');

/** The first local date (YYYY-MM-DD) of the period of `t` in `zone`, from its local date alone. */
function referencePeriod(zone: string, period: Period, t: number): string {
  const { y, m, d } = localParts(zone, t);
  switch (period) {
    case 'day': return `${y}-${pad(m)}-${pad(d)}`;
    case 'week': {
      const day = new Date(Date.UTC(y, m - 1, d));
      const monday = new Date(day.getTime() - ((day.getUTCDay() + 6) % 7) * DAY);
      return monday.toISOString().slice(0, 10);
    }
    case 'month': return `${y}-${pad(m)}-01`;
    case 'quarter': return `${y}-${pad(m - ((m - 1) % 3))}-01`;
    case 'year': return `${y}-01-01`;
  }
}

/** Per (region, first local date of the period): orders and revenue in cents, over the events whose view bucket starts in [from, to). */
function reference(events: readonly Sale[], zone: string, period: Period, width: number, from: number, to: number): Map<string, { orders: number; cents: number }> {
  const out = new Map<string, { orders: number; cents: number }>();
  for (const e of events) {
    const bucket = Math.floor(e.at / width) * width;
    if (bucket < from || bucket >= to) continue;
    const key = `${e.region}|${referencePeriod(zone, period, e.at)}`;
    const acc = out.get(key) ?? { orders: 0, cents: 0 };
    acc.orders += 1;
    acc.cents += e.cents;
    out.set(key, acc);
  }
  return out;
}

/**
 * Whether some bucket of `width` in [lo, hi) straddles a local midnight of
 * `zone`: its first and last millisecond fall on different local dates.
 * Then regrouping whole buckets cannot be exact, and the engine must refuse.
 */
function straddles(zone: string, width: number, lo: number, hi: number): boolean {
  const key = `${zone} ${width} ${lo} ${hi}`;
  let found = straddled.get(key);
  if (found === undefined) {
    found = false;
    for (let b = lo; b < hi && !found; b += width) found = localParts(zone, b).text.slice(0, 10) !== localParts(zone, b + width - 1).text.slice(0, 10);
    straddled.set(key, found);
  }
  return found;
}
const straddled = new Map<string, boolean>();

/** From the first view bucket the events put in [from, to) to the end of the last: where the answer has data. */
function span(events: readonly Sale[], width: number, from: number, to: number): [number, number] {
  const buckets = events.map((e) => Math.floor(e.at / width) * width).filter((b) => b >= from && b < to);
  return buckets.length === 0 ? [0, 0] : [Math.min(...buckets), Math.max(...buckets) + width];
}

/** The answer's rows as the reference keys them, each label checked: the first instant of its local date, with the zone's offset then. */
function answered(rows: readonly QueryRow[], zone: string): Map<string, { orders: number; cents: number }> {
  const out = new Map<string, { orders: number; cents: number }>();
  for (const row of rows) {
    const label = row.time as string;
    const instant = Date.parse(label);
    const date = label.slice(0, 10);
    assert.equal(localParts(zone, instant).text, label.slice(0, 19), `${label} reads as local time in ${zone}`);
    assert.ok(localParts(zone, instant - 1).text.slice(0, 10) < date, `${label} is the first instant of its local date in ${zone}`);
    if (zone === 'UTC') assert.ok(label.endsWith('Z'), `${label}: UTC labels keep their Z`);
    out.set(`${String(row.region)}|${date}`, { orders: row.orders as number, cents: Math.round(Number(row.revenue) * 100) });
  }
  return out;
}

const toEvents = (sales: readonly Sale[], prefix: string) => sales.map((s, i) => ({ id: `${prefix}${i}`, at: s.at, region: s.region, amount: s.cents / 100 }));

const rangeEdge = fc.option(fc.constantFrom(...ANCHORS).chain((a) => fc.integer({ min: -36, max: 36 }).map((h) => a + h * HOUR)), { nil: undefined });

/**
 * One query's outcome against the reference: an answer equal to it, in
 * which no bucket in the data's span straddles a local midnight; or a
 * refusal for a (zone, view) pair that does not fit at some time of the
 * year, naming a finer view that then answers. Over the open range (a
 * whole year of data) the refusals are exactly those pairs.
 */
async function check(engine: Tandem, events: readonly Sale[], zone: Zone, view: ViewName, granularity: Period, from: number | undefined, to: number | undefined): Promise<void> {
  const query = { view, groupBy: ['region'], granularity, timeZone: zone, from, to };
  const open = from === undefined && to === undefined;
  const bounds = [from ?? -Infinity, to ?? Infinity] as const;
  const outcome = await engine.query(query).then((answer) => ({ answer }), (error: unknown) => ({ error }));
  if ('error' in outcome) {
    const error = outcome.error;
    assert.ok(error instanceof TimeZoneRollUpError, String(error));
    assert.equal(error.field, 'timeZone');
    assert.notEqual(needs(zone, view), undefined, `${view} in ${zone} always fits, yet was refused: ${error.message}`);
    if (open) assert.equal(error.needs, needs(zone, view), `over a whole year ${view} in ${zone} needs ${needs(zone, view)} buckets`);
    assert.ok(error.needs !== undefined && VIEWS[VIEW_OF[error.needs]] < VIEWS[view], error.message);
    await check(engine, events, zone, VIEW_OF[error.needs], granularity, from, to);
    return;
  }
  const { answer } = outcome;
  if (open) assert.equal(needs(zone, view), undefined, `${view} in ${zone} does not fit over a whole year, yet answered`);
  assert.equal(answer.meta.timeZone, zone);
  if (view !== 'by_minute' && zone !== 'UTC') {
    const [lo, hi] = span(events, VIEWS[view], ...bounds);
    assert.ok(!straddles(zone, VIEWS[view], lo, hi), `${view} in ${zone} answered though a bucket straddles a local midnight`);
  }
  assert.deepEqual(answered(answer.rows, zone), reference(events, zone, granularity, VIEWS[view], ...bounds), `${view} by ${granularity} in ${zone}`);
}

test('time zones - local periods rolled up from batch and speed buckets equal a per-event recomputation in the zone, or are refused where buckets do not fit', async () => {
  await fc.assert(fc.asyncProperty(
    fc.array(eventArb, { minLength: 1, maxLength: 60 }), fc.array(eventArb, { maxLength: 60 }), fc.tuple(rangeEdge, rangeEdge),
    async (early, late, [from, to]) => {
      await withTempDir(async (dir) => {
        const engine = await Tandem.open({ dataDir: dir, config });
        try {
          const batched = [...SPAN, ...early];
          await engine.ingest('sale', toEvents(batched, 'b'));
          await engine.runBatch();
          await engine.ingest('sale', toEvents(late, 's'));
          const all = [...batched, ...late];
          for (const zone of ZONES) {
            for (const view of Object.keys(VIEWS) as ViewName[]) {
              for (const granularity of PERIODS) {
                await check(engine, all, zone, view, granularity, undefined, undefined);
                await check(engine, all, zone, view, granularity, from, to);
              }
            }
          }
          // The batch layer alone rolls up as the merge does: over the events the cycle absorbed.
          const batchOnly = await engine.query({ view: 'by_minute', groupBy: ['region'], granularity: 'week', timeZone: 'Australia/Lord_Howe', layer: 'batch' });
          assert.deepEqual(answered(batchOnly.rows, 'Australia/Lord_Howe'), reference(batched, 'Australia/Lord_Howe', 'week', MINUTE, -Infinity, Infinity));
        } finally {
          await engine.close();
        }
      });
    },
  ), { seed: 20261204, numRuns: 8 });
});

test('time zones - a day in Berlin lasts 23 hours in March and 25 in October, labelled with its offset', async () => {
  await withTempDir(async (dir) => {
    const engine = await Tandem.open({ dataDir: dir, config });
    try {
      // One sale every UTC hour over the two days around each change.
      const hours = (start: string) => Array.from({ length: 48 }, (_, h) => Date.parse(start) + h * HOUR);
      const times = [...hours('2026-03-28T00:00:00Z'), ...hours('2026-10-24T00:00:00Z')];
      await engine.ingest('sale', times.map((at, i) => ({ id: `h${i}`, at, region: 'north', amount: 1 })));
      const answer = await engine.query({ view: 'by_hour', granularity: 'day', timeZone: 'Europe/Berlin', from: '2026-03-28T23:00:00Z', to: '2026-03-30T12:00:00Z' });
      assert.deepEqual(answer.rows.map((r) => [r.time, r.orders]), [['2026-03-29T00:00:00.000+01:00', 23], ['2026-03-30T00:00:00.000+02:00', 2]]);
      assert.equal(answer.meta.timeZone, 'Europe/Berlin');
      assert.deepEqual(answer.meta.partialBuckets, ['2026-03-30T00:00:00.000+02:00'], 'the range ends inside the local day of 30 March');
      const october = await engine.query({ view: 'by_hour', granularity: 'day', timeZone: 'Europe/Berlin', from: '2026-10-24T22:00:00Z', to: '2026-10-25T23:00:00Z' });
      assert.deepEqual(october.rows.map((r) => [r.time, r.orders]), [['2026-10-25T00:00:00.000+02:00', 25]]);
      assert.deepEqual(october.meta.partialBuckets, []);
      const utc = await engine.query({ view: 'by_hour', granularity: 'day', from: '2026-03-28T00:00:00Z', to: '2026-03-29T00:00:00Z' });
      assert.deepEqual(utc.rows.map((r) => [r.time, r.orders]), [['2026-03-28T00:00:00.000Z', 24]]);
      assert.equal(utc.meta.timeZone, 'UTC');
    } finally {
      await engine.close();
    }
  });
});

test('time zones - an unknown or malformed zone is refused naming timeZone; case is forgiven and Kolkata keeps its name', async () => {
  await withTempDir(async (dir) => {
    const engine = await Tandem.open({ dataDir: dir, config });
    try {
      for (const timeZone of ['Mars/Olympus_Mons', '+01:00', '', 'Europe/Berlin\u0000']) {
        await assert.rejects(engine.query({ view: 'by_hour', granularity: 'day', timeZone }), (error: unknown) => {
          assert.ok(error instanceof UnknownTimeZoneError);
          assert.equal(error.field, 'timeZone');
          assert.equal(error.code, 'unknown_time_zone');
          assert.match(error.message, /^timeZone '.*' is not an IANA time zone name this server knows; use one such as 'Europe\/Berlin', 'America\/New_York' or 'UTC'\.$/s);
          return true;
        });
      }
      await assert.rejects(engine.query({ view: 'by_hour', timeZone: 3 as unknown as string }), { code: 'invalid_query', field: 'timeZone' });
      assert.equal((await engine.query({ view: 'by_hour', granularity: 'day', timeZone: 'europe/berlin' })).meta.timeZone, 'Europe/Berlin');
      assert.equal((await engine.query({ view: 'by_minute', granularity: 'day', timeZone: 'Asia/Kolkata' })).meta.timeZone, 'Asia/Kolkata');
    } finally {
      await engine.close();
    }
  });
});

test('time zones - a day view in a zone other than UTC is refused in one sentence saying to define an hour view; rolled up to all it answers', async () => {
  await withTempDir(async (dir) => {
    const engine = await Tandem.open({ dataDir: dir, config });
    try {
      await engine.ingest('sale', [{ id: 'a', at: Date.parse('2026-05-01T10:00:00Z'), region: 'north', amount: 5 }]);
      await assert.rejects(engine.query({ view: 'by_day', granularity: 'month', timeZone: 'America/New_York' }), {
        code: 'time_zone_roll_up',
        field: 'timeZone',
        message: "View 'by_day' has day buckets, which straddle local midnights of America/New_York; define a view with hour buckets of the same measures to query it in that time zone.",
      });
      const total = await engine.query({ view: 'by_day', granularity: 'all', timeZone: 'America/New_York' });
      assert.deepEqual(total.rows.map((r) => r.orders), [1]);
      assert.equal(total.meta.timeZone, 'America/New_York');
    } finally {
      await engine.close();
    }
  });
});
