/**
 * Leaderboard latency: a top 10 of customers by units over the peer
 * workload, in a view of the granularity asked, after a batch run, three
 * ways: over all time (the all-time roll-up), over whole coarser buckets
 * (whole days of a minute or hour view from its daily roll-up, whole months
 * of a day, week or month view from its monthly roll-up or its months'
 * slots) and over a range cut inside them (the coarser roll-up, and the
 * partial days or months through the index of slots by bucket). The read
 * aids are built by the batch run. DuckDB's scan of the same events (a
 * GROUP BY over a table of them, in memory) is timed in the same run, each
 * query interleaved with Tandem's.
 *
 *   node --import tsx bench/leaderboard-bench.ts [customers] [events] [--granularity hour] [--days 30] [--baseline <dir>]
 *   node --import tsx bench/leaderboard-bench.ts 10000 500000   # sparse: the peer harness's shape
 *   node --import tsx bench/leaderboard-bench.ts 2000 3000000   # dense: ~1.1M hourly keys, ~60k daily
 *   node --import tsx bench/leaderboard-bench.ts 300 3000000 --granularity day --days 365   # a year of days, ~110k keys
 *
 * `--baseline <dir>` opens a second engine from another checkout's
 * `src/index.ts` (e.g. `git archive <commit> src package.json | tar -x -C <dir>`,
 * with `node_modules` linked in), fed the same events, and times its
 * queries interleaved with this checkout's and DuckDB's: a before/after in
 * one process, on one machine's noise.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { defineConfig, defineView, Tandem, type Granularity, type Query } from '../src/index.ts';
import { DAY, makeEvents, START, type UsageEvent } from './compare/workload.ts';
import { usage } from './usage-workload.ts';

const HOUR = 3_600_000;
/** A multiple of 6, the orders of three sides: each order is run as often. */
const ROUNDS = 36;
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { granularity: { type: 'string', default: 'hour' }, days: { type: 'string', default: '30' }, baseline: { type: 'string' } },
});
const customers = Number(positionals[0] ?? 10_000);
const total = Number(positionals[1] ?? 500_000);
const granularity = values.granularity as Exclude<Granularity, 'none'>;
const spanDays = Number(values.days);
const workload = { keys: customers, spanDays, lateShare: 0.02, seed: 7 };
const VIEW = `by_customer_${granularity}`;
const config = defineConfig({
  eventTypes: [usage],
  views: [defineView(usage, { name: VIEW, dimensions: ['customer'], granularity, measures: { n: { type: 'count' }, units: { type: 'sum', field: 'units' } } })],
});

/** One engine under test: this checkout's, or the baseline's. */
interface Engine {
  query(query: Query): Promise<{ rows: readonly Record<string, unknown>[] }>;
  ingest(type: 'usage', events: UsageEvent[]): Promise<unknown>;
  runBatch(): Promise<{ views: Record<string, { rows: number } | undefined> }>;
  close(): Promise<void>;
}
type Opener = (options: { dataDir: string; config: typeof config }) => Promise<Engine>;

/** The queries timed: all time, whole coarser buckets, and a range cut inside them. */
function leaderboards(): Record<string, Query> {
  const top10 = { view: VIEW, groupBy: ['customer'], granularity: 'all', orderBy: [{ measure: 'units', desc: true }], limit: 10 } as const;
  const end = START + spanDays * DAY;
  const inDays = granularity === 'minute' || granularity === 'hour';
  const month = (t: number, plus: number) => Date.UTC(new Date(t).getUTCFullYear(), new Date(t).getUTCMonth() + plus, 1);
  const [from, to] = inDays ? [START + DAY, end - DAY] : [month(START, 1), month(end, 0)];
  if (!(from < to)) throw new Error(`--days ${spanDays} holds no whole ${inDays ? 'day' : 'month'} between its first and last`);
  const unit = inDays ? 'days' : 'months';
  return {
    'all time': top10,
    [`whole ${unit}`]: { ...top10, from, to },
    [`cut mid-${inDays ? 'day' : 'month'}`]: { ...top10, from: from + (inDays ? HOUR : 9 * DAY + HOUR), to: inDays ? to : to - 5 * DAY },
  };
}

/** DuckDB's answer to the same top 10: a GROUP BY over every event in the range (over all time, no WHERE at all). */
function duckTop10(connection: DuckDBConnection, query: Query): Promise<unknown> {
  const tail = 'GROUP BY customer ORDER BY u DESC, customer LIMIT 10';
  if (typeof query.from !== 'number' || typeof query.to !== 'number') return connection.runAndReadAll(`SELECT customer, sum(units) AS u FROM events ${tail}`);
  return connection.runAndReadAll(`SELECT customer, sum(units) AS u FROM events WHERE "at" >= $1 AND "at" < $2 ${tail}`, [BigInt(query.from), BigInt(query.to)]);
}

