/**
 * Ingest-only profile target: `node --cpu-prof --import tsx bench/ingest-only.ts [events] [inFlight] [--live]`.
 * Same workload as the ingest part of `npm run bench`, without the rest.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tandem } from '../src/index.ts';
import { config, makeBatch, makeLiveBatch } from './usage-workload.ts';

const total = Number(process.argv[2] ?? 1_000_000);
const inFlight = Number(process.argv[3] ?? 16);
const make = process.argv.includes('--live') ? makeLiveBatch : makeBatch;
const dir = await mkdtemp(join(tmpdir(), 'tandem-ingest-'));
const engine = await Tandem.open({ dataDir: dir, config });
const batches = Array.from({ length: total / 1000 }, (_, i) => make(i, 1000, 10_000));
const started = performance.now();
let next = 0;
await Promise.all(Array.from({ length: inFlight }, async () => {
  while (next < batches.length) await engine.ingest('usage', batches[next++]!);
}));
console.log(`${Math.round(total / ((performance.now() - started) / 1000)).toLocaleString('en-US')} events/s`);
await engine.close();
await rm(dir, { recursive: true, force: true });
