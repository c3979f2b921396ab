/**
 * The explorer's pure parts, in Node: exact decimal differences, the split
 * series and their "other", the URL state's round trip, and the 24-hour
 * time inputs and axis in the explorer's time zone. The page loads the same
 * modules as they are.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';

type Value = number | string | null;
interface Answer { rows: Record<string, unknown>[]; meta: Record<string, unknown> }
interface Series { key: string; label: string; other?: boolean; merged: Value[]; batch: Value[]; speed: Value[] }
interface Range { value: string; custom: { from: number; to: number } | null }
interface ExplorerState {
  view: string; measure: string; range: Range; timeZone?: string; granularity?: string; split?: string; top?: number;
  where: Record<string, string | number | boolean | null>; hidden: string[];
}

// Loaded by URL: they are browser modules without type declarations, typed here by what the tests use.
const asset = (name: string) => new URL(`../../src/dashboard/assets/${name}`, import.meta.url).href;
const decimal = await import(asset('decimal.js')) as { exactDifference(plus: Value[], minus?: Value[]): string | null; decimalValue(text: string | null): Value };
const series = await import(asset('series.js')) as {
  splitSeries(input: { times: number[]; dim: string; keys: Value[]; grouped: Record<string, Answer>; totals: Record<string, Answer> | null; cell(row: Record<string, unknown>): Value; additive: boolean }): Series[];
  sameSnapshot(a: Answer, b: Answer): boolean;
};
const urlState = await import(asset('url-state.js')) as { encodeExplorerState(s: ExplorerState): string; decodeExplorerState(search: string): ExplorerState };
const zoned = await import(asset('zoned-time.js')) as {
  zonedLabel(ms: number, zone: string): string; parseZonedInput(value: string, zone: string): number;
  roundLocal(ms: number, step: number, zone: string, round: (x: number) => number): number; knownZone(name: string): string | undefined; zoneNames(): string[];
};
const axis = await import(asset('time-axis.js')) as { timeAxisLabels(u: unknown, splits: number[], axis: number, space: number, increment: number, zone?: string): string[] };

/** Cents as the decimal a JSON answer writes for a scale-2 sum: the number whose shortest form is the exact value. */
const fromCents = (c: bigint) => Number(c) / 100;
const centsText = (c: bigint) => {
  const abs = c < 0n ? -c : c;
  const fraction = String(abs % 100n).padStart(2, '0').replace(/0+$/, '');
  return `${c < 0n ? '-' : ''}${abs / 100n}${fraction ? `.${fraction}` : ''}`;
};

test('explorer decimals - a total minus its parts is exact to the cent, where doubles would round', () => {
  assert.equal(decimal.exactDifference([0.3], [0.1, 0.2]), '0');
  assert.equal(0.3 - 0.1 - 0.2 === 0, false, 'doubles round here');
  assert.equal(decimal.exactDifference(['123456789012345678901.25'], [0.25]), '123456789012345678901');
  assert.equal(decimal.exactDifference([1e21], [1]), '999999999999999999999');
  assert.equal(decimal.exactDifference([Number.NaN]), null);
  fc.assert(fc.property(fc.array(fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n }), { minLength: 1, maxLength: 12 }), (parts) => {
    const total = parts.reduce((sum, c) => sum + c, 0n);
    const [first, ...rest] = parts;
    assert.equal(decimal.exactDifference([fromCents(total)], rest.map(fromCents)), centsText(first!));
    assert.equal(decimal.decimalValue(decimal.exactDifference(parts.map(fromCents))), fromCents(total));
  }), { seed: 32 });
});

const meta = { batchVersion: 1, batchCutoff: 10, logEnd: 20, layer: 'merged', partialBuckets: [] };

