/**
 * The phases of one batch view's recompute, timed apart: the GROUP BY in
 * DuckDB, the Parquet write, and the load for serving, for each view of the
 * engine benchmark over a 10M-event Parquet file of the same shape.
 *
 *   node --import tsx bench/batch-view-phases.ts [events]
 *
 * Run it on two checkouts in turn (e.g. `git archive <commit> src bench
 * package.json tsconfig.json | tar -x -C /tmp/base`, with node_modules linked)
 * to compare code, alternating, as docs/benchmarks.md does.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { batchViewSql } from '../src/batch/batch-sql.ts';
import { loadViewTable } from '../src/batch/batch-view-loader.ts';
import { compileConfig, sqlIdentifier } from '../src/definitions/index.ts';
import { BATCH_CUSTOMERS, config, REGIONS, START } from './usage-workload.ts';

const events = Number(process.argv[2] ?? 10_000_000);
const dir = await mkdtemp(join(tmpdir(), 'tandem-phases-'));
const instance = await DuckDBInstance.create(':memory:');
const connection = await instance.connect();
try {
  const file = join(dir, 'usage.parquet');
  const regions = `[${REGIONS.map((r) => `'${r}'`).join(', ')}]`;
  await connection.run(`COPY (SELECT i AS _offset, make_timestamp((${START} + (i * 7919) % ${30 * 86_400_000}) * 1000) AS "at",
      'c' || (i % ${BATCH_CUSTOMERS}) AS customer, ${regions}[i % 4 + 1] AS region, (i % 100)::DECIMAL(18, 0) AS units, ((i % 1000) / 100)::DECIMAL(18, 2) AS cost
    FROM range(${events}) t(i)) TO '${file}' (FORMAT parquet, COMPRESSION zstd)`);
  for (let run = 0; run < 3; run++) {
    for (const view of compileConfig(config).views.values()) {
      const started = performance.now();
      const { sql, params } = batchViewSql(view, 'phases', [file], events);
      const prepared = await connection.prepare(sql);
      prepared.bind(params);
      await prepared.run();
      prepared.destroySync();
      const computed = performance.now();
      await connection.run(`COPY phases TO '${join(dir, 'view.parquet')}' (FORMAT parquet, COMPRESSION zstd)`);
      const written = performance.now();
      const table = await loadViewTable(connection, view, sqlIdentifier('phases'));
      const loaded = performance.now();
      await connection.run('DROP TABLE phases');
      console.log(`${view.name.padEnd(17)} ${String(table.size).padStart(7)} keys: compute ${(computed - started).toFixed(0)} ms, write ${(written - computed).toFixed(0)} ms, load ${(loaded - written).toFixed(0)} ms; ${(events / (loaded - started) / 1000).toFixed(1)}M events/s`);
    }
  }
} finally {
  connection.closeSync();
  instance.closeSync();
  await rm(dir, { recursive: true, force: true });
}
