/**
 * SQL over the PostgreSQL port (issue #30), part of `npm run bench`: a grouped
 * top-10 and a point query sent with `pg` to `tandem serve --pg-port`, beside
 * the same through the JSON API (`POST /v1/query`, and `POST /v1/sql`), and
 * beside PostgreSQL itself running the same SQL over a table that
 * materializes the same view from the same events.
 *
 *   node --import tsx bench/compare/sql-port.ts [--quick] [--events N] [--runs R] [--reps K]
 *
 * The Tandem server runs in its own process (as `tandem serve` from the
 * working tree's sources), so client and server each get a core, as
 * PostgreSQL's backend does. Every path answers the same questions; answers
 * that differ fail the run. PostgreSQL (127.0.0.1:5432, database `test`) not
 * reachable: its column is skipped, with a line saying why.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { defineConfig, defineEventType, defineView } from '../../src/index.ts';
import { Random } from '../../src/demo/random.ts';
import { formatNumber, percentiles, spread, type Percentiles, type Spread } from './stats.ts';

const VIEW = 'revenue_by_customer_hour';
const DAY = 86_400_000;
const START = Date.UTC(2026, 10, 1);
const SPAN_DAYS = 30;
const CUSTOMERS = 10_000;
const COUNTRIES = ['DE', 'FR', 'US', 'GB', 'NL', 'ES', 'IT', 'PL', 'SE', 'JP', 'BR', 'CA'];
const INGEST_BATCH = 5_000;
const WARMUP = 30;

const order = defineEventType({
  name: 'order',
  time: 'at',
  fields: { at: 'timestamp', customer: 'string', country: 'string', amount: { type: 'number', scale: 2 } },
});
const config = defineConfig({
  eventTypes: [order],
  views: [defineView(order, { name: VIEW, dimensions: ['customer'], granularity: 'hour', measures: { orders: { type: 'count' }, revenue: { type: 'sum', field: 'amount' } } })],
});

/** The SQL every SQL path runs, word for word. */
const TOP10_SQL = `SELECT customer, sum(revenue) AS revenue FROM ${VIEW} GROUP BY customer ORDER BY revenue DESC LIMIT 10`;
const POINT_SQL = `SELECT sum(orders) AS orders, sum(revenue) AS revenue FROM ${VIEW} WHERE customer = $1`;
/** The same questions in Tandem's JSON form. */
const TOP10_JSON = { view: VIEW, groupBy: ['customer'], granularity: 'all', orderBy: [{ measure: 'revenue', desc: true }], limit: 10 };
const pointJson = (customer: string) => ({ view: VIEW, where: { customer }, granularity: 'all' });

interface OrderEvent {
  readonly at: number;
  readonly customer: string;
  readonly country: string;
  /** In cents, so every system sums exactly. */
  readonly cents: number;
}

function makeOrders(count: number): OrderEvent[] {
  const random = new Random(30);
  return Array.from({ length: count }, (_, i) => {
    const customer = random.int(CUSTOMERS);
    return { at: START + Math.floor((i / count) * SPAN_DAYS * DAY), customer: `c${customer}`, country: COUNTRIES[customer % COUNTRIES.length]!, cents: 100 + random.int(50_000) };
  });
}

/** One answer, normalised: the top-10's customers and revenues in cents, or the point's orders and revenue in cents. */
type Answer = string;
const cents = (x: unknown) => Math.round(Number(x) * 100);
const topAnswer = (rows: readonly (readonly unknown[])[]): Answer => rows.map(([c, r]) => `${String(c)}=${cents(r)}`).join(',');
const pointAnswer = (row: readonly unknown[] | undefined): Answer => `${Number(row?.[0] ?? 0)}/${cents(row?.[1] ?? 0)}`;

/** The answers computed straight from the events. */
function referenceAnswers(events: readonly OrderEvent[], customers: readonly string[]): { top: Answer; points: Answer[] } {
  const totals = new Map<string, { n: number; cents: number }>();
  for (const e of events) {
    const t = totals.get(e.customer) ?? { n: 0, cents: 0 };
    t.n++;
    t.cents += e.cents;
    totals.set(e.customer, t);
  }
  const top = [...totals].sort((a, b) => b[1].cents - a[1].cents).slice(0, 10).map(([c, t]) => `${c}=${t.cents}`).join(',');
  return { top, points: customers.map((c) => `${totals.get(c)?.n ?? 0}/${totals.get(c)?.cents ?? 0}`) };
}

