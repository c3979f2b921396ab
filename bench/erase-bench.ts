/**
 * `npm run bench:erase`: how long an erasure takes on an embedded engine
 * holding N events (default 10M) of a metering schema, for one idempotency
 * key and for one customer (about N / 10,000 events), against a full
 * recompute of the same views (a sealing `runBatch({ full: true })`) in the
 * same run: an erasure is a full recompute plus writing again the files that
 * held the events, so the ratio says what the rewrite adds.
 *
 *   npm run bench:erase -- [--events N] [--runs R]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Tandem } from '../src/index.ts';
import { CUSTOMERS, eraseEvents, eraseWorkload } from './erase-workload.ts';
import { formatSpread, spread } from './compare/stats.ts';

const { values: args } = parseArgs({ options: { events: { type: 'string' }, runs: { type: 'string' } } });
const EVENTS = Number(args.events ?? 10_000_000);
const RUNS = Number(args.runs ?? 3);
const BATCH = 100_000;
const config = eraseWorkload();

const dir = await mkdtemp(join(tmpdir(), 'erase-bench-'));
const engine = await Tandem.open({ dataDir: dir, config });
try {
  const loadStarted = performance.now();
  for (let i = 0; i < EVENTS; i += BATCH) await engine.ingest('usage', eraseEvents(i, Math.min(BATCH, EVENTS - i)));
  await engine.runBatch({ seal: true });
  console.log(`Erasure bench: ${cpus().length} cores, ${EVENTS.toLocaleString('en-US')} events (${CUSTOMERS.toLocaleString('en-US')} customers) loaded in ${((performance.now() - loadStarted) / 1000).toFixed(1)} s, ${RUNS} runs each (median [min, max]).`);
  const full: number[] = [];
  const key: number[] = [];
  const keyCycle: number[] = [];
  const customer: number[] = [];
  let keyEvents = 0;
  let customerEvents = 0;
  for (let r = 0; r < RUNS; r++) {
    // Interleaved, so that a slower stretch of the machine falls on each alike.
    let started = performance.now();
    await engine.runBatch({ seal: true, full: true });
    full.push((performance.now() - started) / 1000);
    started = performance.now();
    keyEvents += (await engine.erase({ eventType: 'usage', where: { id: `e${(r * 1_000_003) % EVENTS}` } })).events;
    key.push((performance.now() - started) / 1000);
    keyCycle.push(engine.status().recentBatches[0]!.durationMs / 1000);
    started = performance.now();
    customerEvents += (await engine.erase({ eventType: 'usage', where: { customer: `c${r * 17}` } })).events;
    customer.push((performance.now() - started) / 1000);
  }
  const line = (label: string, s: readonly number[]) => console.log(`  ${label.padEnd(44)} ${formatSpread(spread(s))} s`);
  line('full recompute (sealing runBatch, full)', full);
  line(`erase one idempotency key (${keyEvents / RUNS} event)`, key);
  line('  of which its cycle, seal to publish', keyCycle);
  line(`erase one customer (${Math.round(customerEvents / RUNS)} events)`, customer);
  console.log(`  erase one key time / full recompute time, run by run: ${formatSpread(spread(key.map((k, i) => k / full[i]!)))}`);
  const { rows } = await engine.query({ view: 'by_plan', granularity: 'all' });
  const left = Number(rows[0]?.events ?? 0);
  if (left !== EVENTS - keyEvents - customerEvents) throw new Error(`${left} events answer where ${EVENTS - keyEvents - customerEvents} were due.`);
} finally {
  await engine.close();
  await rm(dir, { recursive: true, force: true });
}
