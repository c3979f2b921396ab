/**
 * Backpressure on the speed layer's memory: past half its key limit the
 * engine starts a batch run itself, and at the limit ingest is refused
 * (503 with Retry-After over HTTP) until a run has absorbed the keys.
 * Whatever was refused or accepted, answers stay exact.
 */
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { createServer } from '../../src/server/index.ts';
import { SpeedLayerFullError, Tandem, type BatchSummary } from '../../src/index.ts';
import { checkAllQueries } from '../support/check-answers.ts';
import { shopConfig } from '../support/shop-config.ts';
import { AcceptedEvents, shopEvent } from '../support/shop-events.ts';
import { withTempDir } from '../support/temp-dir.ts';

const LIMIT = 1500;
const EVENTS = fc.sample(fc.array(shopEvent, { minLength: 3000, maxLength: 3000 }), { seed: 20261128, numRuns: 1 })[0]!
  .map((e, i) => ({ ...e, ref: { ...e.ref, id: `s${i}` }, raw: { ...e.raw, id: `s${i}` } }));

test('speed-layer memory: at the key limit ingest is refused and a batch run starts by itself; after it, ingest resumes and answers are exact', { timeout: 60_000 }, async () => {
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
    try {
      // One large append is taken whole (the check comes before it), leaving the speed layer over its limit.
      const first = EVENTS.slice(0, 2000);
      await tandem.ingestUntyped('order', first.map((e) => e.raw));
      accepted.add(first);
      assert.ok(tandem.status().speed.keys >= LIMIT, `${tandem.status().speed.keys} keys`);
      assert.equal(published.length, 0);

      // The next request is refused, and the refusal starts a batch run.
      const next = EVENTS.slice(2000, 2100);
      const refused = await server.app.inject({ method: 'POST', url: '/v1/events/order', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(next.map((e) => e.raw)) });
      assert.equal(refused.statusCode, 503);
      assert.equal(refused.headers['retry-after'], '5');
      assert.equal(refused.json().error.code, 'speed_layer_full');
      assert.match(refused.json().error.message, /^The speed layer holds [\d,]+ keys, its limit of 1,500; nothing in this request was stored, so retry it once a batch run has absorbed them\.$/);
      assert.ok(warnings.some((w) => w.startsWith('the speed layer is over half its key limit')), warnings.join('\n'));
      if (published.length === 0) await new Promise((resolve) => tandem.onPublished(resolve));
      assert.equal(tandem.status().speed.keys, 0, 'the run absorbed every key');

      // The client's retry now goes through, and every answer is exact.
      await tandem.ingestUntyped('order', next.map((e) => e.raw));
      accepted.add(next);
      await checkAllQueries(tandem, accepted);
    } finally {
      await server.app.close();
      await tandem.close();
    }
  });
});

test('speed-layer memory: an early batch run that fails is not retried on every request, and refusals go on saying why', { timeout: 60_000 }, async () => {
  await withTempDir(async (dir) => {
    const warnings: string[] = [];
    const errors: string[] = [];
    const logger = { info() {}, error: (_o: object, m?: string) => void errors.push(m ?? ''), warn: (_o: object, m?: string) => void warnings.push(m ?? '') };
    const tandem = await Tandem.open({ dataDir: dir, config: shopConfig, maxSpeedKeys: LIMIT, logger });
    try {
      await tandem.ingestUntyped('order', EVENTS.slice(0, 100).map((e) => e.raw));
      await tandem.runBatch();
      // A file of the published version goes missing: every (incremental) batch run, which builds on it, now fails until it is restored.
      await rm(join(dir, 'batch', 'v00000001', 'by_country_hour.parquet'));
      await tandem.ingestUntyped('order', EVENTS.slice(100, 2100).map((e) => e.raw));
      for (let i = 0; i < 5; i++) {
        await assert.rejects(tandem.ingestUntyped('order', EVENTS.slice(2100, 2110).map((e) => e.raw)), SpeedLayerFullError);
        while (tandem.status().batchRunning) await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.equal(warnings.filter((w) => w.includes('starting a batch run early')).length, 1, 'one early run, then a back-off');
      assert.equal(errors.filter((e) => e.startsWith('the early batch run failed')).length, 1);
    } finally {
      await tandem.close();
    }
  });
});
