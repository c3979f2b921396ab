/**
 * The invariant: whatever the schedule of appends (late, duplicate and invalid
 * events included), batch runs, restarts and crashes, every merged answer
 * equals a recomputation of the same query over all accepted events, exactly.
 */
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { appendFile, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { Tandem } from '../src/index.ts';
import { checkAllQueries } from './support/check-answers.ts';
import { shopConfig } from './support/shop-config.ts';
import { AcceptedEvents, shopEvent, type GeneratedEvent } from './support/shop-events.ts';
import { withTempDir } from './support/temp-dir.ts';

type Step =
  | { readonly kind: 'ingest'; readonly events: readonly GeneratedEvent[] }
  | { readonly kind: 'batch'; readonly seal: boolean }
  | { readonly kind: 'restart' }
  | { readonly kind: 'crash'; readonly tornBytes: Uint8Array; readonly batchDebris: boolean };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: fc.array(shopEvent, { maxLength: 40 }).map((events) => ({ kind: 'ingest' as const, events })) },
  { weight: 2, arbitrary: fc.boolean().map((seal) => ({ kind: 'batch' as const, seal })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'restart' as const }) },
  {
    weight: 1,
    arbitrary: fc.record({ tornBytes: fc.uint8Array({ maxLength: 64 }), batchDebris: fc.boolean() }).map((c) => ({ kind: 'crash' as const, ...c })),
  },
);

/** What a crash leaves behind: a half-written frame at the log's tail and a half-built batch version. */
async function leaveCrashDebris(dir: string, crash: Extract<Step, { kind: 'crash' }>): Promise<void> {
  const segments = (await readdir(join(dir, 'log'))).filter((n) => n.endsWith('.seg')).sort();
  if (segments.length > 0) await appendFile(join(dir, 'log', segments.at(-1)!), crash.tornBytes);
  if (crash.batchDebris) {
    await mkdir(join(dir, 'batch', 'v99999999.tmp'), { recursive: true });
    await writeFile(join(dir, 'batch', 'v99999999.tmp', 'by_country_hour.parquet'), 'half a file');
  }
}

async function runSchedule(steps: readonly Step[]): Promise<void> {
  await withTempDir(async (dir) => {
    const open = () => Tandem.open({ dataDir: dir, config: shopConfig, segmentBytes: 4096 });
    let engine = await open();
    const accepted = new AcceptedEvents();
    try {
      for (const s of steps) {
        if (s.kind === 'ingest') {
          const result = await engine.ingestUntyped('order', s.events.map((e) => e.raw));
          assert.equal(result.rejected.length, s.events.filter((e) => !e.valid).length);
          accepted.add(s.events);
        } else if (s.kind === 'batch') {
          const summary = await engine.runBatch({ seal: s.seal });
          if (s.seal) assert.equal(summary.cutoff, accepted.events.length, 'a sealing run absorbs every event');
          assert.ok(summary.cutoff <= accepted.events.length);
        } else if (s.kind === 'restart') {
          await engine.close();
          engine = await open();
        } else {
          // A crash: only what was acknowledged is on disk, plus debris. Closing writes nothing (every
          // ingest was awaited); it stands in for the dead process releasing its files and its lock.
          await engine.close();
          await leaveCrashDebris(dir, s);
          engine = await open();
        }
        await checkAllQueries(engine, accepted);
        assert.equal(engine.status().logEnd, accepted.events.length, 'offsets are gap-free: one per accepted event');
      }
    } finally {
      await engine.close();
    }
  });
}

test('invariant - merged answers equal a recomputation over all accepted events, across batches, restarts and crashes', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 10 }), runSchedule),
    { numRuns: 40, seed: 20261125, endOnFailure: true },
  );
});

test('invariant - a late event weeks behind the batch cutoff is counted exactly once', async () => {
  const late: GeneratedEvent[] = [];
  await fc.assert(
    fc.asyncProperty(fc.array(shopEvent, { minLength: 5, maxLength: 30 }), async (events) => {
      late.length = 0;
      const valid = events.filter((e) => e.valid);
      await runSchedule([
        { kind: 'ingest', events: valid },
        { kind: 'batch', seal: true },
        { kind: 'ingest', events: valid.map((e) => ({ ...e, ref: { ...e.ref, id: `late-${e.ref.id}` }, raw: { ...e.raw, id: `late-${e.ref.id}` } })) },
        { kind: 'batch', seal: false },
        { kind: 'restart' },
      ]);
    }),
    { numRuns: 10, seed: 7 },
  );
});
