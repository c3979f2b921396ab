/**
 * A cluster's switching-cycle progress (issue #31): the counts are reads
 * (each view reads every file once), the ETA is null until a view is done,
 * 0 once all are, and shrinks with the time since it was written, never
 * below 0.
 */
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { etaNow, switchProgress } from '../../../src/backends/nats/switch-progress.ts';

test('switch progress - counts are reads, and the ETA is null before any view, 0 after all, shrinking with time', () => {
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 20 }), fc.nat(20), fc.nat(1_000), fc.nat(1_000_000), fc.integer({ min: 1, max: 600_000 }), fc.nat(600_000),
    (total, doneRaw, files, events, elapsed, later) => {
      const done = doneRaw % (total + 1);
      const now = Date.UTC(2026, 11, 4);
      const p = switchProgress({ version: 3, term: 1, startedAt: now - elapsed }, done, total, { files, events }, now);
      assert.deepEqual([p.filesDone, p.filesTotal, p.eventsDone, p.eventsTotal], [files * done, files * total, events * done, events * total]);
      if (done === 0) assert.equal(p.etaMs, null);
      else if (done === total) assert.equal(p.etaMs, 0);
      else assert.equal(p.etaMs, Math.round((elapsed * (total - done)) / done));
      const eta = etaNow(p, now + later);
      if (p.etaMs === null) assert.equal(eta, null);
      else assert.equal(eta, Math.max(0, p.etaMs - later));
    },
  ), { seed: 20261204 });
});
