/**
 * The explorer's pure parts, in Node: exact decimal differences, the split
 * series and their "other", the URL state's round trip, and the 24-hour
 * time inputs. The page loads the same modules as they are.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';

type Value = number | string | null;
interface Answer { rows: Record<string, unknown>[]; meta: Record<string, unknown> }
interface Series { key: string; label: string; other?: boolean; merged: Value[]; batch: Value[]; speed: Value[] }
interface Range { value: string; custom: { from: number; to: number } | null }
interface ExplorerState {
  view: string; measure: string; range: Range; granularity?: string; split?: string; top?: number;
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
const format = await import(asset('format.js')) as { parseUtcInput(value: string): number; utcInputValue(ms: number): string };
const axis = await import(asset('time-axis.js')) as { timeAxisLabels(u: unknown, splits: number[], axis: number, space: number, increment: number): string[] };

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
    view: name, measure: name, range,
    granularity: fc.option(fc.constantFrom('hour', 'day'), { nil: undefined }),
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
  assert.equal(format.utcInputValue(Date.UTC(2025, 2, 10, 14, 30)), '2025-03-10 14:30');
  assert.equal(format.parseUtcInput('2025-03-10 14:30'), Date.UTC(2025, 2, 10, 14, 30));
  assert.equal(format.parseUtcInput('2025-03-10T14:30'), Date.UTC(2025, 2, 10, 14, 30));
  for (const bad of ['', '2025-03-10 2:30 PM', '2025-02-30 10:00', '2025-03-10 24:00', '10/03/2025 14:30']) assert.ok(Number.isNaN(format.parseUtcInput(bad)), bad);
  fc.assert(fc.property(fc.integer({ min: 0, max: 4_000_000_000 }).map((m) => m * 60_000), (ms) => {
    assert.equal(format.parseUtcInput(format.utcInputValue(ms)), ms);
  }), { seed: 32 });
});

test('explorer times - the time axis is labelled in 24-hour UTC, the date where it changes', () => {
  const march = Date.UTC(2025, 2, 1) / 1000;
  assert.deepEqual(axis.timeAxisLabels(null, [march - 4 * 3600, march, march + 4 * 3600], 0, 0, 4 * 3600), ['20:00\n2025-02-28', '00:00\n03-01', '04:00']);
  assert.deepEqual(axis.timeAxisLabels(null, [march, march + 86400], 0, 0, 86400), ['03-01\n2025', '03-02']);
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
