/**
 * The first leaderboards of a process (issue #29, "no warm-up"): the peer
 * harness's workload and view, a full batch run, the point queries `npm run
 * bench` asks before its top 10s, then top 10s over all time in a row, each
 * timed, with the garbage collections that fell inside it. Run it under
 * `--trace-deopt`, `--trace-opt` or `--cpu-prof` to see why the first ones
 * are slower.
 *
 *   node --import tsx bench/first-queries.ts [--events 500000] [--keys 10000] [--points 2200] [--queries 20]
 *
 * Run from an older checkout's tree (copied in) for the figures before a change.
 * A restart, in two processes: `--prepare <dir>` fills <dir> and stops;
 * `--reopen <dir>` opens it, waits 3 s for the read aids, then queries.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Tandem } from '../src/index.ts';
import { config, DAY, makeEvents, START } from './compare/workload.ts';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '500000' }, keys: { type: 'string', default: '10000' }, points: { type: 'string', default: '2200' }, queries: { type: 'string', default: '20' },
    // A restart: --prepare <dir> ingests and runs the batch into <dir> and stops; --reopen <dir> (another process) opens it and queries.
    prepare: { type: 'string' }, reopen: { type: 'string' },
  },
});
const events = Number(values.events);
const workload = { keys: Number(values.keys), spanDays: 30, lateShare: 0.02, seed: 7 };
const top10 = { view: 'by_customer_hour', groupBy: ['customer'], granularity: 'all', orderBy: [{ measure: 'units', desc: true }], limit: 10 } as const;

/** Garbage collections as they end: start (ms on the performance clock) and duration. */
const collections: { start: number; duration: number }[] = [];
const observer = new PerformanceObserver((list) => collections.push(...list.getEntries().map((e) => ({ start: e.startTime, duration: e.duration }))));
observer.observe({ entryTypes: ['gc'] });

const dir = values.prepare ?? values.reopen ?? await mkdtemp(join(tmpdir(), 'tandem-first-queries-'));
const engine = await Tandem.open({ dataDir: dir, config });
try {
  if (values.reopen === undefined) await fill();
  else await new Promise((resolve) => setTimeout(resolve, 3000));
  if (values.prepare === undefined) await timeQueries();
} finally {
  observer.disconnect();
  await engine.close();
  if (values.prepare === undefined && values.reopen === undefined) await rm(dir, { recursive: true, force: true });
}

/** The peer harness's events, then a full batch run. */
async function fill(): Promise<void> {
  const batches = Array.from({ length: events / 1000 }, (_, i) => makeEvents(workload, i, 1000, events));
  let next = 0;
  // As the peer harness ingests: 8 requests in flight.
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next < batches.length) await engine.ingest('usage', batches[next++]!);
  }));
  const cycle = performance.now();
  const { durationMs } = await engine.runBatch({ full: true });
  // The cycle's own duration ends at its publish; what the call took past it is the warm-up's (and the history's).
  console.log(`batch run: ${(performance.now() - cycle).toFixed(0)} ms, of which ${(performance.now() - cycle - durationMs).toFixed(0)} ms after its publish`);
}

/** The harness's point queries, then the top 10s, each timed. */
async function timeQueries(): Promise<void> {
  for (let i = 0; i < Number(values.points); i++) {
    const day = START + (i % 30) * DAY;
    await engine.query({ view: 'by_customer_hour', from: day, to: day + DAY, where: { customer: `c${i % workload.keys}` }, granularity: 'all' });
  }
  const spans: [number, number][] = [];
  // CPU time too: on a shared machine the wall time of one query also counts the turns other processes took.
  const cpu: string[] = [];
  for (let q = 0; q < Number(values.queries); q++) {
    const used = process.cpuUsage();
    const started = performance.now();
    await engine.query(top10);
    spans.push([started, performance.now()]);
    const { user, system } = process.cpuUsage(used);
    cpu.push(((user + system) / 1000).toFixed(2));
  }
  // Collections are reported a turn later: wait for it, then give each query those that started inside it.
  await new Promise((resolve) => setImmediate(resolve));
  const times = spans.map(([started, ended]) => {
    const gc = collections.filter((c) => c.start >= started && c.start < ended).reduce((sum, c) => sum + c.duration, 0);
    return `${(ended - started).toFixed(2)}${gc > 0 ? ` (gc ${gc.toFixed(1)})` : ''}`;
  });
  console.log(`top 10 over all time, ${times.length} in a row, ms: ${times.join(' ')}`);
  console.log(`process CPU ms (all threads, so background compiles too): ${cpu.join(' ')}`);
}
