/**
 * A history import's memory is bounded by the DuckDB memory limit it is
 * given, not by the file: a Parquet file larger on disk than the limit
 * (with keys that do not compress, and a duplicate search over all of
 * them) imports whole at a 128 MB limit (DuckDB's own COPY of such a file needs about that: it holds a row group per thread), spilling to the data directory.
 */
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { Tandem } from '../../../src/index.ts';
import { withTempDir } from '../../support/temp-dir.ts';

const ROWS = 2_000_000;
const config = {
  eventTypes: [{ name: 'tick', time: 'at', idempotencyKey: 'id', fields: { id: 'string', at: 'timestamp', note: 'string', seq: { type: 'number', scale: 0 } } }],
  views: [{ name: 'totals', eventType: 'tick', dimensions: [], granularity: 'none', measures: { n: { type: 'count' }, total: { type: 'sum', field: 'seq' } } }],
};

test('history import - a file larger than the DuckDB memory limit imports whole within it', { timeout: 300_000 }, async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, 'big.parquet');
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    // md5 text does not compress: the file is about as large on disk as in memory.
    await connection.run(`COPY (SELECT md5(i::VARCHAR) AS id, TIMESTAMP '2022-01-01' + INTERVAL (i) SECOND AS "at", md5((i * 7)::VARCHAR) AS note, i AS seq FROM range(${ROWS}) t(i))
      TO '${file}' (FORMAT parquet, COMPRESSION uncompressed)`);
    connection.closeSync();
    instance.closeSync();
    const bytes = (await stat(file)).size;
    assert.ok(bytes > 128 * 2 ** 20, `the file holds ${bytes} bytes, more than the limit`);
    const engine = await Tandem.open({ dataDir: join(dir, 'data'), config });
    try {
      const summary = await engine.importHistory('tick', [file], { memoryLimit: '128MB', threads: 2 });
      assert.equal(summary.imported, ROWS);
      const { rows } = await engine.query({ view: 'totals', granularity: 'all' });
      assert.deepEqual(rows.map((r) => [r.n, r.total]), [[ROWS, (ROWS * (ROWS - 1)) / 2]]);
    } finally {
      await engine.close();
    }
  });
});
