/**
 * History imports keep the invariant: whatever the schedule of live ingests,
 * history files (NDJSON, JSON arrays, Parquet; duplicates, invalid rows and
 * late timestamps included), repeated imports, batch cycles and restarts,
 * every answer equals the reference over the accepted events, and an import
 * of a file stored already adds nothing.
 */
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { HistoryFormatError, Tandem, UnknownEventTypeError } from '../../../src/index.ts';
import { checkAllQueries } from '../../support/check-answers.ts';
import { shopConfig } from '../../support/shop-config.ts';
import { AcceptedEvents, shopEvent, type GeneratedEvent } from '../../support/shop-events.ts';
import { withTempDir } from '../../support/temp-dir.ts';

type Format = 'ndjson' | 'json' | 'parquet';

type Step =
  | { readonly kind: 'ingest'; readonly events: readonly GeneratedEvent[] }
  | { readonly kind: 'history'; readonly events: readonly GeneratedEvent[]; readonly format: Format }
  | { readonly kind: 'again' }
  | { readonly kind: 'batch'; readonly seal: boolean }
  | { readonly kind: 'restart' };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: fc.array(shopEvent, { maxLength: 30 }).map((events) => ({ kind: 'ingest' as const, events })) },
  {
    weight: 3,
    arbitrary: fc.record({ events: fc.array(shopEvent, { minLength: 1, maxLength: 60 }), format: fc.constantFrom<Format>('ndjson', 'json', 'parquet') })
      .map((h) => ({ kind: 'history' as const, ...h })),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'again' as const }) },
  { weight: 1, arbitrary: fc.boolean().map((seal) => ({ kind: 'batch' as const, seal })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'restart' as const }) },
);

/**
 * Writes the events as a history file. A Parquet column has one type, so
 * values are written as text (what a CSV-born Parquet file holds), and
 * events with a field the type does not declare are left out of it.
 */
async function writeHistory(dir: string, name: string, events: readonly GeneratedEvent[], format: Format): Promise<{ path: string; written: GeneratedEvent[] }> {
  if (format !== 'parquet') {
    const path = join(dir, `${name}.${format}`);
    const text = format === 'ndjson' ? events.map((e) => JSON.stringify(e.raw)).join('\n') + '\n' : JSON.stringify(events.map((e) => e.raw));
    await writeFile(path, text);
    return { path, written: [...events] };
  }
  const written = events.filter((e) => !('extra' in e.raw));
  const ndjson = join(dir, `${name}.parquet.ndjson`);
  await writeFile(ndjson, written.map((e) => JSON.stringify(e.raw)).join('\n') + '\n');
  const path = join(dir, `${name}.parquet`);
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const text = ['id', 'at', 'country', 'device', 'amount', 'qty'].map((c) => `'${c}': 'VARCHAR'`).join(', ');
  await connection.run(`COPY (SELECT "id", "at", "country", "device", "mobile", "amount", CAST("qty" AS DOUBLE) AS "qty" FROM read_json('${ndjson}', format = 'newline_delimited',
    columns = {${text}, 'mobile': 'BOOLEAN'})) TO '${path}' (FORMAT parquet)`);
  connection.closeSync();
  instance.closeSync();
  return { path, written };
}

async function runSchedule(steps: readonly Step[]): Promise<void> {
  await withTempDir(async (dir) => {
    const open = () => Tandem.open({ dataDir: join(dir, 'data'), config: shopConfig, segmentBytes: 4096 });
    let engine = await open();
    const accepted = new AcceptedEvents();
    let last: string | undefined;
    try {
      for (const [i, s] of steps.entries()) {
        if (s.kind === 'ingest') {
          await engine.ingestUntyped('order', s.events.map((e) => e.raw));
          accepted.add(s.events);
        } else if (s.kind === 'history') {
          const { path, written } = await writeHistory(dir, `h${i}`, s.events, s.format);
          const before = accepted.events.length;
          accepted.add(written);
          const summary = await engine.importHistory('order', [path]);
          assert.equal(summary.imported, accepted.events.length - before, `${s.format}: imported`);
          assert.equal(summary.rejected, written.filter((e) => !e.valid).length, `${s.format}: rejected`);
          assert.equal(summary.imported + summary.duplicates + summary.rejected, written.length);
          // Resolved: the published version holds the file's events, so every layer's answer counts them.
          await checkAllQueries(engine, accepted);
          last = path;
        } else if (s.kind === 'again' && last !== undefined) {
          const summary = await engine.importHistory('order', [last]);
          assert.equal(summary.imported, 0, 'a second load of the same file adds nothing');
        } else if (s.kind === 'batch') {
          await engine.runBatch({ seal: s.seal });
        } else if (s.kind === 'restart') {
          await engine.close();
          engine = await open();
        }
      }
      await checkAllQueries(engine, accepted);
      await engine.close();
      engine = await open();
      await checkAllQueries(engine, accepted);
      await engine.runBatch({ full: true });
      await checkAllQueries(engine, accepted);
    } finally {
      await engine.close();
    }
  });
}

