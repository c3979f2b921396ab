/**
 * Full batch cycles over a data directory ingested once: each cycle's
 * duration and each view's (its compute in DuckDB, Parquet write, checksum
 * and load for serving), without the minutes of ingest a cycle bench would
 * otherwise repeat. With the comparison workload it also times the bare
 * DuckDB GROUP BY over the same Parquet files after each cycle, as
 * `npm run bench` does, and the ratio of the two.
 *
 *   node --import tsx bench/recompute-cycles.ts [metering|compare] [events] [cycles] [seedDir]
 *
 * The seed directory is ingested and sealed the first time and copied for
 * each run, so that two checkouts (e.g. `git archive <commit> src bench
 * package.json tsconfig.json | tar -x -C /tmp/base`, node_modules linked)
 * run alternately over the same files: the first cycle of a run is cold, the
 * following ones warm. A checkout whose state format differs recomputes
 * the views once at open, before the timed cycles.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { cp, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tandem, type TandemConfig } from '../src/index.ts';
import { config as compareConfig, makeEvents } from './compare/workload.ts';
import { config as meteringConfig, meteringEvent } from './metering-workload.ts';

const WORKLOAD = process.argv[2] ?? 'metering';
const EVENTS = Number(process.argv[3] ?? (WORKLOAD === 'compare' ? 500_000 : 1_000_000));
const CYCLES = Number(process.argv[4] ?? 3);
const SEED = process.argv[5] ?? join(tmpdir(), `tandem-recompute-${WORKLOAD}-${EVENTS}`);
const BATCH = 1_000;

const config: TandemConfig = WORKLOAD === 'compare' ? compareConfig : meteringConfig;

/** Batch `seq` of the workload's events, as the benches ingest them. */
function batchOf(seq: number): readonly Record<string, unknown>[] {
  const size = Math.min(BATCH, EVENTS - seq * BATCH);
  if (WORKLOAD === 'compare') return makeEvents({ keys: 10_000, spanDays: 30, lateShare: 0.02, seed: 7 }, seq, size, EVENTS) as unknown as Record<string, unknown>[];
  return Array.from({ length: size }, (_, i) => meteringEvent(seq * BATCH + i, EVENTS));
}

async function seed(): Promise<void> {
  if (await stat(SEED).then(() => true, () => false)) return;
  const engine = await Tandem.open({ dataDir: SEED, config });
  try {
    for (let seq = 0; seq * BATCH < EVENTS; seq++) await engine.ingest('usage', batchOf(seq));
    await engine.runBatch({ seal: true });
  } finally {
    await engine.close();
  }
}

/** The bare GROUP BY of `npm run bench` over the master dataset's files, in ms. */
async function bareGroupBy(dataDir: string): Promise<number> {
  const duck = await DuckDBInstance.create(':memory:');
  const connection = await duck.connect();
  try {
    const started = performance.now();
    await connection.run(`CREATE TEMP TABLE ceiling AS SELECT epoch_ms(date_trunc('hour', "at")) AS t, customer, count(*), sum(units), sum(cost)
      FROM read_parquet('${join(dataDir, 'master', 'usage', '*.parquet')}') GROUP BY 1, 2`);
    return performance.now() - started;
  } finally {
    connection.closeSync();
    duck.closeSync();
  }
}

await seed();
const dir = await mkdtemp(join(tmpdir(), 'tandem-recompute-run-'));
await cp(SEED, dir, { recursive: true });
const engine = await Tandem.open({ dataDir: dir, config });
try {
  for (let cycle = 0; cycle < CYCLES; cycle++) {
    const summary = await engine.runBatch({ full: true, seal: true });
    const views = Object.entries(summary.views).map(([name, view]) => `${name}=${Math.round(view.durationMs)}`);
    let bare = '';
    if (WORKLOAD === 'compare') {
      const rawMs = await bareGroupBy(dir);
      bare = ` bare=${Math.round(rawMs)} ratio=${(rawMs / summary.views.by_customer_hour!.durationMs).toFixed(3)}`;
    }
    console.log(`cycle ${cycle + 1}${cycle === 0 ? ' (cold)' : ''}: cycle=${Math.round(summary.durationMs)} ${views.join(' ')}${bare}`);
  }
} finally {
  await engine.close();
  await rm(dir, { recursive: true, force: true });
}
