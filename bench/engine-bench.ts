/**
 * Engine benchmarks for the embedded default (issue #2's speed targets).
 * Run with `npm run bench:engine` (or `npm run bench:engine -- --quick`). Each figure is
 * reported as median [min, max] over repeated runs in the same process.
 * `--segment-mib N` sets the log's segment size and `--no-background-export`
 * leaves every export to batch cycles, to see what each costs ingest.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { Tandem } from '../src/index.ts';
import { timedIngest, warmUp } from './ingest-run.ts';
import { BATCH_CUSTOMERS, config, makeBatch, makeLiveBatch, START } from './usage-workload.ts';

const quick = process.argv.includes('--quick');
const REPEATS = quick ? 3 : 5;
const segmentAt = process.argv.indexOf('--segment-mib');
const engineOptions = {
  ...(segmentAt === -1 ? {} : { segmentBytes: Number(process.argv[segmentAt + 1]) * 2 ** 20 }),
  ...(process.argv.includes('--no-background-export') ? { exportInBackground: false } : {}),
};

function stats(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  const f = (x: number) => (x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(3));
  return `${f(s[Math.floor(s.length / 2)]!)} [${f(s[0]!)}, ${f(s.at(-1)!)}]`;
}

async function withEngine<T>(fn: (engine: Tandem, dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-bench-'));
  const engine = await Tandem.open({ dataDir: dir, config, ...engineOptions });
  try {
    return await fn(engine, dir);
  } finally {
    await engine.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Durable ingest in steady state: batches of 1,000, `concurrency` appends in flight so group commit can merge them. */
async function ingestRate(events: number, concurrency: number, make = makeBatch): Promise<number> {
  return withEngine(async (engine) => {
    const first = await warmUp(engine, make, 10_000);
    const batches = Array.from({ length: events / 1000 }, (_, i) => make(first + i, 1000, 10_000));
    return timedIngest(engine, batches, concurrency);
  });
}

async function main(): Promise<void> {
  const ingestEvents = quick ? 200_000 : 1_000_000;
  console.log(`Tandem engine benchmark (${quick ? 'quick' : 'full'}), ${REPEATS} runs each, median [min, max]\n`);

  const ingest16: number[] = [];
  const ingest1: number[] = [];
  const ingestLive: number[] = [];
  for (let r = 0; r < REPEATS; r++) {
    ingest16.push(await ingestRate(ingestEvents, 16));
    ingestLive.push(await ingestRate(ingestEvents, 16, makeLiveBatch));
    ingest1.push(await ingestRate(ingestEvents / 4, 1));
  }
  console.log(`durable ingest, 5-field events into 3 views, batches of 1,000, 16 in flight: ${stats(ingest16)} events/s`);
  console.log(`  the same, live traffic (times advance with the stream, 2% late):       ${stats(ingestLive)} events/s`);
  console.log(`durable ingest, batches of 1,000, one at a time (fsync per batch):        ${stats(ingest1)} events/s`);

  const batchEvents = quick ? 2_000_000 : 10_000_000;
  await withEngine(async (engine) => {
    // As in production, a batch runs every cycle (here every 2M events), so the speed layer holds one cycle's events.
    const chunks = batchEvents / 10_000;
    for (let i = 0; i < chunks; i += 16) {
      await Promise.all(Array.from({ length: Math.min(16, chunks - i) }, (_, j) => engine.ingest('usage', makeBatch(i + j, 10_000, BATCH_CUSTOMERS))));
      if ((i + 16) % 200 === 0) await engine.runBatch();
    }
    const first = await engine.runBatch();
    console.log(`\nlast loading batch, ${batchEvents.toLocaleString('en-US')} events: ${Math.round(first.durationMs)} ms (of which segment-to-Parquet export ${Math.round(first.exportMs)} ms)`);
    const perView = new Map<string, number[]>();
    const total: number[] = [];
    for (let r = 0; r < REPEATS; r++) {
      await engine.ingest('usage', makeBatch(1_000_000 + r, 1, 10));
      // A recompute of everything: an incremental cycle over the one new event would measure nothing of the views.
      const run = await engine.runBatch({ full: true });
      total.push(run.durationMs);
      for (const [name, v] of Object.entries(run.views)) perView.set(name, [...(perView.get(name) ?? []), batchEvents / (v.durationMs / 1000)]);
    }
    for (const [name, rates] of perView) {
      const rows = engine.status().recentBatches[0]!.views[name]!.rows;
      console.log(`batch recompute ${name.padEnd(17)} (${rows.toLocaleString('en-US').padStart(7)} keys; compute, write, load): ${stats(rates)} events/s`);
    }
    console.log(`batch cycle, all 3 views:                                       ${stats(total)} ms`);

    const point: number[] = [];
    for (let r = 0; r < REPEATS; r++) {
      const n = 2000;
      const started = performance.now();
      for (let i = 0; i < n; i++) {
        await engine.query({ view: 'by_customer_hour', where: { customer: `c${i % BATCH_CUSTOMERS}` }, from: '2024-01-10T00:00:00Z', to: '2024-01-11T00:00:00Z', granularity: 'all' });
      }
      point.push((performance.now() - started) / n);
    }
    console.log(`point query (one customer, one day, merged):                    ${stats(point)} ms`);
  });

  await rawDuckDbCeiling(batchEvents);
  await speedMemory();
}

