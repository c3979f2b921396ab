/**
 * The speed layer starts a generation where a batch run seals the log and
 * where a segment rolls over for size (up to MAX_GENERATIONS), so that a run
 * can stop at the end of the last segment exported in the background and
 * export nothing itself; a sealing run absorbs everything, and a run that
 * overlaps ingest still drops exactly what it absorbed.
 */
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { Tandem } from '../../src/index.ts';
import { MAX_GENERATIONS } from '../../src/speed/speed-layer.ts';
import { checkAllQueries } from '../support/check-answers.ts';
import { eventually } from '../support/eventually.ts';
import { shopConfig } from '../support/shop-config.ts';
import { AcceptedEvents, shopEvent } from '../support/shop-events.ts';
import { withTempDir } from '../support/temp-dir.ts';

const EVENTS = fc.sample(fc.array(shopEvent, { minLength: 900, maxLength: 900 }), { seed: 20261126, numRuns: 1 })[0]!
  .map((e, i) => ({ ...e, ref: { ...e.ref, id: `g${i}` }, raw: { ...e.raw, id: `g${i}` } }));

async function ingestInBatches(tandem: Tandem, accepted: AcceptedEvents, events: typeof EVENTS): Promise<void> {
  for (let i = 0; i < events.length; i += 50) {
    const batch = events.slice(i, i + 50);
    await tandem.ingest('order', batch.map((e) => e.raw));
    accepted.add(batch);
  }
}

/** The ends of the segments whose export to Parquet is done, read off the master dataset's manifests. */
async function exportedEnds(dir: string): Promise<number[]> {
  const names = await readdir(join(dir, 'master', '_segments')).catch(() => [] as string[]);
  return names.filter((n) => n.endsWith('.json')).map((n) => Number(n.slice(21, 41))).sort((a, b) => a - b);
}

/** Waits until the background has exported every segment sealed so far. */
async function exportsDone(dir: string, tandem: Tandem): Promise<number> {
  let ends: number[] = [];
  await eventually(async () => {
    ends = await exportedEnds(dir);
    return ends.length >= tandem.status().sealedSegments;
  }, () => `the background export of ${tandem.status().sealedSegments} sealed segments (${ends.length} exported)`);
  return ends.at(-1)!;
}

test('speed generations: roll-overs start one each, up to a cap; a run stops at the last exported segment unless it seals', async () => {
  await withTempDir(async (dir) => {
    const accepted = new AcceptedEvents();
    let tandem = await Tandem.open({ dataDir: dir, config: shopConfig, segmentBytes: 4096 });
    try {
      await ingestInBatches(tandem, accepted, EVENTS.slice(0, 300));
      const rolled = tandem.status().sealedSegments;
      assert.ok(rolled >= 3, `${rolled} segments rolled over`);
      assert.equal(tandem.status().speed.generations, Math.min(rolled + 1, MAX_GENERATIONS));

      // Stops at a segment end the background exported, past which the speed layer keeps the partial segment.
      const exported = await exportsDone(dir, tandem);
      const stopped = await tandem.runBatch();
      assert.ok(stopped.cutoff > 0 && stopped.cutoff <= exported && stopped.cutoff < tandem.status().logEnd, `cutoff ${stopped.cutoff}, exported to ${exported}`);
      assert.ok((await exportedEnds(dir)).includes(stopped.cutoff), 'the cutoff is the end of an exported segment');
      assert.equal(tandem.status().speed.from, stopped.cutoff);
      await checkAllQueries(tandem, accepted);

      // A sealing run absorbs everything; the appends that follow its seal land above it, in a generation that survives the drop.
      const before = tandem.status().logEnd;
      const [summary] = await Promise.all([tandem.runBatch({ seal: true }), ingestInBatches(tandem, accepted, EVENTS.slice(300, 600))]);
      assert.equal(summary.cutoff, before);
      assert.ok(tandem.status().logEnd > before);
      assert.equal(tandem.status().speed.from, summary.cutoff);
      await checkAllQueries(tandem, accepted);

      // A restart starts the generations of the segments past the cutoff again, so the next run may stop at one.
      await ingestInBatches(tandem, accepted, EVENTS.slice(600));
      const generations = tandem.status().speed.generations;
      assert.ok(generations > 1);
      await tandem.close();
      tandem = await Tandem.open({ dataDir: dir, config: shopConfig, segmentBytes: 4096 });
      assert.equal(tandem.status().speed.generations, generations);
      await checkAllQueries(tandem, accepted);
      await exportsDone(dir, tandem);
      const after = await tandem.runBatch();
      assert.ok(after.cutoff > summary.cutoff && after.cutoff < tandem.status().logEnd, `cutoff ${after.cutoff}`);
      await checkAllQueries(tandem, accepted);
    } finally {
      await tandem.close();
    }
  });
});

test('speed generations: a run with no exported segment past the cutoff seals the log, as a small data set needs', async () => {
  await withTempDir(async (dir) => {
    const accepted = new AcceptedEvents();
    const tandem = await Tandem.open({ dataDir: dir, config: shopConfig });
    try {
      await ingestInBatches(tandem, accepted, EVENTS.slice(0, 200));
      const summary = await tandem.runBatch();
      assert.equal(summary.cutoff, accepted.events.length);
      assert.equal(tandem.status().speed.generations, 1);
      await checkAllQueries(tandem, accepted);
    } finally {
      await tandem.close();
    }
  });
});
