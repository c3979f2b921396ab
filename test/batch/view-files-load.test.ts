/**
 * A cluster node loads its partitions' files of a view in one pass
 * (`loadViewFiles`), one table per file or several files merged into one:
 * each table must hold exactly the states of its own files' events, never a
 * row of another file, whatever series and buckets the files share.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { loadViewFile, loadViewFiles } from '../../src/batch/index.ts';
import { compileConfig, defineConfig, defineEventType, defineView } from '../../src/index.ts';
import { AggregateTable } from '../../src/aggregates/index.ts';
import { assertSameStates, fold } from '../support/aggregate-states.ts';
import { viewFileFixture } from '../support/view-file-fixture.ts';

const sale = defineEventType({
  name: 'sale',
  time: 'at',
  fields: { at: 'timestamp', shop: 'string', buyer: 'string', amount: { type: 'number', scale: 2, optional: true } },
});
const catalog = compileConfig(defineConfig({
  eventTypes: [sale],
  views: [defineView(sale, {
    name: 'hourly',
    dimensions: ['shop'],
    granularity: 'hour',
    measures: { n: { type: 'count' }, total: { type: 'sum', field: 'amount' }, low: { type: 'min', field: 'amount' }, buyers: { type: 'countDistinct', field: 'buyer' } },
  })],
}));
const hourly = catalog.views.get('hourly')!;
const schema = catalog.eventTypes.get('sale')!;

const HOUR = 3_600_000;
const row = fc.record({
  at: fc.integer({ min: 0, max: 5 * HOUR }).map((offset) => Date.UTC(2024, 2, 1) + offset),
  shop: fc.constantFrom('a', 'b', 'c'),
  buyer: fc.constantFrom('x', 'y', 'z', 'w'),
  amount: fc.oneof(fc.integer({ min: -10_000, max: 10_000 }), fc.constant(null)),
});

const files = viewFileFixture('tandem-view-files-');

/** The view's file over `rows`, computed by the batch layer's own SQL from a master-dataset file of them; null when it has no rows. */
async function viewFile(rows: readonly Record<string, unknown>[]): Promise<string | null> {
  return (await files.compute(schema, hourly, [rows])).get(0)?.path ?? null;
}

test('view files: loading several in one pass gives each file its own states, as loading it alone does, and merged, the states of all their events', async () => {
  await fc.assert(fc.asyncProperty(fc.array(fc.array(row, { maxLength: 40 }), { minLength: 1, maxLength: 4 }), async (groups) => {
    // One at a time: the batch layer's SQL uses one work table per connection.
    const made: { rows: typeof groups[number]; path: string | null }[] = [];
    for (const rows of groups) made.push({ rows, path: await viewFile(rows) });
    const withRows = made.filter((m): m is { rows: typeof m.rows; path: string } => m.path !== null);
    const together = await loadViewFiles(files.connection, hourly, withRows.map((m) => ({ path: m.path })));
    assert.equal(together.length, withRows.length);
    for (const [i, m] of withRows.entries()) {
      assertSameStates(together[i]!, fold(hourly, m.rows.map((r) => ({ _offset: null, ...r }))));
      assertSameStates(together[i]!, await loadViewFile(files.connection, hourly, m.path, undefined));
    }
    // Merged as a node merges its partitions: the states of every file's events together.
    const [merged] = await loadViewFiles(files.connection, hourly, withRows.map((m) => ({ path: m.path })), withRows.map(() => 0));
    assertSameStates(merged ?? new AggregateTable(hourly), fold(hourly, withRows.flatMap((m) => m.rows.map((r) => ({ _offset: null, ...r })))));
  }), { seed: 2026_12_03, numRuns: 25 });
});

test('view files: loads started at once on one connection each give their own states', async () => {
  const groups = [0, 1, 2, 3].map((g) => Array.from({ length: 20 }, (_, i) => ({ at: Date.UTC(2024, 2, 1) + i * 600_000, shop: `s${(g + i) % 5}`, buyer: `b${i % 3}`, amount: g * 100 + i })));
  const made: { rows: typeof groups[number]; path: string }[] = [];
  for (const rows of groups) made.push({ rows, path: (await viewFile(rows))! });
  // Each load numbers its series in the connection's one temporary table: they must not run into each other.
  const loaded = await Promise.all(made.map((m) => loadViewFiles(files.connection, hourly, [{ path: m.path }])));
  for (const [i, m] of made.entries()) assertSameStates(loaded[i]![0]!, fold(hourly, m.rows.map((r) => ({ _offset: null, ...r }))));
});

test('view files: a load is whole while other statements run on its connection', async () => {
  // Enough rows for many chunks of DuckDB's 2,048: a streamed result ended early, without an error, at the first
  // statement run beside it (a cluster node's queries and archive reads share the connection), and the view loaded short.
  const rows = Array.from({ length: 30_000 }, (_, i) => ({ at: Date.UTC(2024, 2, 1) + i * HOUR, shop: `s${i % 3}`, buyer: `b${i % 7}`, amount: i % 1000 }));
  const path = (await viewFile(rows))!;
  let loading = true;
  const beside = (async () => {
    for (let n = 0; loading && n < 10_000; n++) await files.connection.run('SELECT 42');
  })();
  const [table] = await loadViewFiles(files.connection, hourly, [{ path }]).finally(() => (loading = false));
  await beside;
  assert.equal(table!.size, 30_000);
  assertSameStates(table!, fold(hourly, rows.map((r) => ({ _offset: null, ...r }))));
});

test('view files: none to load gives no tables', async () => {
  assert.deepEqual(await loadViewFiles(files.connection, hourly, []), []);
});
