/**
 * Backpressure on the speed layer's memory: past half its key limit the
 * engine starts a batch run itself, and at the limit ingest is refused
 * (503 with Retry-After over HTTP) until the run has absorbed the keys.
 * Whatever was refused or accepted, answers stay exact.
 */
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createServer } from '../../src/server/index.ts';
import { SpeedLayerFullError, Tandem, type BatchSummary } from '../../src/index.ts';
import { checkAllQueries } from '../support/check-answers.ts';
import { shopConfig } from '../support/shop-config.ts';
import { AcceptedEvents, shopEvent } from '../support/shop-events.ts';
import { withTempDir } from '../support/temp-dir.ts';

const LIMIT = 1500;
const EVENTS = fc.sample(fc.array(shopEvent, { minLength: 6000, maxLength: 6000 }), { seed: 20261128, numRuns: 1 })[0]!
  .map((e, i) => ({ ...e, ref: { ...e.ref, id: `s${i}` }, raw: { ...e.raw, id: `s${i}` } }));

test('speed-layer memory: an early batch run past half the key limit, refusals at the limit, exact answers throughout', { timeout: 60_000 }, async () => {
  await withTempDir(async (dir) => {
    const warnings: string[] = [];
    const tandem = await Tandem.open({
      dataDir: dir, config: shopConfig, maxSpeedKeys: LIMIT,
      logger: { info() {}, error() {}, warn: (_object, message) => void warnings.push(message ?? '') },
    });
    const server = createServer({ tandem });
    const published: BatchSummary[] = [];
    tandem.onPublished((summary) => published.push(summary));
    const accepted = new AcceptedEvents();
    let refused = 0;
    let peakKeys = 0;
    try {
      for (let i = 0; i < EVENTS.length; i += 50) {
        const slice = EVENTS.slice(i, i + 50);
        try {
          await tandem.ingest('order', slice.map((e) => e.raw));
          accepted.add(slice);
        } catch (error) {
          assert.ok(error instanceof SpeedLayerFullError, String(error));
          refused++;
          if (refused === 1) {
            // The same refusal over HTTP: 503, Retry-After, one sentence.
            const response = await server.app.inject({ method: 'POST', url: '/v1/events/order', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(slice.map((e) => e.raw)) });
            assert.equal(response.statusCode, 503);
            assert.equal(response.headers['retry-after'], '5');
            assert.equal(response.json().error.code, 'speed_layer_full');
            assert.match(response.json().error.message, /^The speed layer holds [\d,]+ keys, its limit of 1,500; nothing in this request was stored, so retry it once the running batch has absorbed them\.$/);
          }
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        peakKeys = Math.max(peakKeys, tandem.status().speed.keys);
      }
      if (tandem.status().batchRunning) await new Promise((resolve) => tandem.onPublished(resolve));
      assert.ok(published.length >= 2, `${published.length} batch runs started by the engine itself`);
      assert.ok(warnings.some((w) => w.startsWith('the speed layer is over half its key limit')), warnings.join('\n'));
      assert.ok(refused > 0, 'ingest outran the early batch runs at least once');
      // One request's keys (50 events, at most 5 views each) may land past the limit: the check is before the append.
      assert.ok(peakKeys < LIMIT + 50 * 5, `the speed layer peaked at ${peakKeys} keys`);
      await checkAllQueries(tandem, accepted);
    } finally {
      await server.app.close();
      await tandem.close();
    }
  });
});