test('explorer split - each top value is its own series, and "other" plus them is the total in every bucket and layer', () => {
  const cities = ['Oslo', 'Lima', 'Pune', null, 'Rome'];
  const row = fc.record({ time: fc.integer({ min: 0, max: 5 }), city: fc.constantFrom(...cities), cents: fc.bigInt({ min: 0n, max: 10n ** 12n }) });
  fc.assert(fc.property(fc.array(row, { maxLength: 40 }), fc.array(row, { maxLength: 40 }), fc.integer({ min: 1, max: 4 }), (batchRows, speedRows, top) => {
    // Rows per (bucket, city) in each layer, and the layers' sum as merged: the shape of a grouped answer.
    const sumUp = (rows: typeof batchRows, grouped: boolean) => {
      const sums = new Map<string, { time: number; city: Value; cents: bigint }>();
      for (const r of rows) {
        const key = grouped ? `${r.time}|${r.city}` : `${r.time}`;
        const seen = sums.get(key) ?? { time: r.time, city: r.city, cents: 0n };
        seen.cents += r.cents;
        sums.set(key, seen);
      }
      return { meta, rows: [...sums.values()].map((s) => ({ time: new Date(s.time * 3_600_000).toISOString(), ...(grouped ? { city: s.city } : {}), spend: fromCents(s.cents) })) };
    };
    const layers = { batch: batchRows, speed: speedRows, merged: [...batchRows, ...speedRows] };
    const keys = cities.slice(0, top);
    const grouped = Object.fromEntries(Object.entries(layers).map(([l, rows]) => [l, sumUp(rows.filter((r) => keys.includes(r.city)), true)]));
    const totals = Object.fromEntries(Object.entries(layers).map(([l, rows]) => [l, sumUp(rows, false)]));
    const times = [0, 1, 2, 3, 4, 5].map((h) => h * 3_600_000);
    const out = series.splitSeries({ times, dim: 'city', keys, grouped, totals, cell: (r) => r.spend as Value, additive: true });
    assert.deepEqual(out.map((s) => s.label), [...keys.map((k) => (k === null ? '(none)' : k)), 'other']);
    for (const [layer, rows] of Object.entries(layers) as [keyof typeof layers, typeof batchRows][]) {
      times.forEach((t, i) => {
        const inBucket = rows.filter((r) => r.time * 3_600_000 === t);
        const of = (city: Value) => inBucket.filter((r) => r.city === city).reduce((sum, r) => sum + r.cents, 0n);
        keys.forEach((k, j) => assert.equal(decimal.exactDifference([out[j]![layer][i]!]), centsText(of(k))));
        const rest = inBucket.filter((r) => !keys.includes(r.city)).reduce((sum, r) => sum + r.cents, 0n);
        assert.equal(decimal.exactDifference([out.at(-1)![layer][i]!]), centsText(rest), `other, ${layer}, bucket ${i}`);
      });
    }
  }), { seed: 32, numRuns: 150 });
});

test('explorer split - without totals there is no "other"; a value called "other" keeps apart from the rest; answers from different moments are told apart', () => {
  const empty = { meta, rows: [] };
  const none = { merged: empty, batch: empty, speed: empty };
  const out = series.splitSeries({ times: [0], dim: 'city', keys: ['Oslo'], grouped: none, totals: null, cell: () => null, additive: false });
  assert.deepEqual(out.map((s) => [s.label, s.merged]), [['Oslo', [null]]]);
  const named = series.splitSeries({ times: [0], dim: 'city', keys: ['other'], grouped: none, totals: none, cell: () => null, additive: true });
  assert.deepEqual(named.map((s) => [s.label, s.merged]), [['other', [0]], ['(other values)', [0]]]);
  assert.equal(series.sameSnapshot({ meta, rows: [] }, { meta: { ...meta }, rows: [{}] }), true);
  assert.equal(series.sameSnapshot({ meta, rows: [] }, { meta: { ...meta, logEnd: 21 }, rows: [] }), false);
  assert.equal(series.sameSnapshot({ meta, rows: [] }, { meta: { ...meta, batchVersion: 2 }, rows: [] }), false);
});

test('explorer URL - every state the explorer can be in reads back from its link as it was', () => {
  const name = fc.string({ minLength: 1, maxLength: 12 });
  const minute = fc.integer({ min: 0, max: 100_000_000 }).map((m) => m * 60_000);
  const range = fc.oneof(
    fc.constantFrom('3600000', '86400000', 'all').map((value) => ({ value, custom: null })),
    fc.tuple(minute, minute).filter(([a, b]) => a !== b).map(([a, b]) => ({ value: 'custom', custom: { from: Math.min(a, b), to: Math.max(a, b) } })),
  );
  const value = fc.oneof(fc.string({ maxLength: 10 }), fc.integer(), fc.boolean(), fc.constant(null));
  const state = fc.record({
    view: name, measure: name,
    range,
    timeZone: fc.option(fc.constantFrom('Europe/Berlin', 'Asia/Kolkata', 'America/Argentina/Buenos_Aires', 'Etc/GMT+5'), { nil: undefined }),
    granularity: fc.option(fc.constantFrom('hour', 'day', 'quarter', 'year'), { nil: undefined }),
    split: fc.option(name, { nil: undefined }),
    top: fc.constantFrom(3, 5, 10),
    where: fc.dictionary(name.filter((k) => k !== '__proto__'), value, { maxKeys: 3 }),
    hidden: fc.array(name, { maxLength: 3 }),
  });
  fc.assert(fc.property(state, (s) => {
    const back = urlState.decodeExplorerState(`?${urlState.encodeExplorerState(s)}`);
    assert.deepEqual(back, { ...s, where: { ...s.where }, top: s.split === undefined ? undefined : s.top });
  }), { seed: 32 });
  // A hand-written link: a filter value as plain text, a range that cannot be, a top that is no number.
  const read = urlState.decodeExplorerState('?view=v&where.city=Oslo&range=custom&from=2025-03-02T00:00Z&to=2025-03-01T00:00Z&top=many');
  assert.deepEqual([read.where, read.range, read.top], [{ city: 'Oslo' }, undefined, undefined]);
});

