/**
 * HTTP benchmark (issue #3): durable NDJSON ingest over loopback and point-query
 * latency at a fixed request rate, with autocannon as the load generator.
 *
 *   npm run bench:http            # 3 runs of 15 s each per measure
 *   npm run bench:http -- --quick # 3 runs of 4 s
 *
 * The server runs as a separate process (`tandem serve`, started through the
 * bin's shebang with its Node flags), as in production, so the load generator
 * and the server each get one of the machine's two cores.
 */
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { config, makeBatch, START } from './usage-workload.ts';
import { fixedRate } from './fixed-rate-client.ts';

const quick = process.argv.includes('--quick');
const RUNS = 3;
const SECONDS = quick ? 4 : 15;
const DAY = 86_400_000;

interface Spread { median: number; min: number; max: number }
const spread = (xs: number[]): Spread => {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)]!, min: s[0]!, max: s[s.length - 1]! };
};
const fmt = (s: Spread, digits = 0) => `${s.median.toLocaleString('en-US', { maximumFractionDigits: digits })} [${s.min.toLocaleString('en-US', { maximumFractionDigits: digits })}, ${s.max.toLocaleString('en-US', { maximumFractionDigits: digits })}]`;

interface Server { url: string; stop: () => Promise<void> }

/** Spawns a server process and waits for the URL it prints. */
async function spawnServer(command: string, args: readonly string[], pattern: RegExp): Promise<Server> {
  const child = spawn(command, args);
  const url = await new Promise<string>((resolve, reject) => {
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
      const m = pattern.exec(output);
      if (m !== null) resolve(m[1]!);
    });
    child.on('exit', () => reject(new Error(`server exited:\n${output}`)));
  });
  return { url, stop: () => new Promise((resolve) => { child.on('exit', () => resolve()); child.kill('SIGTERM'); }) };
}

async function startTandem(dir: string): Promise<Server> {
  const configFile = join(dir, 'config.json');
  await writeFile(configFile, JSON.stringify(config));
  const bin = fileURLToPath(new URL('../bin/tandem.js', import.meta.url));
  return spawnServer(bin, ['serve', '--config', configFile, '--data', join(dir, 'data'), '--port', '0', '--batch-every', '1h'], /serving at (http:\/\/\S+?)"/);
}

function startBareFastify(): Promise<Server> {
  return spawnServer(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('bare-fastify-server.ts', import.meta.url))], /listening at (http:\/\/\S+)/);
}

async function ingestRun(url: string, bodies: readonly string[], eventsPerBody: number): Promise<number> {
  let next = 0;
  const result = await autocannon({
    url: `${url}/v1/events/usage`, method: 'POST', connections: 16, duration: SECONDS,
    headers: { 'content-type': 'application/x-ndjson' },
    requests: [{ setupRequest: (request) => ({ ...request, body: bodies[next++ % bodies.length] }) }],
  });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`ingest run had ${result.non2xx} non-2xx answers and ${result.errors} errors`);
  return (result.requests.total * eventsPerBody) / (result.duration || SECONDS);
}

const pointQuery = { view: 'by_customer_hour', where: { customer: 'c42' }, from: START, to: START + DAY, granularity: 'day' };

/** The same point queries at the same rate, timed to the microsecond by {@link fixedRate}. */
function preciseQueryRun(url: string) {
  return fixedRate({ url: `${url}/v1/query`, body: JSON.stringify(pointQuery), rate: 1000, seconds: SECONDS, connections: 8 });
}

async function queryRun(url: string, seconds = SECONDS): Promise<{ p50: number; p99: number; rate: number }> {
  const query = pointQuery;
  const result = await autocannon({
    url: `${url}/v1/query`, method: 'POST', connections: 8, duration: seconds, overallRate: 1000,
    headers: { 'content-type': 'application/json' }, body: JSON.stringify(query),
  });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`query run had ${result.non2xx} non-2xx answers and ${result.errors} errors`);
  return { p50: result.latency.p50, p99: result.latency.p99, rate: result.requests.average };
}

const dir = await mkdtemp(join(tmpdir(), 'tandem-http-bench-'));
const server = await startTandem(dir);
try {
  const bodies = (size: number) => Array.from({ length: 64 }, (_, i) => makeBatch(i, size, 10_000).map((e) => JSON.stringify(e)).join('\n'));
  const ingest1000: number[] = [];
  const ingest100: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    ingest1000.push(await ingestRun(server.url, bodies(1000), 1000));
    ingest100.push(await ingestRun(server.url, bodies(100), 100));
  }
  const batch = await (await fetch(`${server.url}/v1/batch`, { method: 'POST' })).json() as { events: number; durationMs: number };
  await queryRun(server.url, 3); // warm-up: JIT and connection set-up, not measured
  const queries: { p50: number; p99: number; rate: number }[] = [];
  const floor: { p50: number; p99: number; rate: number }[] = [];
  const precise: { p50: number; p99: number; rate: number }[] = [];
  const preciseFloor: { p50: number; p99: number; rate: number }[] = [];
  const bare = await startBareFastify();
  try {
    await queryRun(bare.url, 3);
    // Interleaved, so that the machine's noise hits both alike.
    for (let run = 0; run < RUNS; run++) {
      queries.push(await queryRun(server.url));
      floor.push(await queryRun(bare.url));
      precise.push(await preciseQueryRun(server.url));
      preciseFloor.push(await preciseQueryRun(bare.url));
    }
  } finally {
    await bare.stop();
  }

  console.log(`\nHTTP benchmark (${quick ? 'quick' : 'full'}): ${RUNS} runs × ${SECONDS} s, server in its own process, autocannon client; median [min, max]\n`);
  console.log(`durable ingest, NDJSON bodies of 1,000 events, 16 connections: ${fmt(spread(ingest1000))} events/s`);
  console.log(`durable ingest, NDJSON bodies of 100 events, 16 connections:   ${fmt(spread(ingest100))} events/s`);
  console.log(`(then a batch over ${batch.events.toLocaleString('en-US')} events took ${(batch.durationMs / 1000).toFixed(1)} s)`);
  console.log(`point query at 1,000 q/s (achieved ${fmt(spread(queries.map((q) => q.rate)))} q/s): p50 ${fmt(spread(queries.map((q) => q.p50)), 2)} ms, p99 ${fmt(spread(queries.map((q) => q.p99)), 2)} ms`);
  console.log(`floor: a bare Fastify route answering the same JSON, same client and rate: p50 ${fmt(spread(floor.map((q) => q.p50)), 2)} ms, p99 ${fmt(spread(floor.map((q) => q.p99)), 2)} ms`);
  console.log('(autocannon reports latency in whole milliseconds)');
  console.log(`point query at 1,000 q/s, timed to the microsecond (bench/fixed-rate-client.ts): p50 ${fmt(spread(precise.map((q) => q.p50)), 3)} ms, p99 ${fmt(spread(precise.map((q) => q.p99)), 3)} ms`);
  console.log(`floor, the same way: p50 ${fmt(spread(preciseFloor.map((q) => q.p50)), 3)} ms, p99 ${fmt(spread(preciseFloor.map((q) => q.p99)), 3)} ms`);
} finally {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
}
