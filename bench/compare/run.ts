/**
 * `npm run bench`: Tandem side by side with what users would pick instead,
 * on the same workload, the same machine and in the same run (issue #5).
 *
 *   npm run bench -- [--quick] [--events N] [--keys K] [--runs R] [--late SHARE]
 *
 * Every system ingests the same events with the same driver, then answers the
 * same queries; any answer that differs from the reference computed from the
 * events fails the run. A peer whose server is not running is skipped, and
 * the report says so (with TANDEM_REQUIRE_SERVICES=1 that fails instead).
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DbIvm } from './db-ivm.ts';
import { DuckDbAppender } from './duckdb-appender.ts';
import { PostgresRaw, PostgresUpsert } from './postgres.ts';
import { RedisCounters } from './redis-counters.ts';
import { ReferenceAnswers } from './reference.ts';
import { sqlPortBench } from './sql-port.ts';
import { formatNumber, formatSpread, percentiles, spread, type Percentiles, type Spread } from './stats.ts';
import { PeerUnavailableError, type ComparedSystem } from './system.ts';
import { TandemSystem } from './tandem-system.ts';
import { DAY, makeEvents, START, type UsageEvent, type WorkloadOptions } from './workload.ts';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    events: { type: 'string' },
    keys: { type: 'string' },
    runs: { type: 'string' },
    late: { type: 'string' },
  },
});
const quick = args.quick!;
const EVENTS = Number(args.events ?? (quick ? 50_000 : 500_000));
const RUNS = Number(args.runs ?? (quick ? 2 : 3));
const BATCH = 1_000;
const IN_FLIGHT = 8;
const POINT_QUERIES = quick ? 300 : 2_000;
const TOP_QUERIES = quick ? 3 : 10;
const FRESHNESS_SAMPLES = quick ? 30 : 200;
const workload: WorkloadOptions = { keys: Number(args.keys ?? 10_000), spanDays: 30, lateShare: Number(args.late ?? 0.02), seed: 7 };

interface SystemResult {
  readonly name: string;
  readonly durability: string;
  readonly skipped?: string;
  readonly ingest?: Spread;
  readonly freshnessMs?: Percentiles;
  readonly pointMs?: Percentiles;
  readonly top10Ms?: Percentiles | null;
  readonly checkedAnswers?: number;
}

async function ingestAll(system: ComparedSystem, batches: readonly UsageEvent[][]): Promise<number> {
  const started = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
    while (next < batches.length) await system.ingest(batches[next++]!);
  }));
  return (batches.length * BATCH) / ((performance.now() - started) / 1000);
}

async function timed<T>(samples: number[], fn: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await fn();
  samples.push(performance.now() - started);
  return result;
}

/** Compares every sampled answer with the reference; a mismatch ends the run. */
async function checkAnswers(system: ComparedSystem, reference: ReferenceAnswers, points: readonly [string, number][]): Promise<number> {
  let checked = 0;
  for (const [customer, day] of points) {
    const got = await system.point(customer, day);
    const want = reference.point(customer, day);
    if (got.n !== want.n || got.units !== want.units || got.costCents !== want.costCents) {
      throw new Error(`${system.name} answers ${JSON.stringify(got)} for ${customer} on ${new Date(day).toISOString()}; the events say ${JSON.stringify(want)}.`);
    }
    checked++;
  }
  const top = await system.top10?.();
  if (top !== undefined) {
    const want = reference.top10();
    if (JSON.stringify(top) !== JSON.stringify(want)) throw new Error(`${system.name} answers top 10 ${JSON.stringify(top)}; the events say ${JSON.stringify(want)}.`);
    checked++;
  }
  return checked;
}

/** Time from the start of an ingest call until a query shows the events. */
async function freshness(system: ComparedSystem): Promise<Percentiles> {
  const samples: number[] = [];
  for (let i = 0; i < FRESHNESS_SAMPLES; i++) {
    const customer = `fresh${i}`;
    const events = Array.from({ length: 10 }, (_, j): UsageEvent => ({ at: START + 3 * DAY + j, customer, region: 'eu', units: 1, cost: 0.01 }));
    const started = performance.now();
    await system.ingest(events);
    for (let tries = 0; (await system.point(customer, START + 3 * DAY)).n !== 10; tries++) {
      if (tries > 1_000) throw new Error(`${system.name} never showed ingested events in a query.`);
    }
    samples.push(performance.now() - started);
  }
  return percentiles(samples);
}

