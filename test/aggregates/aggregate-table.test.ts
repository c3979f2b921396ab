import fc from 'fast-check';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileConfig, defineConfig, defineEventType, defineView, MAX_TIME, MIN_TIME, type Value } from '../../src/index.ts';
import { bucketStart, toColumns, type Row, type ViewSchema } from '../../src/definitions/index.ts';
import { AggregateTable } from '../../src/aggregates/index.ts';

const hit = defineEventType({
  name: 'hit',
  time: 'at',
  fields: { at: 'timestamp', page: { type: 'string', optional: true }, code: { type: 'number', scale: 0, optional: true }, ok: 'boolean' },
});
const catalog = compileConfig(defineConfig({
  eventTypes: [hit],
  views: [
    defineView(hit, { name: 'by_page', dimensions: ['page'], granularity: 'minute', measures: { n: { type: 'count' } } }),
    defineView(hit, { name: 'by_all', dimensions: ['page', 'code', 'ok'], granularity: 'month', measures: { n: { type: 'count' }, top: { type: 'max', field: 'code' } } }),
    defineView(hit, { name: 'total', dimensions: [], granularity: 'none', measures: { n: { type: 'count' } } }),
  ],
}));

/** Few distinct values, so series and buckets repeat; '' and null, 1 and '1' must stay apart. */
const row = fc.record({
  at: fc.oneof(fc.constantFrom(MIN_TIME, MAX_TIME, 0, -60_000), fc.integer({ min: 0, max: 5 }).map((m) => Date.UTC(2024, 0, 1) + m * 61_000)),
  page: fc.constantFrom<Value>('', '1', 'a\u0001b', null, '/x'),
  code: fc.constantFrom<Value>(1, 0, 200, null),
  ok: fc.boolean(),
}).map((r): Row => ({ _offset: null, ...r }));

for (const view of catalog.views.values()) {
  test(`aggregate table - ${view.name}: every (series, bucket) gets one slot, and each series lists exactly its own`, () => {
    fc.assert(fc.property(fc.array(row, { maxLength: 300 }), (rows) => {
      const table = new AggregateTable(view);
      const expected = new Map<string, number>();
      table.apply(toColumns(view.eventType.fields, rows));
      for (const r of rows) {
        const dims = view.dimensions.map((d) => r[d.name]!);
        const series = table.findSeries(dims);
        assert.notEqual(series, -1);
        assert.deepEqual(table.dims(series), dims);
        const key = JSON.stringify(dims);
        expected.set(key, (expected.get(key) ?? 0) + 1);
      }
      let slots = 0;
      let events = 0;
      for (let series = 0; series < table.seriesCount; series++) {
        const seen = new Set<number>();
        table.forEachSlot(series, (slot) => {
          const bucket = table.bucketAt(slot);
          assert.ok(!seen.has(bucket), 'a bucket appears twice in a series');
          seen.add(bucket);
          assert.equal(table.findSlot(series, bucket), slot);
          events += table.columns[0]!.get(slot) as number;
        });
        assert.equal(seen.size, table.bucketCount(series));
        assert.equal(expected.get(JSON.stringify(table.dims(series))), [...seen].reduce((n, b) => n + (table.columns[0]!.get(table.findSlot(series, b)) as number), 0));
        slots += seen.size;
      }
      assert.equal(table.seriesCount, expected.size);
      assert.equal(slots, table.size);
      assert.equal(events, rows.length);
    }));
  });
}

test('aggregate table - series numbered before their buckets, as a batch view loads them, still list exactly their own', () => {
  const view = catalog.views.get('by_page')!;
  const table = new AggregateTable(view);
  const ids = ['a', 'b', 'c', 'unused'].map((page) => table.internSeries([page]));
  for (const [series, bucket] of [[2, 60_000], [0, 0], [2, 0], [1, 120_000]] as const) table.internSlot(ids[series]!, bucket);
  const buckets = (series: number) => {
    const seen: number[] = [];
    table.forEachSlot(series, (slot) => seen.push(table.bucketAt(slot)));
    return seen.sort((a, b) => a - b);
  };
  assert.deepEqual(ids.map(buckets), [[0], [120_000], [0, 60_000], []]);
  assert.deepEqual(ids.map((s) => table.bucketCount(s)), [1, 1, 2, 0]);
});

