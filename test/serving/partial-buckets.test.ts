/**
 * A range that starts or ends inside an answer's time bucket fills that
 * bucket with only part of its view buckets; the answer's meta names those
 * buckets, so a chart can mark them instead of showing a dip.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tandem } from '../../src/index.ts';
import { shopConfig } from '../support/shop-config.ts';
import { withTempDir } from '../support/temp-dir.ts';

test('partial buckets: meta names the buckets a range cuts, and only those', async () => {
  await withTempDir(async (dir) => {
    const engine = await Tandem.open({ dataDir: dir, config: shopConfig });
    try {
      const events = Array.from({ length: 72 }, (_, h) => ({ id: `e${h}`, at: Date.UTC(2025, 2, 1, h), country: 'DE', mobile: true, amount: 1, qty: 1 }));
      await engine.ingest('order', events);
      const daily = async (from: string, to: string) => engine.query({ view: 'by_country_hour', granularity: 'day', from, to });
      const cut = await daily('2025-03-01T10:00:00Z', '2025-03-03T06:00:00Z');
      assert.deepEqual(cut.meta.partialBuckets, ['2025-03-01T00:00:00.000Z', '2025-03-03T00:00:00.000Z']);
      assert.deepEqual(cut.rows.map((r) => r.orders), [14, 24, 6], 'the cut days hold only their hours in range');
      assert.deepEqual((await daily('2025-03-01T00:00:00Z', '2025-03-03T00:00:00Z')).meta.partialBuckets, []);
      assert.deepEqual((await daily('2025-03-01T00:00:00Z', '2025-03-02T12:00:00Z')).meta.partialBuckets, ['2025-03-02T00:00:00.000Z']);
      // At the view's own granularity a bucket is in the range or out of it, never cut; rolled up to `all` there is no bucket.
      assert.deepEqual((await engine.query({ view: 'by_country_hour', from: '2025-03-01T10:30:00Z' })).meta.partialBuckets, []);
      assert.deepEqual((await engine.query({ view: 'by_country_hour', granularity: 'all', from: '2025-03-01T10:30:00Z' })).meta.partialBuckets, []);
      assert.deepEqual((await engine.query({ view: 'by_country_hour', granularity: 'day' })).meta.partialBuckets, [], 'an open range cuts nothing');
    } finally {
      await engine.close();
    }
  });
});
