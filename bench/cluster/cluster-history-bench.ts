/**
 * `npm run bench:cluster-history`: how fast `tandem ingest --history --nats`
 * loads a Parquet file into a cluster (issue #31), against DuckDB's own
 * `COPY (SELECT * FROM read_parquet(f)) TO 'x.parquet'` of the same file in
 * the same run. Two cluster nodes in this process on a 3-server NATS
 * cluster on loopback (R=3, 4 partitions). Each run is a cluster of its
 * own (its own streams and buckets) and imports the file without a key
 * (`sale`) and the file with one (`order`), then checks that every event
 * counts once on both nodes. Two figures per import:
 *
 * - staging: every row checked by the live rules, routed to its partition,
 *   written as Parquet objects into the object store and named in the log;
 * - publishing: the cycle that archives the history messages (the duplicate
 *   rule applied by every reader) and publishes the version counting them.
 *
 *   npm run bench:cluster-history -- [--rows N] [--runs R]
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { importHistoryIntoCluster } from '../../src/backends/nats/cluster-history-import.ts';
import { ClusterNode } from '../../src/backends/nats/index.ts';
import { compileConfig, type TandemConfig } from '../../src/index.ts';
import { NatsCluster } from '../../test/support/nats-cluster.ts';
import { formatNumber, formatSpread, spread } from '../compare/stats.ts';
import { historyBenchConfig, writeBenchFile } from '../history/history-config.ts';

const { values: args } = parseArgs({ options: { rows: { type: 'string' }, runs: { type: 'string' } } });
const ROWS = Number(args.rows ?? 2_000_000);
const RUNS = Number(args.runs ?? 3);
const PARTITIONS = 4;
const MEMORY_LIMIT = '256MB';

interface Figures { stageSeconds: number; publishSeconds: number }

/** DuckDB's own Parquet-to-Parquet COPY of the file, with the import's memory limit: the yardstick. */
async function copySeconds(file: string, dir: string): Promise<number> {
  const instance = await DuckDBInstance.create(':memory:', { memory_limit: MEMORY_LIMIT, temp_directory: join(dir, 'spill') });
  const connection = await instance.connect();
  try {
    const started = performance.now();
    await connection.run(`COPY (SELECT * FROM read_parquet('${file.replaceAll("'", "''")}')) TO '${join(dir, 'copy.parquet').replaceAll("'", "''")}'`);
    return (performance.now() - started) / 1000;
  } finally {
    connection.closeSync();
    instance.closeSync();
    await rm(join(dir, 'copy.parquet'), { force: true });
  }
}

/** Every event a node counts in a view, by its all-time roll-up. */
async function counted(node: ClusterNode, view: string, measure: string): Promise<number> {
  const { rows } = await node.query({ view, granularity: 'all' });
  return rows.reduce((sum, row) => sum + Number(row[measure] ?? 0), 0);
}

/** One run: a fresh cluster of two nodes imports both files; resolves with each import's figures. */
async function oneRun(nats: NatsCluster, run: number, files: { sales: string; orders: string }, dir: string): Promise<Record<'sale' | 'order', Figures>> {
  const config: TandemConfig = { ...historyBenchConfig, cluster: { name: `historybench${run}`, partitions: PARTITIONS, replicas: 3 } };
  const open = (name: string) => ClusterNode.open({ dataDir: join(dir, `run${run}-${name}`), config, servers: nats.urls, node: name, leaseMs: 5_000 });
  const nodes = [await open('a'), await open('b')];
  try {
    const target = { servers: nats.urls, catalog: compileConfig(config), dir: join(dir, `run${run}-scratch`), runBatch: (o: object) => nodes[0]!.runBatch(o) };
    const figures = {} as Record<'sale' | 'order', Figures>;
    for (const [eventType, file, view, measure] of [['sale', files.sales, 'sales_by_country_day', 'sales'], ['order', files.orders, 'orders_by_country_day', 'orders']] as const) {
      const summary = await importHistoryIntoCluster(target, eventType, [file], { memoryLimit: MEMORY_LIMIT });
      if (summary.imported !== ROWS) throw new Error(`${eventType}: ${summary.imported} of ${ROWS} rows imported.`);
      figures[eventType] = { stageSeconds: summary.importSeconds, publishSeconds: summary.batchSeconds };
      for (const node of nodes) {
        // The other node serves the published version within a heartbeat or so.
        for (let tries = 0; (await counted(node, view, measure)) !== ROWS; tries++) {
          if (tries === 100) throw new Error(`${node.name} counts ${await counted(node, view, measure)} ${eventType} events where ${ROWS} were imported.`);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    }
    return figures;
  } finally {
    for (const node of nodes) await node.close();
  }
}

const dir = await mkdtemp(join(tmpdir(), 'cluster-history-bench-'));
const nats = await NatsCluster.start({ size: 3 });
try {
  const files = { sales: await writeBenchFile(dir, ROWS, false), orders: await writeBenchFile(dir, ROWS, true) };
  const mib = (await stat(files.sales)).size / 2 ** 20;
  console.log(`Cluster history bench: ${cpus().length} cores; 3 NATS servers on loopback, R=3, ${PARTITIONS} partitions, 2 nodes; ${RUNS} runs (median [min, max]); DuckDB memory_limit ${MEMORY_LIMIT}.`);
  console.log(`  sales.parquet and orders.parquet (with an idempotency key): ${formatNumber(ROWS)} rows each (sales ${mib.toFixed(0)} MiB).`);
  const copy: number[] = [];
  const runs: Record<'sale' | 'order', Figures>[] = [];
  for (let r = 0; r < RUNS; r++) {
    copy.push(await copySeconds(files.sales, dir));
    runs.push(await oneRun(nats, r, files, dir));
  }
  const rate = (s: readonly number[]) => formatSpread(spread(s.map((x) => ROWS / x)));
  console.log('\n| run | events/s, median [min, max] | staging, s | publishing cycle, s |\n| --- | --- | --- | --- |');
  console.log(`| DuckDB \`COPY read_parquet → parquet\` | ${rate(copy)} | | |`);
  for (const type of ['sale', 'order'] as const) {
    const stage = runs.map((f) => f[type].stageSeconds);
    const publish = runs.map((f) => f[type].publishSeconds);
    const label = type === 'sale' ? 'cluster `--history`, no key' : 'cluster `--history`, idempotency key';
    console.log(`| ${label} (staging + publishing) | ${rate(stage.map((s, i) => s + publish[i]!))} | ${formatSpread(spread(stage))} | ${formatSpread(spread(publish))} |`);
  }
  console.log(`\n(staging + publishing, no key) / DuckDB COPY, run by run: ${formatSpread(spread(runs.map((f, i) => (f.sale.stageSeconds + f.sale.publishSeconds) / copy[i]!)))}`);
} finally {
  await nats.stop();
  await rm(dir, { recursive: true, force: true });
}