/** The ceiling: DuckDB's own GROUP BY over the same kind of Parquet file. */
async function rawDuckDbCeiling(events: number): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-raw-'));
  const instance = await DuckDBInstance.create(':memory:');
  const c = await instance.connect();
  const file = join(dir, 'usage.parquet');
  await c.run(`COPY (SELECT i AS _offset, epoch_ms(${START} + (i * 7919) % ${30 * 86_400_000}) AS "at", 'c' || (i % 1000) AS customer, (i % 100)::DECIMAL(18,0) AS units FROM range(${events}) t(i)) TO '${file}' (FORMAT parquet, COMPRESSION zstd)`);
  const times: number[] = [];
  for (let r = 0; r < REPEATS; r++) {
    const started = performance.now();
    await c.run(`CREATE OR REPLACE TEMP TABLE x AS SELECT epoch_ms(date_trunc('hour', "at")) t, customer, count(*), sum(units) FROM read_parquet('${file}') WHERE _offset < ${events} GROUP BY 1, 2`);
    times.push(events / ((performance.now() - started) / 1000));
  }
  console.log(`raw DuckDB GROUP BY over the same shape of Parquet (ceiling):  ${stats(times)} events/s`);
  c.closeSync();
  instance.closeSync();
  await rm(dir, { recursive: true, force: true });
}

/** Speed-layer memory per key, and that memory stays flat across batch cycles over the same key set. */
async function speedMemory(): Promise<void> {
  await withEngine(async (engine) => {
    const heap: number[] = [];
    const keysAfterPublish: number[] = [];
    for (let cycle = 0; cycle < (quick ? 4 : 8); cycle++) {
      for (let i = 0; i < 50; i++) await engine.ingest('usage', makeBatch(i, 1000, 50_000));
      await engine.runBatch();
      keysAfterPublish.push(engine.status().speed.keys);
      globalThis.gc?.();
      heap.push(process.memoryUsage().heapUsed / 1024 / 1024);
    }
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 50; i++) await engine.ingest('usage', makeBatch(i, 1000, 50_000));
    globalThis.gc?.();
    const keys = engine.status().speed.keys;
    const perKey = (process.memoryUsage().heapUsed - before) / keys;
    console.log(`\nspeed layer: ~${Math.round(perKey)} bytes per key (${keys.toLocaleString('en-US')} keys from 50,000 events)`);
    console.log(`speed-layer keys right after each publish: ${keysAfterPublish.join(', ')}`);
    console.log(`heap after each cycle of 50,000 events over the same keys (MiB): ${heap.map((h) => h.toFixed(0)).join(', ')}`);
  });
}

await main();