async function queryLatencies(system: ComparedSystem, points: readonly [string, number][]): Promise<{ point: Percentiles; top: Percentiles | null }> {
  const pointSamples: number[] = [];
  for (let i = 0; i < POINT_QUERIES; i++) {
    const [customer, day] = points[i % points.length]!;
    await timed(pointSamples, () => system.point(customer, day));
  }
  if (system.top10 === undefined) return { point: percentiles(pointSamples), top: null };
  const topSamples: number[] = [];
  for (let i = 0; i < TOP_QUERIES; i++) await timed(topSamples, () => system.top10!());
  return { point: percentiles(pointSamples), top: percentiles(topSamples) };
}

interface BatchFigures {
  readonly events: number;
  readonly tandemEventsPerSecond: number;
  readonly rawDuckDbEventsPerSecond: number;
}

/** Tandem's batch run over everything ingested, beside a bare DuckDB GROUP BY over the same Parquet files. */
async function batchRecompute(tandem: TandemSystem): Promise<BatchFigures> {
  // Everything recomputed (a full cycle), to compare with DuckDB's GROUP BY over every file.
  const summary = await tandem.engine.runBatch({ full: true, seal: true });
  const events = summary.cutoff;
  const view = summary.views.by_customer_hour!;
  const duck = await DuckDBInstance.create(':memory:');
  const connection = await duck.connect();
  const files = join(tandem.engine.dataDir, 'master', 'usage', '*.parquet');
  const started = performance.now();
  await connection.run(`CREATE TEMP TABLE ceiling AS SELECT epoch_ms(date_trunc('hour', "at")) AS t, customer, count(*), sum(units), sum(cost) FROM read_parquet('${files}') GROUP BY 1, 2`);
  const rawSeconds = (performance.now() - started) / 1000;
  connection.closeSync();
  duck.closeSync();
  return { events, tandemEventsPerSecond: events / (view.durationMs / 1000), rawDuckDbEventsPerSecond: events / rawSeconds };
}

async function measure(system: ComparedSystem, batches: readonly UsageEvent[][], reference: ReferenceAnswers, points: readonly [string, number][]): Promise<SystemResult> {
  const rates: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    try {
      await system.open();
    } catch (error) {
      if (!(error instanceof PeerUnavailableError)) throw error;
      if (process.env.TANDEM_REQUIRE_SERVICES === '1') throw error;
      return { name: system.name, durability: system.durability, skipped: error.message };
    }
    const rate = await ingestAll(system, batches);
    rates.push(rate);
    process.stdout.write(`  ${system.name}: run ${run + 1}/${RUNS}, ${formatNumber(rate)} events/s\n`);
    if (run < RUNS - 1) await system.close();
  }
  try {
    await system.prepareQueries?.();
    const checkedAnswers = await checkAnswers(system, reference, points);
    const latencies = await queryLatencies(system, points);
    const fresh = await freshness(system);
    return { name: system.name, durability: system.durability, ingest: spread(rates), freshnessMs: fresh, pointMs: latencies.point, top10Ms: latencies.top, checkedAnswers };
  } finally {
    await system.close();
  }
}

function samplePoints(batches: readonly UsageEvent[][]): [string, number][] {
  const points: [string, number][] = [];
  for (let i = 0; i < 200; i++) {
    const event = batches[(i * 7919) % batches.length]![(i * 31) % BATCH]!;
    points.push([event.customer, Math.floor(event.at / DAY) * DAY]);
  }
  points.push(['nobody', START]);
  return points;
}

function ratio(tandem: number | undefined, peer: number | undefined): string {
  if (tandem === undefined || peer === undefined || peer === 0) return 'n/a';
  return `${(tandem / peer).toFixed(2)}x`;
}

