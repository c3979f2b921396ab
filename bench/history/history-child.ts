/**
 * One measured run of the history bench, in a process of its own so that
 * its peak RSS is its own: either Tandem's import of a file into a fresh
 * data directory, or DuckDB's COPY of the same file, with the same memory
 * limit. Prints one JSON line.
 *
 *   node --import tsx bench/history/history-child.ts tandem|copy FILE DIR EVENT_TYPE MEMORY_LIMIT
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { join } from 'node:path';
import { Tandem } from '../../src/index.ts';
import { historyBenchConfig } from './history-config.ts';

const [mode, file, dir, eventType, memoryLimit] = process.argv.slice(2) as [string, string, string, string, string];

async function tandem(): Promise<Record<string, number>> {
  const engine = await Tandem.open({ dataDir: join(dir, 'data'), config: historyBenchConfig });
  try {
    const s = await engine.importHistory(eventType, [file], { memoryLimit });
    return { rows: s.rows, imported: s.imported, seconds: s.importSeconds, batchSeconds: s.batchSeconds };
  } finally {
    await engine.close();
  }
}

async function copy(): Promise<Record<string, number>> {
  const instance = await DuckDBInstance.create(':memory:', { memory_limit: memoryLimit, temp_directory: join(dir, 'spill') });
  const connection = await instance.connect();
  const started = performance.now();
  const target = join(dir, 'copy.parquet').replaceAll("'", "''");
  const result = await connection.run(`COPY (SELECT * FROM read_parquet('${file.replaceAll("'", "''")}')) TO '${target}'`);
  const seconds = (performance.now() - started) / 1000;
  connection.closeSync();
  instance.closeSync();
  return { rows: result.rowsChanged, imported: result.rowsChanged, seconds, batchSeconds: 0 };
}

const figures = mode === 'copy' ? await copy() : await tandem();
// maxRSS is in KiB.
console.log(JSON.stringify({ ...figures, peakRssMiB: process.resourceUsage().maxRSS / 1024 }));
