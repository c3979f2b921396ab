/**
 * `npm run bench:freshness -- [idle|load|load+batch] [seconds=15]`: where the
 * freshness tail comes from (issue #19). In one process: 10-event ingests
 * every 2 ms, each timed until it resolves (durable and visible), beside
 * (`load`) a client ingesting 1,000-event bodies without pause and
 * (`load+batch`) a batch cycle every 2 s, over 500,000 events of history.
 * It prints the freshness percentiles with the longest event-loop stall
 * (`monitorEventLoopDelay`) and the longest GC pauses of the same run.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { Tandem } from '../src/index.ts';
import { BATCH_CUSTOMERS, config, makeLiveBatch } from './usage-workload.ts';

const mode = process.argv[2] ?? 'load+batch';
const seconds = Number(process.argv[3] ?? 15);
const dir = await mkdtemp(join(tmpdir(), 'tandem-freshness-'));
try {
  const engine = await Tandem.open({ dataDir: dir, config });
  let seq = 0;
  for (let i = 0; i < 20; i++) await engine.ingest('usage', makeLiveBatch(seq++, 25_000, BATCH_CUSTOMERS));
  await engine.runBatch();
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const gcs: number[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcs.push(entry.duration);
  });
  observer.observe({ entryTypes: ['gc'] });
  let stop = false;
  const load = (async () => {
    while (!stop && mode !== 'idle') {
      await engine.ingest('usage', makeLiveBatch(seq++, 1_000, BATCH_CUSTOMERS));
      await new Promise((resolve) => setImmediate(resolve));
    }
  })();
  const batches = (async () => {
    while (!stop && mode === 'load+batch') {
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      if (!stop) await engine.runBatch();
    }
  })();
  const samples: number[] = [];
  const started = Date.now();
  while (Date.now() - started < seconds * 1000) {
    const sent = performance.now();
    await engine.ingest('usage', makeLiveBatch(seq++, 10, BATCH_CUSTOMERS));
    samples.push(performance.now() - sent);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  stop = true;
  await load;
  await batches;
  observer.disconnect();
  loop.disable();
  samples.sort((a, b) => a - b);
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]!.toFixed(2);
  gcs.sort((a, b) => b - a);
  console.log(`${mode}: ${samples.length} probes; freshness p50 ${at(0.5)} ms, p99 ${at(0.99)}, p99.9 ${at(0.999)}, max ${at(1)}; `
    + `event-loop stall p99 ${(loop.percentile(99) / 1e6).toFixed(1)} ms, max ${(loop.max / 1e6).toFixed(1)}; longest GC ${gcs.slice(0, 3).map((g) => g.toFixed(1)).join(', ')} ms of ${gcs.length}`);
  await engine.close();
} finally {
  await rm(dir, { recursive: true, force: true });
}