async function appendAll(connection: DuckDBConnection, batches: readonly UsageEvent[][]): Promise<void> {
  await connection.run('CREATE TABLE events ("at" BIGINT, customer VARCHAR, units INTEGER)');
  const appender = await connection.createAppender('events');
  for (const batch of batches) {
    for (const e of batch) {
      appender.appendBigInt(BigInt(e.at));
      appender.appendVarchar(e.customer);
      appender.appendInteger(e.units);
      appender.endRow();
    }
  }
  appender.flushSync();
  appender.closeSync();
}

async function feed(engine: Engine, batches: readonly UsageEvent[][]): Promise<number> {
  for (let i = 0; i < batches.length; i += 16) await Promise.all(batches.slice(i, i + 16).map((batch) => engine.ingest('usage', batch)));
  const summary = await engine.runBatch();
  return summary.views[VIEW]!.rows;
}

function p50(times: number[]): string {
  const sorted = [...times].sort((a, b) => a - b);
  return `p50 ${sorted[Math.floor(sorted.length / 2)]!.toFixed(2)} ms [${sorted[0]!.toFixed(2)}, ${sorted.at(-1)!.toFixed(2)}]`;
}

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}

const median = (times: number[]) => [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)]!;

async function timed(run: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

const batches = Array.from({ length: total / 1000 }, (_, i) => makeEvents(workload, i, 1000, total));
const engines: [string, Engine][] = [];
const dirs: string[] = [];
const duck = await DuckDBInstance.create(':memory:');
const connection = await duck.connect();
try {
  const openers: [string, Opener][] = [['this checkout', (o) => Tandem.open(o) as Promise<Engine>]];
  if (values.baseline !== undefined) {
    const module = (await import(join(resolve(values.baseline), 'src/index.ts'))) as { Tandem: { open: Opener } };
    openers.push([`baseline ${values.baseline}`, (o) => module.Tandem.open(o)]);
  }
  for (const [name, open] of openers) {
    const dir = await mkdtemp(join(tmpdir(), 'tandem-leaderboard-'));
    dirs.push(dir);
    const engine = await open({ dataDir: dir, config });
    engines.push([name, engine]);
    const keys = await feed(engine, batches);
    console.log(`${name}: ${total.toLocaleString('en-US')} events, ${customers.toLocaleString('en-US')} customers over ${spanDays} days, ${keys.toLocaleString('en-US')} keys in the ${granularity} batch view`);
  }
  await appendAll(connection, batches);
  const queries = leaderboards();
  for (const [name, engine] of engines) console.log(`${name}: the first query, right after the batch run: ${(await timed(() => engine.query(queries['all time']!))).toFixed(2)} ms`);
  for (const [name, query] of Object.entries(queries)) {
    const samples = new Map<string, number[]>([...engines.map(([n]) => [n, []] as [string, number[]]), ['DuckDB scan', []]]);
    const runs: [string, () => Promise<unknown>][] = [...engines.map(([n, e]): [string, () => Promise<unknown>] => [n, () => e.query(query)]), ['DuckDB scan', () => duckTop10(connection, query)]];
    // Every order of the sides in turn, so that each follows each other as often: a rotation put one engine
    // right after DuckDB's query (its threads maybe still winding down) twice as often as the other.
    const orders = permutations(runs);
    for (let round = 0; round < ROUNDS; round++) {
      for (const [side, run] of orders[round % orders.length]!) samples.get(side)!.push(await timed(run));
    }
    const duckP50 = median(samples.get('DuckDB scan')!);
    for (const [side, times] of samples) console.log(`top 10, ${name}, ${side}: ${p50(times)}, ${(median(times) / duckP50).toFixed(2)}x of DuckDB's scan`);
  }
  await checkAnswers(queries['all time']!);
} finally {
  for (const [, engine] of engines) await engine.close();
  connection.closeSync();
  duck.closeSync();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
}

/** Every engine's all-time top 10 is DuckDB's: same customers, same units. */
async function checkAnswers(query: Query): Promise<void> {
  const reader = (await duckTop10(connection, query)) as { getRowsJS(): unknown[][] };
  const expected = reader.getRowsJS().map(([customer, units]) => `${String(customer)}=${Number(units)}`).join(',');
  for (const [name, engine] of engines) {
    const got = (await engine.query(query)).rows.map((r) => `${String(r.customer)}=${Number(r.units)}`).join(',');
    console.log(`all-time top 10 of ${name} ${got === expected ? 'equals' : 'DIFFERS FROM'} DuckDB's`);
  }
}
