/**
 * The speed layer's memory bound counts bytes, not keys alone: 15,000 keys of
 * 64 KB dimension values took 342 MiB under a bound that assumed ~124 bytes a
 * key. Dimension values (and idempotency keys) are short by default, a field
 * may declare a longer maxLength, and the estimate the bound reads must
 * follow the heap the tables really take, whatever the values look like.
 */
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';
import { compileConfig, InvalidDefinitionError, SpeedLayerFullError, Tandem, type TandemConfig } from '../../src/index.ts';
import { toColumns, type Row } from '../../src/definitions/index.ts';
import { AggregateTable } from '../../src/aggregates/index.ts';
import { withTempDir } from '../support/temp-dir.ts';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

function pageConfig(page: Record<string, unknown> = {}): TandemConfig {
  return {
    eventTypes: [{ name: 'hit', time: 'at', idempotencyKey: 'id', fields: { id: 'string', at: 'timestamp', page: { type: 'string', ...page }, note: 'string', ms: 'number' } }],
    views: [{ name: 'by_page', eventType: 'hit', dimensions: ['page'], granularity: 'hour', measures: { hits: { type: 'count' }, ms: { type: 'sum', field: 'ms' } } }],
  } as unknown as TandemConfig;
}

test('speed bytes - a dimension value or idempotency key past its maxLength is rejected alone, with the way out', async () => {
  await withTempDir(async (dir) => {
    const engine = await Tandem.open({ dataDir: dir, config: pageConfig() });
    try {
      const long = 'p'.repeat(1_025);
      const result = await engine.ingest('hit', [
        { id: 'a', at: 0, page: long, note: 'x', ms: 1 },
        { id: 'b', at: 0, page: 'p'.repeat(1_024), note: 'n'.repeat(60_000), ms: 1 },
        { id: 'i'.repeat(1_025), at: 0, page: '/', note: '', ms: 1 },
      ]);
      assert.equal(result.accepted, 1);
      assert.deepEqual(result.rejected.map((r) => [r.index, r.field]), [[0, 'page'], [2, 'id']]);
      assert.equal(result.rejected[0]!.error, "Field 'page' is longer than 1,024 characters, the most it may hold; declare a larger maxLength on the field (up to 65,536) to keep longer values.");
    } finally {
      await engine.close();
    }
  });
  await withTempDir(async (dir) => {
    const engine = await Tandem.open({ dataDir: dir, config: pageConfig({ maxLength: 4_096 }) });
    try {
      assert.equal((await engine.ingest('hit', [{ id: 'a', at: 0, page: 'p'.repeat(4_096), note: '', ms: 1 }])).accepted, 1);
      assert.equal((await engine.ingest('hit', [{ id: 'b', at: 0, page: 'p'.repeat(4_097), note: '', ms: 1 }])).accepted, 0);
    } finally {
      await engine.close();
    }
  });
  for (const bad of [0, 65_537, 1.5, '10']) {
    assert.throws(() => compileConfig(pageConfig({ maxLength: bad })), (e: unknown) => e instanceof InvalidDefinitionError && e.path === 'eventTypes[0].fields.page.maxLength');
  }
});

test('speed bytes - at the byte limit ingest is refused and a batch run starts by itself', { timeout: 60_000 }, async () => {
  await withTempDir(async (dir) => {
    const limit = 4 * 2 ** 20;
    const warnings: string[] = [];
    const engine = await Tandem.open({
      dataDir: dir, config: pageConfig(), maxSpeedBytes: limit,
      logger: { info() {}, error() {}, warn: (_o, m) => void warnings.push(m ?? '') },
    });
    const published = new Promise((resolve) => engine.onPublished(resolve));
    try {
      let refused: SpeedLayerFullError | undefined;
      for (let batch = 0; refused === undefined && batch < 100; batch++) {
        const events = Array.from({ length: 500 }, (_, i) => ({ id: `${batch}-${i}`, at: 0, page: `${batch}-${i}-${'x'.repeat(1_000)}`, note: '', ms: 1 }));
        await engine.ingest('hit', events).catch((error: unknown) => {
          if (!(error instanceof SpeedLayerFullError)) throw error;
          refused = error;
        });
      }
      assert.ok(refused, 'never refused');
      assert.equal(refused.measure, 'bytes');
      assert.match(refused.message, /^The speed layer holds an estimated [\d.]+ MiB, its limit of 4 MiB; nothing in this request was stored/);
      // Keys alone would have let it run to 5,000,000.
      assert.ok(engine.status().speed.keys < 5_000, `${engine.status().speed.keys} keys`);
      assert.ok(warnings.some((w) => w.startsWith('the speed layer is over half its byte limit')), warnings.join('\n'));
      await published;
      // The run absorbed what came before it started, at half the limit; the retry now goes through.
      assert.ok(engine.status().speed.bytes < limit, `${engine.status().speed.bytes} bytes`);
      assert.equal((await engine.ingest('hit', [{ id: 'retry', at: 0, page: 'retry', note: '', ms: 1 }])).accepted, 1);
    } finally {
      await engine.close();
    }
  });
});

/** The V8 heap and the typed arrays' backing stores, which live outside it. */
function heapAndBuffers(): number {
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

/** Dimension values of several shapes: short, long, past Latin-1, on one or two dimensions. */
const shape = fc.record({
  length: fc.constantFrom(1, 8, 100, 1_000, 4_000),
  wide: fc.boolean(),
  dimensions: fc.constantFrom(1, 2),
  keys: fc.constantFrom(10_000, 30_000),
});

test('speed bytes - the estimate follows the heap the tables take (within 2x either way)', () => {
  const config = compileConfig({
    eventTypes: [{ name: 'e', time: 'at', fields: { at: 'timestamp', a: { type: 'string', maxLength: 65_536 }, b: { type: 'string', maxLength: 65_536 }, n: 'number' } }],
    views: [
      { name: 'one', eventType: 'e', dimensions: ['a'], granularity: 'hour', measures: { c: { type: 'count' }, s: { type: 'sum', field: 'n' } } },
      { name: 'two', eventType: 'e', dimensions: ['a', 'b'], granularity: 'hour', measures: { c: { type: 'count' }, s: { type: 'sum', field: 'n' } } },
    ],
  });
  const fields = config.eventTypes.get('e')!.fields;
  fc.assert(
    fc.property(shape, (s) => {
      const view = config.views.get(s.dimensions === 1 ? 'one' : 'two')!;
      gc();
      gc();
      const before = heapAndBuffers();
      const table = new AggregateTable(view);
      const filler = (s.wide ? 'ж' : 'x').repeat(s.length);
      for (let start = 0; start < s.keys; start += 1_000) {
        const rows: Row[] = Array.from({ length: 1_000 }, (_, i) => ({ _offset: null, at: (i % 3) * 3_600_000, a: `${start + i}${filler}`, b: `b${i % 7}`, n: 1 }));
        table.apply(toColumns(fields, rows));
      }
      gc();
      gc();
      const actual = heapAndBuffers() - before;
      const ratio = table.bytes / actual;
      assert.ok(ratio > 0.5 && ratio < 2, `estimate ${table.bytes} against ${actual} bytes measured (${ratio.toFixed(2)}x) for ${JSON.stringify(s)}`);
    }),
    { seed: 20261129, numRuns: 12 },
  );
});
