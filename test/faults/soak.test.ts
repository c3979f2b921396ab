/**
 * A short soak: 15 cycles of ingest and a batch run over a bounded key set.
 * After warm-up, live memory must stay flat (a leak of even 1 KB per cycle
 * shows over a long run: `npm run bench:soak` runs the long one), the speed
 * layer must be empty after every batch, and the batch layer exact.
 */
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { test } from 'node:test';
import { runSoak } from '../../bench/soak-cycles.ts';
import { withTempDir } from '../support/temp-dir.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

test('soak: memory stays flat across 15 ingest and batch cycles, the speed layer empties each time, and the batch layer stays exact', { timeout: 120_000 }, async () => {
  await withTempDir(async (dir) => {
    const samples = await runSoak({ dataDir: dir, cycles: 15, eventsPerCycle: 20_000, gc });
    for (const s of samples) {
      assert.equal(s.speedKeysAfterBatch, 0, `cycle ${s.cycle}`);
      assert.equal(s.batchEvents, s.eventsSent, `cycle ${s.cycle}`);
    }
    const warm = samples[4]!;
    const last = samples.at(-1)!;
    // The heap after a full collection is live data. (External memory is not compared: native buffers are
    // freed by finalizers at their own pace, so it swings by tens of MiB between samples either way.)
    const grew = last.heapUsedBytes - warm.heapUsedBytes;
    // 10 cycles of 20,000 events: a leak of 10 bytes per event would be 2 MB; flat is within a few hundred KB.
    assert.ok(grew < 2 * 2 ** 20, `the heap grew ${(grew / 2 ** 20).toFixed(2)} MiB from cycle ${warm.cycle} to ${last.cycle}`);
  });
});
