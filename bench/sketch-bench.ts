/**
 * `npm run bench:sketches`: what the sketch measures cost and how close they
 * come (issue #18), all in one run on this machine:
 *
 * 1. Speed layer: events folded per second into a view of each measure
 *    (count, sum, countDistinct, quantiles), same events, interleaved rounds;
 *    the ratio to count is the figure that carries to other machines.
 * 2. Batch layer: the engine's batch cycle over the same events, per view
 *    (computing the states in DuckDB and loading them), against count's.
 * 3. Memory per key at 10, 1,000 and 100,000 distinct values.
 * 4. Accuracy over 1,000,000 values of three distributions, beside DuckDB's
 *    `approx_count_distinct` and `approx_quantile`, exact answers as the
 *    reference.
 *
 * Usage: npm run bench:sketches -- [events=1000000] [rounds=3]
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AggregateTable } from '../src/aggregates/index.ts';
import { compileConfig, emptyColumns, firstEvents, createColumnValidator } from '../src/definitions/index.ts';
import { HyperLogLog } from '../src/definitions/measures/hyperloglog.ts';
import { bucketOf, QuantileSketch, subBucketBits } from '../src/definitions/measures/quantile-sketch.ts';
import { md5Lower64 } from '../src/definitions/measures/value-hash.ts';
import { Tandem } from '../src/index.ts';
import { formatSpread, spread } from './compare/stats.ts';
import { Random } from '../src/demo/random.ts';

const EVENTS = Number(process.argv[2] ?? 1_000_000);
const ROUNDS = Number(process.argv[3] ?? 3);

const MEASURES = {
  count: { type: 'count' },
  sum: { type: 'sum', field: 'ms' },
  countDistinct: { type: 'countDistinct', field: 'user' },
  quantiles: { type: 'quantiles', field: 'ms' },
} as const;

const config = {
  eventTypes: [{ name: 'req', time: 'at', fields: { at: 'timestamp', route: 'string', user: 'string', ms: { type: 'number', scale: 1 } } }],
  views: Object.entries(MEASURES).map(([name, m]) => ({ name, eventType: 'req', dimensions: ['route'], granularity: 'hour', measures: { m } })),
};

/** A deterministic generator (the demo's seeded PRNG): the accuracy figures are the same on every run. */
function random(seed: number): () => number {
  const generator = new Random(seed);
  return () => generator.next();
}

function events(n: number): { at: number; route: string; user: string; ms: number }[] {
  const next = random(7);
  const start = Date.UTC(2026, 10, 1);
  return Array.from({ length: n }, (_, i) => ({
    at: start + Math.floor((i / n) * 30 * 86_400_000),
    route: `/r${Math.floor(next() * 20)}`,
    user: `user-${Math.floor(next() ** 2 * 200_000)}`,
    ms: Math.round(Math.exp(3 + 1.2 * Math.sqrt(-2 * Math.log(next() + 1e-12)) * Math.cos(2 * Math.PI * next())) * 10) / 10,
  }));
}

function speedLayer(raw: readonly object[]): void {
  const catalog = compileConfig(config);
  const schema = catalog.eventTypes.get('req')!;
  const validate = createColumnValidator(schema);
  const columns = emptyColumns(schema.fields, raw.length);
  raw.forEach((e, i) => validate(e, columns, i));
  const batch = firstEvents(columns, raw.length);
  const rates = new Map<string, number[]>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const view of catalog.views.values()) {
      const table = new AggregateTable(view);
      const started = performance.now();
      table.apply(batch);
      const seconds = (performance.now() - started) / 1000;
      rates.set(view.name, [...(rates.get(view.name) ?? []), raw.length / seconds]);
    }
  }
  const base = spread(rates.get('count')!).median;
  console.log(`\n## Speed layer: events folded per second (${raw.length.toLocaleString('en-US')} events, ${ROUNDS} rounds)\n`);
  console.log('| measure | events/s, median [min, max] | ns per event | vs count |');
  console.log('| --- | --- | --- | --- |');
  for (const [name, r] of rates) {
    const s = spread(r);
    console.log(`| ${name} | ${formatSpread(s)} | ${(1e9 / s.median).toFixed(0)} | ${(s.median / base).toFixed(2)}x |`);
  }
}

