/**
 * Incremental batch cycles (issue #19): a cycle adds the aggregate of the
 * events since the published cutoff to the published views instead of
 * recomputing everything. The monoid makes a chain of any length equal to a
 * full recompute; this holds it to that, across restarts (the chain is
 * loaded back from its files) and across a cycle cut short before it
 * published, against the reference and against a full recompute.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { Tandem } from '../../src/index.ts';
import { canonicalRows, referenceQuery } from '../support/reference.ts';
import { shopConfig, views } from '../support/shop-config.ts';
import { AcceptedEvents, shopEvent } from '../support/shop-events.ts';
import { shopQueries } from '../support/shop-queries.ts';
import { withTempDir } from '../support/temp-dir.ts';

type Step =
  | { readonly kind: 'ingest'; readonly events: readonly (typeof shopEvent extends fc.Arbitrary<infer E> ? E : never)[] }
  | { readonly kind: 'batch' }
  | { readonly kind: 'restart' }
  | { readonly kind: 'crash' };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: fc.array(shopEvent, { minLength: 1, maxLength: 30 }).map((events): Step => ({ kind: 'ingest', events })) },
  { weight: 3, arbitrary: fc.constant<Step>({ kind: 'batch' }) },
  { weight: 1, arbitrary: fc.constant<Step>({ kind: 'restart' }) },
  { weight: 1, arbitrary: fc.constant<Step>({ kind: 'crash' }) },
);

async function answers(engine: Tandem, layer: 'batch' | 'merged'): Promise<string[]> {
  return Promise.all(shopQueries().map(async (q) => JSON.stringify(canonicalRows((await engine.query({ ...q, layer })).rows))));
}

test('incremental batch cycles: a chain of any length answers like a full recompute and like the reference, across restarts and cut-short cycles', async () => {
  await fc.assert(fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 14 }), async (steps) => {
    await withTempDir(async (dir) => {
      const open = () => Tandem.open({ dataDir: dir, config: shopConfig, maxBatchDeltas: 6 });
      let engine = await open();
      const accepted = new AcceptedEvents();
      let incremental = 0;
      try {
        for (const s of steps) {
          if (s.kind === 'ingest') {
            await engine.ingestUntyped('order', s.events.map((e) => e.raw));
            accepted.add(s.events);
          } else if (s.kind === 'batch') {
            if ((await engine.runBatch()).mode === 'incremental') incremental++;
          } else if (s.kind === 'restart') {
            await engine.close();
            engine = await open();
          } else {
            // A cycle killed before it published leaves a half-written version directory: the next open must ignore it.
            const version = (engine.status().batch?.version ?? 0) + 1;
            await engine.close();
            const half = join(dir, 'batch', `v${String(version).padStart(8, '0')}.tmp`);
            await mkdir(half, { recursive: true });
            await writeFile(join(half, 'by_country_hour.delta-0000000000000000.parquet'), 'cut short');
            engine = await open();
          }
        }
        for (const q of shopQueries()) {
          const expected = referenceQuery(views.find((v) => v.name === q.view)!, accepted.events, q);
          assert.deepEqual(canonicalRows((await engine.queryUntyped(q)).rows), canonicalRows(expected), JSON.stringify(q));
        }
        await engine.runBatch();
        const chained = await answers(engine, 'batch');
        await engine.runBatch({ full: true });
        assert.deepEqual(await answers(engine, 'batch'), chained, `the chain (${incremental} incremental cycles) answers as a full recompute`);
      } finally {
        await engine.close();
      }
    });
  }), { seed: 19, numRuns: 25 });
});

test('incremental batch cycles: a cycle reads only the new events; a full one is asked for, runs on a changed view, and after the most deltas', async () => {
  await withTempDir(async (dir) => {
    let engine = await Tandem.open({ dataDir: dir, config: shopConfig, maxBatchDeltas: 2 });
    try {
      const order = (i: number) => ({ id: `o${i}`, at: '2024-05-01T10:00:00Z', country: 'DE', mobile: true, amount: 1, qty: 1 });
      await engine.ingest('order', [order(1), order(2)]);
      assert.equal((await engine.runBatch()).mode, 'full', 'the first version is a full recompute');
      await engine.ingest('order', [order(3)]);
      const second = await engine.runBatch();
      assert.deepEqual([second.mode, second.inputEvents], ['incremental', 1]);
      await engine.ingest('order', [order(4)]);
      assert.equal((await engine.runBatch()).mode, 'incremental');
      await engine.ingest('order', [order(5)]);
      assert.equal((await engine.runBatch()).mode, 'full', 'two deltas are the most: the next cycle folds them into a new base');
      assert.equal((await engine.runBatch({ full: true })).mode, 'full');
      await engine.close();
      const changed = { ...shopConfig, views: shopConfig.views.map((v) => (v.name === 'all_time' ? { ...v, measures: { orders: { type: 'count' } } } : v)) };
      engine = await Tandem.open({ dataDir: dir, config: changed as typeof shopConfig, maxBatchDeltas: 2 });
      const rows = (await engine.query({ view: 'all_time', granularity: 'all' })).rows;
      assert.deepEqual(rows, [{ orders: 5 }], 'a changed view is recomputed whole at open');
      assert.equal(engine.status().recentBatches[0]?.mode, 'full');
    } finally {
      await engine.close();
    }
  });
});