test('explorer times - the range inputs are 24-hour UTC, and a time that does not exist is no time', () => {
  assert.equal(zoned.zonedLabel(Date.UTC(2025, 2, 10, 14, 30), 'UTC'), '2025-03-10 14:30');
  assert.equal(zoned.parseZonedInput('2025-03-10 14:30', 'UTC'), Date.UTC(2025, 2, 10, 14, 30));
  assert.equal(zoned.parseZonedInput('2025-03-10T14:30', 'UTC'), Date.UTC(2025, 2, 10, 14, 30));
  for (const zone of ['UTC', 'Europe/Berlin']) {
    for (const bad of ['', '2025-03-10 2:30 PM', '2025-02-30 10:00', '2025-03-10 24:00', '10/03/2025 14:30']) assert.ok(Number.isNaN(zoned.parseZonedInput(bad, zone)), `${bad} in ${zone}`);
  }
  fc.assert(fc.property(fc.integer({ min: 0, max: 4_000_000_000 }).map((m) => m * 60_000), (ms) => {
    assert.equal(zoned.parseZonedInput(zoned.zonedLabel(ms, 'UTC'), 'UTC'), ms);
  }), { seed: 32 });
});

/** Local time in a zone by a route of its own: the offset Intl names (`GMT+05:30`), added to the instant. */
function byNamedOffset(ms: number, zone: string): string {
  const name = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' }).formatToParts(ms).find((p) => p.type === 'timeZoneName')!.value;
  const [, sign, h, m] = /^GMT(?:([+-])(\d{2}):(\d{2}))?$/.exec(name) ?? [];
  const offset = sign === undefined ? 0 : (sign === '-' ? -1 : 1) * (Number(h) * 60 + Number(m)) * 60_000;
  return new Date(ms + offset).toISOString().slice(0, 16).replace('T', ' ');
}

const ZONES = ['Europe/Berlin', 'Asia/Kolkata', 'America/New_York', 'Australia/Lord_Howe', 'Pacific/Chatham', 'America/St_Johns'];
const DAY_MS = 86_400_000;

