/**
 * Ingest-only profile target: `node --cpu-prof --import tsx bench/ingest-only.ts`.
 * Same workload as the ingest part of `npm run bench`, without the rest.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tandem } from '../src/index.ts';
import { config, makeBatch } from './usage-workload.ts';

const dir = await mkdtemp(join(tmpdir(), 'tandem-ingest-'));
const engine = await Tandem.open({ dataDir: dir, config });
const batches = Array.from({ length: 300 }, (_, i) => makeBatch(i, 1000, 10_000));
const started = performance.now();
let next = 0;
await Promise.all(Array.from({ length: 16 }, async () => {
  while (next < batches.length) await engine.ingest('usage', batches[next++]!);
}));
console.log(`${Math.round(300_000 / ((performance.now() - started) / 1000)).toLocaleString('en-US')} events/s`);
await engine.close();
await rm(dir, { recursive: true, force: true });