async function batchLayer(raw: readonly object[]): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-bench-sketch-'));
  const times = new Map<string, number[]>();
  try {
    const engine = await Tandem.open({ dataDir: dir, config });
    try {
      for (let i = 0; i < raw.length; i += 100_000) await engine.ingest('req', raw.slice(i, i + 100_000));
      for (let round = 0; round < ROUNDS; round++) {
        // A cycle with nothing new still recomputes every view from the master dataset: each round measures all four.
        const summary = await engine.runBatch();
        for (const [name, v] of Object.entries(summary.views)) times.set(name, [...(times.get(name) ?? []), v.durationMs]);
        await engine.ingest('req', [{ at: Date.UTC(2026, 10, 2), route: '/r0', user: `round-${round}`, ms: 1 }]);
      }
    } finally {
      await engine.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const base = spread(times.get('count')!).median;
  console.log(`\n## Batch layer: one view recomputed in DuckDB and loaded (${raw.length.toLocaleString('en-US')} events)\n`);
  console.log('| measure | ms, median [min, max] | events/s | vs count |');
  console.log('| --- | --- | --- | --- |');
  for (const [name, t] of times) {
    const s = spread(t);
    console.log(`| ${name} | ${formatSpread(s)} | ${Math.round(raw.length / (s.median / 1000)).toLocaleString('en-US')} | ${(s.median / base).toFixed(2)}x |`);
  }
}

function memory(): void {
  console.log('\n## Memory per key\n');
  console.log('| distinct values in the key | countDistinct (p=12) bytes | its form | quantiles bytes (buckets × 40) | buckets |');
  console.log('| --- | --- | --- | --- | --- |');
  const out = { lo: 0, hi: 0 };
  for (const n of [10, 1_000, 100_000]) {
    const hll = new HyperLogLog(12);
    const q = new QuantileSketch();
    const next = random(n);
    for (let i = 0; i < n; i++) {
      hll.addHash(md5Lower64(`v${i}`, out));
      q.addBucket(bucketOf(Math.round(Math.exp(3 + 2 * next()) * 10), subBucketBits(0.01)));
    }
    console.log(`| ${n.toLocaleString('en-US')} | ${hll.bytes.toLocaleString('en-US')} | ${hll.isExact ? 'exact set' : 'registers'} | ${(q.buckets * 40).toLocaleString('en-US')} | ${q.buckets} |`);
  }
}

async function accuracy(): Promise<void> {
  const next = random(18);
  const distributions: Record<string, () => number> = {
    uniform: () => Math.floor(next() * 10_000_000),
    zipf: () => Math.floor(1 / (next() ** 1.2 + 1e-9)),
    latency: () => Math.round(Math.exp(3 + 1.5 * Math.sqrt(-2 * Math.log(next() + 1e-12)) * Math.cos(2 * Math.PI * next())) * 10),
  };
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const k = subBucketBits(0.01);
  const qs = [0.5, 0.9, 0.99];
  const rows: string[] = [];
  try {
    for (const [name, draw] of Object.entries(distributions)) {
      const values = Array.from({ length: 1_000_000 }, draw);
      const hll = new HyperLogLog(12);
      const sketch = new QuantileSketch();
      const out = { lo: 0, hi: 0 };
      for (const v of values) {
        hll.addHash(md5Lower64(String(v), out));
        sketch.addBucket(bucketOf(v, k));
      }
      await connection.run('CREATE OR REPLACE TABLE x (v BIGINT)');
      const appender = await connection.createAppender('x');
      for (const v of values) {
        appender.appendBigInt(BigInt(v));
        appender.endRow();
      }
      appender.closeSync();
      const duck = (await connection.runAndReadAll(`SELECT count(DISTINCT v), approx_count_distinct(v), ${qs.map((q) => `quantile_disc(v, ${q}), approx_quantile(v, ${q})`).join(', ')} FROM x`)).getRows()[0]!.map(Number);
      const [exact, approx] = duck;
      const pct = (a: number, b: number) => `${((Math.abs(a - b) / b) * 100).toFixed(2)}%`;
      const ours = hll.estimate();
      const entries = sketch.entries();
      const quantiles = qs.map((q, i) => {
        const truth = duck[2 + 2 * i]!;
        return `p${q * 100}: ${pct(sketch.quantile(q, k, entries)!, truth)} / ${pct(duck[3 + 2 * i]!, truth)}`;
      });
      rows.push(`| ${name} | ${exact!.toLocaleString('en-US')} | ${pct(ours, exact!)} | ${pct(approx!, exact!)} | ${quantiles.join('; ')} |`);
    }
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
  console.log('\n## Accuracy over 1,000,000 values (relative error against the exact answer)\n');
  console.log('| distribution | distinct | countDistinct (p=12) | DuckDB approx_count_distinct | quantiles: Tandem / DuckDB approx_quantile |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const row of rows) console.log(row);
}

const raw = events(EVENTS);
speedLayer(raw);
await batchLayer(raw);
memory();
await accuracy();
