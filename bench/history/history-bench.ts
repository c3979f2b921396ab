/**
 * `npm run bench:history`: how fast `tandem ingest --history` loads a
 * Parquet file into the master dataset, against DuckDB's own
 * `COPY (SELECT * FROM read_parquet(f)) TO 'x.parquet'` of the same file in
 * the same run, each run in a fresh process (its peak RSS its own) with the
 * same DuckDB memory limit, set below the file's size on disk.
 *
 *   npm run bench:history -- [--rows N] [--runs R] [--memory-limit 64MB] [--keyed-rows N]
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import { formatNumber, formatSpread, spread } from '../compare/stats.ts';
import { writeBenchFile } from './history-config.ts';

const { values: args } = parseArgs({ options: { rows: { type: 'string' }, runs: { type: 'string' }, 'memory-limit': { type: 'string' }, 'keyed-rows': { type: 'string' } } });
const ROWS = Number(args.rows ?? 20_000_000);
const KEYED_ROWS = Number(args['keyed-rows'] ?? 5_000_000);
const RUNS = Number(args.runs ?? 5);
const MEMORY_LIMIT = args['memory-limit'] ?? '64MB';
const CHILD = join(import.meta.dirname, 'history-child.ts');
const run = promisify(execFile);

interface Figures { rows: number; imported: number; seconds: number; batchSeconds: number; peakRssMiB: number }

async function measure(mode: 'tandem' | 'copy', file: string, eventType: string): Promise<Figures> {
  const dir = await mkdtemp(join(tmpdir(), 'history-bench-'));
  try {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', CHILD, mode, file, dir, eventType, MEMORY_LIMIT], { env: { ...process.env, TZ: 'UTC' }, maxBuffer: 1 << 20 });
    return JSON.parse(stdout.trim().split('\n').at(-1)!) as Figures;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function report(label: string, runs: readonly Figures[]): void {
  const rate = spread(runs.map((r) => r.rows / r.seconds));
  const rss = spread(runs.map((r) => r.peakRssMiB));
  const batch = spread(runs.map((r) => r.batchSeconds));
  console.log(`  ${label.padEnd(34)} ${formatSpread(rate).padEnd(36)} events/s   peak RSS ${formatSpread(rss)} MiB${batch.max > 0 ? `   publishing cycle ${formatSpread(batch)} s` : ''}`);
}

const dir = await mkdtemp(join(tmpdir(), 'history-bench-files-'));
try {
  const sales = await writeBenchFile(dir, ROWS, false);
  const orders = await writeBenchFile(dir, KEYED_ROWS, true);
  const size = (await stat(sales)).size / 2 ** 20;
  console.log(`History import bench: ${cpus().length} cores, ${RUNS} runs each (median [min, max]), DuckDB memory_limit ${MEMORY_LIMIT} for both sides.`);
  console.log(`  sales.parquet: ${ROWS.toLocaleString('en-US')} rows, ${formatNumber(size)} MiB on disk (snappy); orders.parquet: ${KEYED_ROWS.toLocaleString('en-US')} rows with an idempotency key.`);
  const results: Record<string, Figures[]> = { copy: [], tandem: [], keyed: [] };
  for (let i = 0; i < RUNS; i++) {
    // Interleaved, so that a slower stretch of the machine falls on both sides alike.
    results.copy!.push(await measure('copy', sales, 'sale'));
    results.tandem!.push(await measure('tandem', sales, 'sale'));
    results.keyed!.push(await measure('tandem', orders, 'order'));
  }
  report('DuckDB COPY read_parquet → parquet', results.copy!);
  report('tandem --history, no key', results.tandem!);
  report('tandem --history, idempotency key', results.keyed!);
  // Each Tandem run beside the COPY run just before it: the ratio is steadier than either rate on a shared machine.
  const ratios = results.tandem!.map((r, i) => r.seconds / results.copy![i]!.seconds);
  console.log(`  tandem --history (no key) time / DuckDB COPY time, run by run: ${formatSpread(spread(ratios))}`);
  const mismatch = results.tandem!.find((r) => r.imported !== ROWS) ?? results.keyed!.find((r) => r.imported !== KEYED_ROWS);
  if (mismatch !== undefined) throw new Error(`An import stored ${mismatch.imported} rows where every row was due.`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