/** Every measure, one-dimension views of each value type, and a filter; codes big enough to push sums past 2^53. */
const folded = compileConfig(defineConfig({
  eventTypes: [hit],
  views: [
    ...[['page'], ['code'], ['ok'], ['page', 'ok']].map((dimensions, i) => defineView(hit, {
      name: `view_${i}`,
      dimensions: dimensions as ('page' | 'code' | 'ok')[],
      granularity: (['minute', 'week', 'month', 'none'] as const)[i]!,
      measures: {
        n: { type: 'count' }, total: { type: 'sum', field: 'code' }, low: { type: 'min', field: 'code' },
        high: { type: 'max', field: 'code' }, mean: { type: 'avg', field: 'code' }, last: { type: 'max', field: 'at' },
      },
      ...(i === 3 ? { filter: [{ field: 'code', op: '!=', value: 0 }] } : {}),
    })),
  ],
}));
const bigRow = row.chain((r) => fc.constantFrom<Value>(null, 2 ** 52, -(2 ** 52), 3).map((big): Row => ({ ...r, code: r.code === 1 ? big : r.code })));

/** A (series, bucket) and its states, in a form that compares equal only if every part does. */
function entry(dims: readonly Value[], bucket: number, states: readonly unknown[]): string {
  return JSON.stringify([dims, bucket, states], (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
}

function contents(table: AggregateTable): string[] {
  const out: string[] = [];
  for (let series = 0; series < table.seriesCount; series++) {
    table.forEachSlot(series, (slot) => out.push(entry(table.dims(series), table.bucketAt(slot), table.columns.map((c) => c.get(slot)))));
  }
  return out.sort();
}

/** The same view folded the plain way: row by row, with each measure's own `add`, into a Map. */
function reference(view: ViewSchema, rows: readonly Row[]): { entries: string[]; series: number } {
  const states = new Map<string, { dims: Value[]; bucket: number; states: unknown[] }>();
  for (const r of rows) {
    if (!view.filter.every((f) => f.test(r[f.field.name]!))) continue;
    const dims = view.dimensions.map((d) => r[d.name]!);
    const bucket = bucketStart(view.granularity, r.at as number);
    const key = entry(dims, bucket, []);
    const held = states.get(key) ?? { dims, bucket, states: view.measures.map((m) => m.monoid.empty()) };
    held.states = view.measures.map((m, i) => m.monoid.add(held.states[i], m.field === undefined ? null : (r[m.field.name] as number | null)));
    states.set(key, held);
  }
  const entries = [...states.values()].map((e) => entry(e.dims, e.bucket, e.states)).sort();
  return { entries, series: new Set([...states.values()].map((e) => entry(e.dims, 0, []))).size };
}

for (const view of folded.views.values()) {
  test(`aggregate table - ${view.name}: folding columns, in chunks of any size, gives what folding rows with each measure's add gives`, () => {
    fc.assert(fc.property(fc.array(bigRow, { maxLength: 300 }), fc.array(fc.integer({ min: 1, max: 80 }), { minLength: 1 }), (rows, sizes) => {
      const table = new AggregateTable(view);
      for (let start = 0, k = 0; start < rows.length; k++) {
        const chunk = rows.slice(start, start + sizes[k % sizes.length]!);
        table.apply(toColumns(view.eventType.fields, chunk));
        start += chunk.length;
      }
      const expected = reference(view, rows);
      assert.deepEqual(contents(table), expected.entries);
      assert.equal(table.seriesCount, expected.series, 'a series numbered for events the filter dropped');
    }), { seed: 20261125 });
  });
}

test('aggregate table - the slots listed for a bucket range are exactly those whose bucket is in it, also after the table grows', () => {
  const view = catalog.views.get('by_page')!;
  const range = fc.tuple(fc.integer({ min: -2, max: 8 }), fc.integer({ min: -2, max: 8 })).map(([a, b]) => [Date.UTC(2024, 0, 1) + a * 61_000, Date.UTC(2024, 0, 1) + b * 61_000] as const);
  fc.assert(fc.property(fc.array(row, { maxLength: 200 }), fc.array(row, { maxLength: 50 }), fc.array(range, { minLength: 1, maxLength: 5 }), (first, more, ranges) => {
    const table = new AggregateTable(view);
    table.apply(toColumns(view.eventType.fields, first));
    for (const rows of [[], more]) {
      table.apply(toColumns(view.eventType.fields, rows));
      for (const [from, to] of ranges) {
        const expected = Array.from({ length: table.size }, (_, slot) => slot).filter((slot) => table.bucketAt(slot) >= from && table.bucketAt(slot) < to);
        assert.deepEqual([...table.slotsInBuckets(from, to)].sort((a, b) => a - b), expected);
      }
    }
  }));
});