/** A way to ask both questions, timed per call. */
interface Path {
  readonly name: string;
  /** Answered by the Tandem server, whose metrics then say how long it spent. */
  readonly inTandem: boolean;
  top10(): Promise<Answer>;
  point(customer: string): Promise<Answer>;
  close(): Promise<void>;
}

interface PathResult {
  readonly name: string;
  readonly top10: { p50: Spread; p99: Spread };
  readonly point: { p50: Spread; p99: Spread };
  /** From the server's tandem_query_duration_seconds: mean ms in the server per query (SQL parsing and planning included), and engine queries per call. */
  readonly inServer?: { top10: InServer; point: InServer };
}

interface InServer {
  readonly meanMs: number;
  readonly perCall: number;
}

/** The server's query-time histogram for the view: its sum (s) and count. */
async function queryMetric(url: string): Promise<{ sum: number; count: number }> {
  const text = await new Promise<string>((resolve, reject) => {
    request(`${url}/metrics`, { agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks).toString()));
      res.on('error', reject);
    }).on('error', reject).end();
  });
  const value = (suffix: string) => Number(new RegExp(`^tandem_query_duration_seconds_${suffix}\\{view="${VIEW}"\\} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  return { sum: value('sum'), count: value('count') };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createNetServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

interface TandemProcess {
  readonly url: string;
  readonly pgPort: number;
  stop(): Promise<void>;
}

/** `tandem serve --pg-port` from the sources, in its own process; resolves once it serves. */
async function startTandem(dir: string): Promise<TandemProcess> {
  const configFile = join(dir, 'config.json');
  await writeFile(configFile, JSON.stringify(config));
  const pgPort = await freePort();
  const entry = fileURLToPath(new URL('../../src/cli/run.ts', import.meta.url));
  const child: ChildProcess = spawn(process.execPath, [
    '--max-semi-space-size=64', '--import', 'tsx', entry, 'serve', '--config', configFile, '--data', join(dir, 'data'),
    '--host', '127.0.0.1', '--port', '0', '--pg-port', String(pgPort), '--batch-every', '1h',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let output = '';
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const onData = (d: Buffer) => {
        output += d.toString();
        const m = /serving at (http:\/\/[^\s"]+)/.exec(output);
        if (m !== null) resolve(m[1]!);
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', (d: Buffer) => void (output += d.toString()));
      void exited.then(() => reject(new Error(`tandem serve exited:\n${output}`)));
    });
    return { url, pgPort, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

const agent = new Agent({ keepAlive: true, maxSockets: 1 });

/** One JSON POST over a kept-alive loopback connection. */
function postJson(url: string, body: unknown): Promise<unknown> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        if (res.statusCode !== 200) reject(new Error(`POST ${url}: ${res.statusCode} ${text.slice(0, 500)}`));
        else resolve(JSON.parse(text));
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

async function pgPath(name: string, inTandem: boolean, options: pg.ClientConfig, top10Sql = TOP10_SQL, pointSql = POINT_SQL): Promise<Path> {
  const client = new pg.Client(options);
  await client.connect();
  return {
    name, inTandem,
    async top10() {
      const { rows } = await client.query({ text: top10Sql, rowMode: 'array' });
      return topAnswer(rows as unknown[][]);
    },
    async point(customer) {
      const { rows } = await client.query({ text: pointSql, values: [customer], rowMode: 'array' });
      return pointAnswer((rows as unknown[][])[0]);
    },
    close: () => client.end(),
  };
}

function queryPath(url: string): Path {
  const rows = (answer: unknown) => (answer as { rows: Record<string, unknown>[] }).rows;
  return {
    name: 'Tandem, POST /v1/query (JSON)', inTandem: true,
    async top10() {
      return topAnswer(rows(await postJson(`${url}/v1/query`, TOP10_JSON)).map((r) => [r.customer, r.revenue]));
    },
    async point(customer) {
      const row = rows(await postJson(`${url}/v1/query`, pointJson(customer)))[0];
      return pointAnswer(row === undefined ? undefined : [row.orders, row.revenue]);
    },
    close: async () => undefined,
  };
}

function sqlRoutePath(url: string): Path {
  const rows = (answer: unknown) => (answer as { rows: unknown[][] }).rows;
  return {
    name: 'Tandem, POST /v1/sql (JSON)', inTandem: true,
    async top10() {
      return topAnswer(rows(await postJson(`${url}/v1/sql`, { sql: TOP10_SQL })));
    },
    async point(customer) {
      return pointAnswer(rows(await postJson(`${url}/v1/sql`, { sql: POINT_SQL, params: [customer] }))[0]);
    },
    close: async () => undefined,
  };
}

const PG = { host: '127.0.0.1', port: 5432, user: process.env.PGUSER ?? 'postgres', database: 'test' };

/** The events as a table in PostgreSQL and the view materialized from it, in a schema of their own; null (and why) when PostgreSQL is not reachable. */
async function loadPostgres(events: readonly OrderEvent[], schema: string): Promise<{ seconds: number; rows: number } | string> {
  const client = new pg.Client(PG);
  try {
    await client.connect();
  } catch (error) {
    return `PostgreSQL is not reachable on ${PG.host}:${PG.port}, database ${PG.database} (${(error as Error).message})`;
  }
  try {
    const started = performance.now();
    await client.query(`CREATE SCHEMA ${schema}; SET search_path TO ${schema}; CREATE TABLE orders (at timestamptz NOT NULL, customer text NOT NULL, country text NOT NULL, amount numeric(12, 2) NOT NULL)`);
    for (let i = 0; i < events.length; i += 50_000) {
      const text = events.slice(i, i + 50_000).map((e) => `${new Date(e.at).toISOString()}\t${e.customer}\t${e.country}\t${(e.cents / 100).toFixed(2)}\n`).join('');
      await pipeline(Readable.from([text]), client.query(copyFrom('COPY orders FROM STDIN')));
    }
    await client.query(`CREATE TABLE ${VIEW} AS SELECT date_trunc('hour', at) AS time, customer, count(*) AS orders, sum(amount) AS revenue FROM orders GROUP BY 1, 2;
      CREATE INDEX ON ${VIEW} (customer); ANALYZE ${VIEW}`);
    const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${VIEW}`);
    return { seconds: (performance.now() - started) / 1000, rows: Number(rows[0]!.n) };
  } finally {
    await client.end();
  }
}

