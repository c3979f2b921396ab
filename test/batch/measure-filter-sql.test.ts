/**
 * A measure's filter in the batch layer's SQL: its values are bound
 * parameters, in the order their placeholders occur, never text in the SQL,
 * even when the view came over HTTP; and a view without measure filters
 * reads its rows as it did before they existed.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { batchViewSql } from '../../src/batch/index.ts';
import { compileConfig, Tandem, type TandemConfig } from '../../src/index.ts';
import { withTempDir } from '../support/temp-dir.ts';

const HOSTILE = "x'); DROP TABLE t; --";

const config: TandemConfig = {
  eventTypes: [{ name: 'request', time: 'at', fields: { at: 'timestamp', path: 'string', status: { type: 'number', scale: 0 } } }],
  views: [{
    name: 'errors', eventType: 'request', dimensions: ['path'], granularity: 'hour',
    measures: {
      requests: { type: 'count' },
      errors: { type: 'count', filter: [{ field: 'status', op: '>=', value: 500 }] },
      odd: { type: 'countDistinct', field: 'status', filter: [{ field: 'path', op: 'in', value: [HOSTILE, '/b'] }] },
    },
    filter: [{ field: 'path', op: '!=', value: '/health' }],
  }],
};

test('measure filter sql - values are bound parameters, in the order of their placeholders', () => {
  const view = compileConfig(config).views.get('errors')!;
  const { sql, params } = batchViewSql(view, 'work', ['/tmp/none.parquet'], 100, 7);
  assert.ok(!sql.includes('DROP') && !sql.includes('/health') && !sql.includes('500'), sql);
  assert.equal(sql.split('?').length - 1, params.length);
  // The flags' parameters come first (the subquery's select list), then the offsets and the view's filter.
  assert.deepEqual(params, ['500', HOSTILE, '/b', '7', '100', '/health']);
});

test('measure filter sql - a view without measure filters reads its rows with no subquery', () => {
  const plain = { ...config, views: [{ ...config.views[0]!, measures: { requests: { type: 'count' } } }] };
  const { sql, params } = batchViewSql(compileConfig(plain).views.get('errors')!, 'work', ['/tmp/none.parquet'], 100, 0);
  assert.match(sql, /count\(\*\)/);
  assert.doesNotMatch(sql, /\$f/);
  assert.deepEqual(params, ['0', '100', '/health']);
});

test('measure filter sql - a hostile value in a view applied over the API is matched as text, in both layers', async () => {
  await withTempDir(async (dir) => {
    const engine = await Tandem.open({ dataDir: dir, config: { ...config, views: [] } });
    try {
      await engine.applyView(config.views[0]!);
      const deadline = Date.now() + 30_000;
      while (engine.status().viewChanges.length > 0) {
        assert.ok(Date.now() < deadline, 'the view switched in');
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const at = '2024-05-01T10:00:00Z';
      await engine.ingestUntyped('request', [
        { at, path: HOSTILE, status: 200 }, { at, path: HOSTILE, status: 503 }, { at, path: HOSTILE, status: 503 }, { at, path: '/a', status: 404 },
      ]);
      const expected = [{ path: '/a', requests: 1, errors: 0, odd: 0 }, { path: HOSTILE, requests: 3, errors: 2, odd: 2 }];
      const answer = async (layer: 'speed' | 'batch') => {
        const { rows } = await engine.queryUntyped({ view: 'errors', groupBy: ['path'], granularity: 'all', layer });
        return [...rows].sort((a, b) => String(a.path).localeCompare(String(b.path)));
      };
      assert.deepEqual(await answer('speed'), expected);
      // A cycle asked for while the switch's own cycle still finishes joins it (cutoff 0): asked again until one absorbs the events.
      let cutoff = 0;
      for (let attempt = 0; attempt < 5 && cutoff < 4; attempt++) cutoff = (await engine.runBatch({ seal: true })).cutoff;
      assert.equal(cutoff, 4);
      assert.deepEqual(await answer('batch'), expected);
    } finally {
      await engine.close();
    }
  });
});
