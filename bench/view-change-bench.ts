/**
 * `npm run bench:views`: a view changed while serving (issue #31). Over the
 * metering workload's events (1M by default, one batch version published),
 * steady live traffic runs (an ingest of 500 events every 25 ms, 20,000
 * events/s, and a top-10 leaderboard every 50 ms) while nothing else
 * happens, then while a changed view is backfilled and switched in. Each
 * round applies another definition, so each one backfills.
 *
 * It reports, per setting of `backfillRestShare` (0.5, the default, and 0,
 * flat out): the backfill's speed (the master dataset's events it read,
 * over the time from the apply until the new definition answers), and the
 * p99 of ingest and query latency while it runs against the same traffic
 * without it. Medians [min, max] over the rounds.
 *
 * Usage: npm run bench:views -- [events=1000000] [rounds=3]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tandem, type ViewJson } from '../src/index.ts';
import { formatSpread, percentiles, spread } from './compare/stats.ts';
import { config, meteringEvent } from './metering-workload.ts';

const EVENTS = Number(process.argv[2] ?? 1_000_000);
const ROUNDS = Number(process.argv[3] ?? 3);
const BATCH = 500;
const INGEST_EVERY_MS = 25;
const QUERY_EVERY_MS = 50;
const BASELINE_MS = 4_000;

/** The definitions the rounds switch between: the same view with a sketch added, then without. */
const VARIANTS: readonly ViewJson[] = [
  { name: 'meter_by_day', eventType: 'usage', dimensions: ['meter', 'plan'], granularity: 'day', measures: { quantity: { type: 'sum', field: 'quantity' }, customers: { type: 'countDistinct', field: 'customer' } } },
  { name: 'meter_by_day', eventType: 'usage', dimensions: ['meter', 'region'], granularity: 'day', measures: { quantity: { type: 'sum', field: 'quantity' }, events: { type: 'count' } } },
];

interface Latencies { ingest: number[]; query: number[] }

/** Live traffic until `until` resolves: paced ingests of new events and leaderboards, each timed. */
async function traffic(engine: Tandem, next: { n: number }, until: Promise<unknown>): Promise<Latencies> {
  const seen: Latencies = { ingest: [], query: [] };
  let done = false;
  void until.finally(() => (done = true));
  const paced = async (everyMs: number, work: () => Promise<unknown>, into: number[]) => {
    for (let due = performance.now(); !done; due += everyMs) {
      const started = performance.now();
      await work();
      into.push(performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, due + everyMs - performance.now())));
    }
  };
  await Promise.all([
    paced(INGEST_EVERY_MS, () => {
      const first = next.n;
      next.n += BATCH;
      return engine.ingest('usage', Array.from({ length: BATCH }, (_, i) => meteringEvent(first + i, EVENTS)));
    }, seen.ingest),
    paced(QUERY_EVERY_MS, () => engine.query({ view: 'bill_by_customer_hour', groupBy: ['customer'], granularity: 'all', orderBy: [{ measure: 'quantity', desc: true }], limit: 10 }), seen.query),
  ]);
  return seen;
}

async function switched(engine: Tandem): Promise<void> {
  while (engine.status().viewChanges.length > 0) await new Promise((resolve) => setTimeout(resolve, 10));
}

async function load(engine: Tandem): Promise<void> {
  for (let first = 0; first < EVENTS; first += 5_000) {
    await engine.ingest('usage', Array.from({ length: Math.min(5_000, EVENTS - first) }, (_, i) => meteringEvent(first + i, EVENTS)));
  }
  await engine.runBatch({ seal: true });
}

const p99 = (samples: readonly number[]): number => percentiles(samples).p99;

for (const restShare of [0.5, 0]) {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-views-'));
  try {
    const engine = await Tandem.open({ dataDir: dir, config, backfillRestShare: restShare });
    await load(engine);
    const next = { n: EVENTS };
    const rates: number[] = [];
    const durations: number[] = [];
    const rows: string[] = [];
    const ratio = { ingest: [] as number[], query: [] as number[] };
    for (let round = 0; round < ROUNDS; round++) {
      const base = await traffic(engine, next, new Promise((resolve) => setTimeout(resolve, BASELINE_MS)));
      const started = performance.now();
      await engine.applyView(VARIANTS[round % VARIANTS.length]);
      const total = engine.status().viewChanges[0]?.eventsTotal ?? 0;
      let eventsTotal = total;
      let backfilledMs = NaN;
      const watch = setInterval(() => {
        const change = engine.status().viewChanges[0];
        eventsTotal = change?.eventsTotal || eventsTotal;
        if (change?.state === 'switching' && Number.isNaN(backfilledMs)) backfilledMs = performance.now() - started;
      }, 5);
      const during = await traffic(engine, next, switched(engine));
      clearInterval(watch);
      const ms = performance.now() - started;
      durations.push(ms);
      rates.push(eventsTotal / (ms / 1000));
      ratio.ingest.push(p99(during.ingest) / p99(base.ingest));
      ratio.query.push(p99(during.query) / p99(base.query));
      rows.push(`  round ${round + 1}: backfill of ${eventsTotal.toLocaleString('en-US')} events switched in after ${Math.round(ms).toLocaleString('en-US')} ms (backfilled after ${Math.round(backfilledMs).toLocaleString('en-US')} ms); ingest p99 ${p99(base.ingest).toFixed(1)} → ${p99(during.ingest).toFixed(1)} ms, top-10 p99 ${p99(base.query).toFixed(1)} → ${p99(during.query).toFixed(1)} ms (${during.ingest.length} ingests, ${during.query.length} queries during)`);
      await engine.runBatch();
    }
    await engine.close();
    console.log(`backfillRestShare ${restShare}: ${EVENTS.toLocaleString('en-US')} events loaded, live traffic ${(BATCH * 1000 / INGEST_EVERY_MS).toLocaleString('en-US')} events/s`);
    for (const row of rows) console.log(row);
    console.log(`  backfill: ${formatSpread(spread(rates))} events/s, apply to switch ${formatSpread(spread(durations))} ms; p99 during / before: ingest ${formatSpread(spread(ratio.ingest))}x, top-10 ${formatSpread(spread(ratio.query))}x`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
