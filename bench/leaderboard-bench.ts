/**
 * Leaderboard latency: a top 10 of customers by units over the peer
 * workload's hourly view, after a batch run, three ways: over all time
 * (the all-time roll-up), over whole UTC days (the daily roll-up) and over
 * a range cut mid-day (the daily roll-up, and the partial days' hourly
 * slots through the index of slots by bucket). The roll-ups are built in
 * the background once the batch view loads.
 *
 *   node --import tsx bench/leaderboard-bench.ts [customers] [events]
 *   node --import tsx bench/leaderboard-bench.ts 10000 500000   # sparse: the peer harness's shape
 *   node --import tsx bench/leaderboard-bench.ts 2000 3000000   # dense: ~1.1M hourly keys, ~60k daily
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Tandem, type Query } from '../src/index.ts';
import { config, DAY, makeEvents } from './compare/workload.ts';

const customers = Number(process.argv[2] ?? 10_000);
const total = Number(process.argv[3] ?? 500_000);
const START = Date.UTC(2024, 0, 1);
const workload = { keys: customers, spanDays: 30, lateShare: 0.02, seed: 7 };

const dir = await mkdtemp(join(tmpdir(), 'tandem-leaderboard-'));
const engine = await Tandem.open({ dataDir: dir, config });
try {
  const batches = total / 1000;
  for (let i = 0; i < batches; i += 16) {
    await Promise.all(Array.from({ length: Math.min(16, batches - i) }, (_, k) => engine.ingest('usage', makeEvents(workload, i + k, 1000, total))));
  }
  const summary = await engine.runBatch();
  const top10 = { view: 'by_customer_hour', groupBy: ['customer'], granularity: 'all', orderBy: [{ measure: 'units', desc: true }], limit: 10 } as const;
  const queries: Record<string, Query> = {
    'all time (all-time roll-up)': top10,
    'whole days (daily roll-up)': { ...top10, from: START + DAY, to: START + 29 * DAY },
    'cut mid-day (daily roll-up and two partial days)': { ...top10, from: START + DAY + 3_600_000, to: START + 29 * DAY },
  };
  const first = performance.now();
  await engine.query(top10);
  console.log(`${total.toLocaleString('en-US')} events, ${customers.toLocaleString('en-US')} customers, ${summary.views.by_customer_hour!.rows.toLocaleString('en-US')} hourly keys in the batch view`);
  console.log(`first query, right after the batch run (roll-ups not built yet, reads the hourly buckets): ${(performance.now() - first).toFixed(1)} ms`);
  // The roll-up is built in the background; give it time before timing, and see how long its steps hold the loop.
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  await new Promise((resolve) => setTimeout(resolve, 3000));
  delay.disable();
  console.log(`longest event-loop delay while it builds: ${(delay.max / 1e6).toFixed(1)} ms`);
  for (const [name, query] of Object.entries(queries)) {
    const times: number[] = [];
    for (let r = 0; r < 31; r++) {
      const started = performance.now();
      await engine.query(query);
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    console.log(`top 10, ${name}: p50 ${times[15]!.toFixed(2)} ms [${times[0]!.toFixed(2)}, ${times.at(-1)!.toFixed(2)}]`);
  }
} finally {
  await engine.close();
  await rm(dir, { recursive: true, force: true });
}