test('explorer times - in a time zone, times show and read as its local wall clock, across changes of offset', () => {
  const at = (text: string) => Date.parse(text);
  // Berlin: +1 in winter, +2 in summer; clocks skip 02:00–03:00 on 30 March 2025 and repeat it on 26 October.
  assert.equal(zoned.zonedLabel(at('2025-03-01T23:00:00Z'), 'Europe/Berlin'), '2025-03-02 00:00');
  assert.equal(zoned.zonedLabel(at('2025-07-01T22:00:00Z'), 'Europe/Berlin'), '2025-07-02 00:00');
  assert.equal(zoned.parseZonedInput('2025-03-10 14:30', 'Europe/Berlin'), at('2025-03-10T13:30:00Z'));
  assert.equal(zoned.parseZonedInput('2025-03-10 14:30', 'Asia/Kolkata'), at('2025-03-10T09:00:00Z'));
  assert.equal(zoned.parseZonedInput('2025-03-30 02:30', 'Europe/Berlin'), at('2025-03-30T01:30:00Z'), 'a skipped time reads with the offset before: 03:30 summer time');
  assert.equal(zoned.parseZonedInput('2025-10-26 02:30', 'Europe/Berlin'), at('2025-10-26T00:30:00Z'), 'a repeated time is its first instant');
  // Local midnight, floored and ceiled to, on a 23-hour day too; local hours in a half-hour zone.
  assert.equal(zoned.roundLocal(at('2025-03-30T12:00:00Z'), DAY_MS, 'Europe/Berlin', Math.floor), at('2025-03-29T23:00:00Z'));
  assert.equal(zoned.roundLocal(at('2025-03-30T12:00:00Z'), DAY_MS, 'Europe/Berlin', Math.ceil), at('2025-03-30T22:00:00Z'));
  assert.equal(zoned.roundLocal(at('2025-03-10T10:00:00Z'), 3_600_000, 'Asia/Kolkata', Math.floor), at('2025-03-10T09:30:00Z'));
  // Minutes from 1970 to 2095 in zones with half- and three-quarter-hour offsets and changes of them: the label agrees with
  // Intl's named offset and reads back to itself (to the instant, unless the clocks repeat that time), and floors to its own midnight.
  fc.assert(fc.property(fc.integer({ min: 0, max: 66_000_000 }).map((m) => m * 60_000), fc.constantFrom(...ZONES), (ms, zone) => {
    const label = zoned.zonedLabel(ms, zone);
    assert.equal(label, byNamedOffset(ms, zone));
    const back = zoned.parseZonedInput(label, zone);
    assert.equal(zoned.zonedLabel(back, zone), label);
    assert.ok(back <= ms && ms - back <= 3_600_000, `${label} in ${zone}`);
    const midnight = zoned.roundLocal(ms, DAY_MS, zone, Math.floor);
    assert.ok(midnight <= ms && ms - midnight < 26 * 3_600_000);
    assert.equal(zoned.zonedLabel(midnight, zone).slice(0, 10), label.slice(0, 10));
  }), { seed: 32, numRuns: 400 });
});

test('explorer times - a zone typed in is spelt as the browser lists it, and one it does not know is none', () => {
  assert.equal(zoned.knownZone('europe/berlin'), 'Europe/Berlin');
  assert.equal(zoned.knownZone(' utc '), 'UTC');
  assert.equal(zoned.knownZone('Mars/Olympus_Mons'), undefined);
  assert.equal(zoned.knownZone(''), undefined);
  const names = zoned.zoneNames();
  assert.equal(names[0], 'UTC');
  assert.ok(names.includes('Europe/Berlin') && names.filter((n) => n === 'UTC').length === 1);
});

test('explorer times - the time axis is labelled in 24-hour UTC, the date where it changes', () => {
  const march = Date.UTC(2025, 2, 1) / 1000;
  assert.deepEqual(axis.timeAxisLabels(null, [march - 4 * 3600, march, march + 4 * 3600], 0, 0, 4 * 3600), ['20:00\n2025-02-28', '00:00\n03-01', '04:00']);
  assert.deepEqual(axis.timeAxisLabels(null, [march, march + 86400], 0, 0, 86400), ['03-01\n2025', '03-02']);
  // In Berlin the same instants are an hour later, and local midnight falls at 23:00 UTC.
  assert.deepEqual(axis.timeAxisLabels(null, [march - 4 * 3600, march, march + 4 * 3600], 0, 0, 4 * 3600, 'Europe/Berlin'), ['21:00\n2025-02-28', '01:00\n03-01', '05:00']);
  assert.deepEqual(axis.timeAxisLabels(null, [march - 3600, march - 3600 + 86400], 0, 0, 86400, 'Europe/Berlin'), ['03-01\n2025', '03-02']);
  const increment = fc.constantFrom(60, 900, 3600, 6 * 3600, 86400, 7 * 86400, 31 * 86400);
  // Ticks from 1970 to 2096, a whole number of increments from the epoch.
  fc.assert(fc.property(fc.integer({ min: 0, max: 4_000_000_000 }), fc.integer({ min: 1, max: 12 }), increment, (seconds, count, step) => {
    const splits = Array.from({ length: count }, (_, i) => (Math.floor(seconds / step) + i) * step);
    const labels = axis.timeAxisLabels(null, splits, 0, 0, step);
    assert.equal(labels.length, count);
    for (const label of labels) assert.match(label, /^(\d{2}:\d{2}|\d{2}-\d{2}|\d{4}-\d{2})(\n(\d{4}-)?\d{2}-\d{2}|\n\d{4})?$/);
    // The first tick always says when it is.
    if (step < 28 * 86400) assert.ok(labels[0]!.includes('\n'), labels[0]);
  }), { seed: 32 });
});