async function dropPostgres(schema: string): Promise<void> {
  const client = new pg.Client(PG);
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}

/** `runs` sequential calls after the warm-up; latencies in ms. */
async function sample(runs: number, call: (i: number) => Promise<unknown>, afterWarmup?: () => Promise<void>): Promise<Percentiles> {
  for (let i = 0; i < WARMUP; i++) await call(i);
  await afterWarmup?.();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await call(i);
    samples.push(performance.now() - started);
  }
  return percentiles(samples);
}

export interface SqlPortOptions {
  readonly quick: boolean;
  readonly events?: number;
  readonly runs?: number;
  readonly reps?: number;
}

/** Runs the comparison and returns its report (Markdown tables). */
export async function sqlPortBench(options: SqlPortOptions): Promise<string> {
  const total = options.events ?? (options.quick ? 50_000 : 300_000);
  const runs = options.runs ?? (options.quick ? 100 : 300);
  const reps = options.reps ?? (options.quick ? 2 : 3);
  const events = makeOrders(total);
  const dir = await mkdtemp(join(tmpdir(), 'tandem-sql-port-'));
  const schema = `tandem_sql_bench_${process.pid}`;
  const paths: Path[] = [];
  let tandem: TandemProcess | undefined;
  let pgLoaded = false;
  const notes: string[] = [];
  try {
    tandem = await startTandem(dir);
    const ingestStarted = performance.now();
    for (let i = 0; i < total; i += INGEST_BATCH) {
      const body = events.slice(i, i + INGEST_BATCH).map((e) => ({ at: e.at, customer: e.customer, country: e.country, amount: e.cents / 100 }));
      const answer = await postJson(`${tandem.url}/v1/events/order`, body) as { accepted: number };
      if (answer.accepted !== body.length) throw new Error(`Tandem accepted ${answer.accepted} of ${body.length} events.`);
    }
    const ingestSeconds = (performance.now() - ingestStarted) / 1000;
    const batchStarted = performance.now();
    await postJson(`${tandem.url}/v1/batch`, {});
    const batchSeconds = (performance.now() - batchStarted) / 1000;
    // The batch view's read aids (e.g. the all-time roll-up) build in the background after a publication.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    notes.push(`Tandem: ${total.toLocaleString('en-US')} events ingested over HTTP in ${ingestSeconds.toFixed(1)} s, one batch cycle in ${batchSeconds.toFixed(1)} s.`);

    paths.push(await pgPath('Tandem, PostgreSQL port (pg)', true, { host: '127.0.0.1', port: tandem.pgPort, user: 'bench', database: 'tandem' }));
    paths.push(queryPath(tandem.url), sqlRoutePath(tandem.url));
    const loaded = await loadPostgres(events, schema);
    if (typeof loaded === 'string') {
      notes.push(`Skipped PostgreSQL: ${loaded}.`);
    } else {
      pgLoaded = true;
      notes.push(`PostgreSQL: the events COPY'd into a table and the view materialized (${loaded.rows.toLocaleString('en-US')} hourly rows, an index on customer) in ${loaded.seconds.toFixed(1)} s.`);
      paths.push(await pgPath('PostgreSQL 15, same SQL over the materialized view', false, { ...PG, options: `-c search_path=${schema}` }));
    }

    // Every path must give the same answers.
    const customers = Array.from({ length: 200 }, (_, i) => events[(i * 7919) % total]!.customer);
    customers.push('nobody');
    const want = { top: await paths[0]!.top10(), points: [] as Answer[] };
    for (const customer of customers) want.points.push(await paths[0]!.point(customer));
    for (const path of paths) {
      const top = await path.top10();
      if (top !== want.top) throw new Error(`${path.name} answers the top 10 ${top}; ${paths[0]!.name} answers ${want.top}.`);
      for (const [i, customer] of customers.entries()) {
        const got = await path.point(customer);
        if (got !== want.points[i]) throw new Error(`${path.name} answers ${got} for ${customer}; ${paths[0]!.name} answers ${want.points[i]}.`);
      }
    }
    const reference = referenceAnswers(events, customers);
    if (want.top !== reference.top) throw new Error(`The top 10 is ${want.top}; the events say ${reference.top}.`);
    if (want.points.join() !== reference.points.join()) throw new Error('Point answers differ from what the events say.');

    // Repetitions interleave the paths, so drift on this shared machine touches each alike.
    const raw = new Map<string, { top: Percentiles[]; point: Percentiles[]; topServer: InServer[]; pointServer: InServer[] }>(paths.map((p) => [p.name, { top: [], point: [], topServer: [], pointServer: [] }]));
    for (let rep = 0; rep < reps; rep++) {
      for (const path of paths) {
        const r = raw.get(path.name)!;
        const url = tandem.url;
        const metrics: { sum: number; count: number }[] = [];
        const read = path.inTandem ? async () => void metrics.push(await queryMetric(url)) : undefined;
        r.top.push(await sample(runs, () => path.top10(), read));
        await read?.();
        r.point.push(await sample(runs, (i) => path.point(customers[i % customers.length]!), read));
        await read?.();
        const inServer = (a: { sum: number; count: number }, b: { sum: number; count: number }): InServer => ({ meanMs: ((b.sum - a.sum) * 1000) / (b.count - a.count), perCall: (b.count - a.count) / runs });
        if (metrics.length === 4) {
          r.topServer.push(inServer(metrics[0]!, metrics[1]!));
          r.pointServer.push(inServer(metrics[2]!, metrics[3]!));
        }
        process.stdout.write(`  ${path.name}: repetition ${rep + 1}/${reps}, top 10 p50 ${formatNumber(r.top.at(-1)!.p50)} ms, point p50 ${formatNumber(r.point.at(-1)!.p50)} ms\n`);
      }
    }
    const results: PathResult[] = paths.map((p) => {
      const r = raw.get(p.name)!;
      return {
        name: p.name,
        top10: { p50: spread(r.top.map((x) => x.p50)), p99: spread(r.top.map((x) => x.p99)) },
        point: { p50: spread(r.point.map((x) => x.p50)), p99: spread(r.point.map((x) => x.p99)) },
        ...(r.topServer.length === 0 ? {} : { inServer: { top10: medianInServer(r.topServer), point: medianInServer(r.pointServer) } }),
      };
    });
    return report(results, { total, runs, reps, pgLoaded }, notes);
  } finally {
    for (const path of paths) await path.close().catch(() => undefined);
    agent.destroy();
    await tandem?.stop();
    // Also after a load that failed half-way; nothing to drop (or to reach) otherwise.
    await dropPostgres(schema).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

function medianInServer(xs: readonly InServer[]): InServer {
  return { meanMs: spread(xs.map((x) => x.meanMs)).median, perCall: spread(xs.map((x) => x.perCall)).median };
}

const ms = (s: Spread) => `${formatNumber(s.median)} [${formatNumber(s.min)}, ${formatNumber(s.max)}]`;
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;

function report(results: readonly PathResult[], run: { total: number; runs: number; reps: number; pgLoaded: boolean }, notes: readonly string[]): string {
  const [port, query, , postgres] = results as [PathResult, PathResult, PathResult, PathResult | undefined];
  const lines = [
    `SQL over the PostgreSQL port (issue #30): ${run.total.toLocaleString('en-US')} orders from ${CUSTOMERS.toLocaleString('en-US')} customers over ${SPAN_DAYS} days, view ${VIEW} (customer, hour: count, sum); ${run.runs} sequential queries after ${WARMUP} warm-up, ${run.reps} repetitions, one connection per path; ${cpus().length} cores.`,
    `Top 10: ${TOP10_SQL}`,
    `Point:  ${POINT_SQL.replace('$1', "$1 (201 customers in turn)")}`,
    ...notes,
    '',
    '| path | top 10 p50 ms | top 10 p99 ms | point p50 ms | point p99 ms |',
    '| --- | --- | --- | --- | --- |',
    ...results.map((r) => `| ${r.name} | ${ms(r.top10.p50)} | ${ms(r.top10.p99)} | ${ms(r.point.p50)} | ${ms(r.point.p99)} |`),
    '',
    '(median [min, max] of the repetitions\' p50 and p99)',
    '',
    '| Tandem path | top 10: ms in the server per query (mean) | share of the p50 | point: ms in the server per query (mean) | share of the p50 |',
    '| --- | --- | --- | --- | --- |',
    ...results.filter((r) => r.inServer !== undefined).map((r) => {
      const s = r.inServer!;
      const calls = (x: InServer) => (Math.abs(x.perCall - 1) < 0.01 ? '' : `, ${x.perCall.toFixed(2)} queries per call`);
      return `| ${r.name} | ${formatNumber(s.top10.meanMs)}${calls(s.top10)} | ${(s.top10.meanMs * s.top10.perCall / r.top10.p50.median * 100).toFixed(0)}% | ${formatNumber(s.point.meanMs)}${calls(s.point)} | ${(s.point.meanMs * s.point.perCall / r.point.p50.median * 100).toFixed(0)}% |`;
    }),
    '',
    '(the server\'s tandem_query_duration_seconds over each timed block, after its warm-up: SQL parsing and planning and the engine\'s query; the rest is the protocol, the HTTP or wire handling, and the client)',
    '',
    `Goal: PostgreSQL port within 1.5x of the JSON path's p50: top 10 ${ratio(port.top10.p50.median, query.top10.p50.median)}, point ${ratio(port.point.p50.median, query.point.p50.median)} of POST /v1/query (${port.top10.p50.median <= 1.5 * query.top10.p50.median && port.point.p50.median <= 1.5 * query.point.p50.median ? 'met' : 'missed'}).`,
  ];
  if (postgres === undefined) {
    lines.push('Goal: ahead of PostgreSQL on the top 10: not measured (PostgreSQL skipped).');
  } else {
    lines.push(
      `Goal: ahead of PostgreSQL on the top 10: Tandem's port at ${ratio(port.top10.p50.median, postgres.top10.p50.median)} of PostgreSQL's p50 (${port.top10.p50.median < postgres.top10.p50.median ? 'met' : 'missed'}); p99 ${ratio(port.top10.p99.median, postgres.top10.p99.median)}.`,
      `Point query, Tandem's port / PostgreSQL: p50 ${ratio(port.point.p50.median, postgres.point.p50.median)}, p99 ${ratio(port.point.p99.median, postgres.point.p99.median)}.`,
    );
  }
  return lines.join('\n');
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, events: { type: 'string' }, runs: { type: 'string' }, reps: { type: 'string' } } });
  const text = await sqlPortBench({
    quick: values.quick!,
    ...(values.events === undefined ? {} : { events: Number(values.events) }),
    ...(values.runs === undefined ? {} : { runs: Number(values.runs) }),
    ...(values.reps === undefined ? {} : { reps: Number(values.reps) }),
  });
  console.log(`\n${text}`);
}
