/**
 * The speed layer starts a generation only where a batch run seals the log:
 * segments that roll over for size leave it one table per view, and a run
 * that overlaps ingest still drops exactly what it absorbed.
 */
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tandem } from '../../src/index.ts';
import { checkAllQueries } from '../support/check-answers.ts';
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

test('speed generations: roll-overs start none, a batch run starts one at its cutoff and drops the rest when it publishes', async () => {
  await withTempDir(async (dir) => {
    const accepted = new AcceptedEvents();
    let tandem = await Tandem.open({ dataDir: dir, config: shopConfig, segmentBytes: 4096 });
    try {
      await ingestInBatches(tandem, accepted, EVENTS.slice(0, 300));
      assert.ok(tandem.status().sealedSegments >= 3, `${tandem.status().sealedSegments} segments rolled over`);
      assert.equal(tandem.status().speed.generations, 1);

      // The run seals before the appends that follow it, so they land above its cutoff, in a new generation that survives the drop.
      const before = tandem.status().logEnd;
      const [summary] = await Promise.all([tandem.runBatch(), ingestInBatches(tandem, accepted, EVENTS.slice(300, 600))]);
      assert.equal(summary.cutoff, before);
      assert.ok(tandem.status().logEnd > before);
      assert.equal(tandem.status().speed.generations, 1);
      assert.equal(tandem.status().speed.from, summary.cutoff);
      await checkAllQueries(tandem, accepted);

      await ingestInBatches(tandem, accepted, EVENTS.slice(600));
      assert.equal(tandem.status().speed.generations, 1);
      await tandem.close();
      tandem = await Tandem.open({ dataDir: dir, config: shopConfig, segmentBytes: 4096 });
      assert.equal(tandem.status().speed.generations, 1);
      await checkAllQueries(tandem, accepted);
    } finally {
      await tandem.close();
    }
  });
});