test('history import - any schedule of live ingests, history files, repeated imports, cycles and restarts answers like the reference', { timeout: 600_000 }, async () => {
  await fc.assert(fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 7 }), runSchedule), { numRuns: 12, seed: 31, endOnFailure: true });
});

test('history import - a live retry of an imported event is a duplicate, before and after a restart', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'h.ndjson');
    const event = { id: 'old-1', at: '2019-03-01T10:00:00Z', country: 'DE', mobile: false, amount: 12.5, qty: 1 };
    await writeFile(path, `${JSON.stringify(event)}\n`);
    const open = () => Tandem.open({ dataDir: join(dir, 'data'), config: shopConfig });
    let engine = await open();
    try {
      assert.equal((await engine.importHistory('order', [path])).imported, 1);
      assert.equal((await engine.ingest('order', [event])).duplicates, 1);
      await engine.close();
      engine = await open();
      assert.equal((await engine.ingest('order', [event])).duplicates, 1);
      assert.equal((await engine.importHistory('order', [path])).duplicates, 1);
    } finally {
      await engine.close();
    }
  });
});

test('history import - the master dataset lists the import beside the segment that claimed its offsets, and no file of an aborted import stays', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'h.ndjson');
    await writeFile(path, `${JSON.stringify({ id: 'a', at: 1_700_000_000_000, country: 'FR', mobile: true, amount: 1, qty: 2 })}\n`);
    const engine = await Tandem.open({ dataDir: join(dir, 'data'), config: shopConfig });
    try {
      await engine.ingest('order', [{ id: 'live', at: 1_700_000_000_000, country: 'FR', mobile: true, amount: 1, qty: 2 }]);
      const summary = await engine.importHistory('order', [path]);
      assert.equal(summary.files[0]!.first, 1, 'the claim follows the live event');
      const manifests = await readdir(join(dir, 'data', 'master', '_segments'));
      const text = JSON.stringify(await Promise.all(manifests.map(async (m) => (await import('node:fs/promises')).readFile(join(dir, 'data', 'master', '_segments', m), 'utf8'))));
      assert.match(text, /_history\/order\/00000000000000000001-00000000000000000002\.parquet/);
      await assert.rejects(engine.importHistory('refund', [path]), UnknownEventTypeError);
      await assert.rejects(engine.importHistory('order', [join(dir, 'h.txt')]), HistoryFormatError);
    } finally {
      await engine.close();
    }
  });
});

test('history import - a damaged segment manifest is rebuilt with the imports in its range, and answers stay whole', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'h.ndjson');
    const rows = Array.from({ length: 50 }, (_, i) => ({ id: `h${i}`, at: 1_700_000_000_000 + i * 3_600_000, country: i % 2 === 0 ? 'DE' : 'US', mobile: true, amount: 2, qty: 1 }));
    await writeFile(path, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const open = () => Tandem.open({ dataDir: join(dir, 'data'), config: shopConfig });
    let engine = await open();
    try {
      await engine.ingest('order', [{ id: 'live', at: 1_700_000_000_000, country: 'FR', mobile: true, amount: 1, qty: 2 }]);
      await engine.importHistory('order', [path]);
      const before = (await engine.query({ view: 'all_time', granularity: 'all', groupBy: ['country'] })).rows;
      await engine.close();
      const segments = join(dir, 'data', 'master', '_segments');
      for (const name of await readdir(segments)) await writeFile(join(segments, name), '{"damaged":');
      engine = await open();
      await engine.runBatch({ full: true });
      assert.deepEqual((await engine.query({ view: 'all_time', granularity: 'all', groupBy: ['country'] })).rows, before);
    } finally {
      await engine.close();
    }
  });
});
