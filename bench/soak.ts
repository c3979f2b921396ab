/**
 * Memory soak: sustained ingest and batch cycles over a bounded key set
 * (`npm run bench:soak`, or `-- --cycles 20 --events 100000` for a short
 * one). Prints heap, external memory and RSS after each cycle, and the
 * growth from the end of the warm-up (cycle 5) to the last cycle.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSoak, type SoakSample } from './soak-cycles.ts';

function flag(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  return at === -1 ? fallback : Number(process.argv[at + 1]);
}

const cycles = flag('--cycles', 60);
const events = flag('--events', 200_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('Run with node --expose-gc (npm run bench:soak does).');

const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
const dir = await mkdtemp(join(tmpdir(), 'tandem-soak-'));
console.log(`soak: ${cycles} cycles of ${events.toLocaleString('en-US')} events then a batch run; 100 customers × 48 hours of keys`);
console.log('cycle  heap MiB  external MiB  rss MiB  speed keys  batch ms');
try {
  const samples = await runSoak({
    dataDir: dir, cycles, eventsPerCycle: events, gc,
    onSample: (s) => console.log(`${String(s.cycle).padStart(5)}  ${mib(s.heapUsedBytes).padStart(8)}  ${mib(s.externalBytes).padStart(12)}  ${mib(s.rssBytes).padStart(7)}  ${String(s.speedKeysAfterBatch).padStart(10)}  ${s.batchMs.toFixed(0).padStart(8)}`),
  });
  const warm = samples[Math.min(4, samples.length - 1)]!;
  const last = samples.at(-1)!;
  const growth = (pick: (s: SoakSample) => number) => `${mib(pick(last) - pick(warm))} MiB`;
  console.log(`\ngrowth from cycle ${warm.cycle} to ${last.cycle}: heap ${growth((s) => s.heapUsedBytes)}, external ${growth((s) => s.externalBytes)}, rss ${growth((s) => s.rssBytes)}`);
  console.log(`exact: the batch layer counts ${last.batchEvents.toLocaleString('en-US')} of ${last.eventsSent.toLocaleString('en-US')} events sent`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