function report(results: readonly SystemResult[], batch: BatchFigures | undefined, tandemRssMiB: number): string {
  const tandem = results[0]!;
  const ran = results.filter((r) => r.skipped === undefined);
  const lines = [
    `Tandem vs peers: ${EVENTS.toLocaleString('en-US')} usage events (${workload.keys.toLocaleString('en-US')} customers, ${workload.spanDays} days, ${workload.lateShare * 100}% late) in batches of ${BATCH.toLocaleString('en-US')}, ${IN_FLIGHT} in flight; ${RUNS} ingest runs each; ${cpus().length} cores.`,
    '',
    '| system | durability | ingest, events/s, median [min, max] | Tandem / system |',
    '| --- | --- | --- | --- |',
    ...ran.map((r) => `| ${r.name} | ${r.durability} | ${formatSpread(r.ingest!)} | ${r === tandem ? '' : ratio(tandem.ingest?.median, r.ingest?.median)} |`),
    '',
    '| system | freshness p50 / p99 ms | point query p50 / p99 ms | top 10 over 30 days p50 / p99 ms | answers checked |',
    '| --- | --- | --- | --- | --- |',
    ...ran.map((r) => `| ${r.name} | ${formatNumber(r.freshnessMs!.p50)} / ${formatNumber(r.freshnessMs!.p99)} | ${formatNumber(r.pointMs!.p50)} / ${formatNumber(r.pointMs!.p99)} | ${r.top10Ms === null ? 'n/a (no group-by)' : `${formatNumber(r.top10Ms!.p50)} / ${formatNumber(r.top10Ms!.p99)}`} | ${r.checkedAnswers} |`),
    '',
    '| latency ratio, Tandem / system (below 1: Tandem is faster) | freshness p50 | point p50 | point p99 |',
    '| --- | --- | --- | --- |',
    ...ran.filter((r) => r !== tandem).map((r) => `| ${r.name} | ${ratio(tandem.freshnessMs?.p50, r.freshnessMs?.p50)} | ${ratio(tandem.pointMs?.p50, r.pointMs?.p50)} | ${ratio(tandem.pointMs?.p99, r.pointMs?.p99)} |`),
  ];
  for (const r of results.filter((x) => x.skipped !== undefined)) lines.push('', `Skipped ${r.name}: ${r.skipped}.`);
  if (batch !== undefined) {
    lines.push('', `Batch recompute over the ${batch.events.toLocaleString('en-US')} ingested events: Tandem ${formatNumber(batch.tandemEventsPerSecond)} events/s (compute, Parquet write, load for serving); a bare DuckDB GROUP BY over the same Parquet files ${formatNumber(batch.rawDuckDbEventsPerSecond)} events/s (Tandem at ${(batch.tandemEventsPerSecond / batch.rawDuckDbEventsPerSecond).toFixed(2)}x of it).`);
  }
  lines.push('', `Tandem's process after its runs: ${tandemRssMiB.toFixed(0)} MiB peak RSS.`);
  return lines.join('\n');
}

async function main(): Promise<void> {
  const total = Math.ceil(EVENTS / BATCH) * BATCH;
  const batches = Array.from({ length: total / BATCH }, (_, i) => makeEvents(workload, i, BATCH, total));
  const reference = new ReferenceAnswers();
  for (const batch of batches) reference.add(batch);
  const points = samplePoints(batches);
  const tandem = new TandemSystem();
  const tandemWithBatch: ComparedSystem = {
    name: tandem.name, durability: tandem.durability,
    open: () => tandem.open(), ingest: (e) => tandem.ingest(e), point: (c, d) => tandem.point(c, d), top10: () => tandem.top10(), close: () => tandem.close(),
    // Queries then merge a batch view (everything ingested) with the speed layer (the freshness probes).
    prepareQueries: async () => {
      batch = await batchRecompute(tandem);
    },
  };
  let batch: BatchFigures | undefined;
  const systems: ComparedSystem[] = [tandemWithBatch, new PostgresRaw(), new PostgresUpsert(), new RedisCounters(), new DuckDbAppender(), new DbIvm()];
  const results: SystemResult[] = [];
  let tandemRssMiB = 0;
  for (const system of systems) {
    console.log(`${system.name}`);
    results.push(await measure(system, batches, reference, points));
    if (system === tandemWithBatch) tandemRssMiB = process.resourceUsage().maxRSS / 1024;
  }
  const text = report(results, batch, tandemRssMiB);
  console.log(`\n${text}`);
  await mkdir(join(import.meta.dirname, '..', 'results'), { recursive: true });
  const json = {
    date: new Date().toISOString(), quick, machine: { cores: cpus().length, cpu: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
    workload: { events: total, batchSize: BATCH, inFlight: IN_FLIGHT, runs: RUNS, ...workload }, results, batch, tandemPeakRssMiB: tandemRssMiB,
  };
  await writeFile(join(import.meta.dirname, '..', 'results', 'latest.json'), `${JSON.stringify(json, null, 2)}\n`);
  // Issue #30: SQL through the PostgreSQL port, the JSON API and PostgreSQL itself (bench/compare/sql-port.ts).
  console.log('\nSQL over the PostgreSQL port');
  console.log(`\n${await sqlPortBench({ quick })}`);
}

await main();
