/**
 * Ingest-only profile target: `node --cpu-prof --import tsx bench/ingest-only.ts [events] [inFlight] [--live]`.
 * Same workload as the engine benchmark's ingest, after the same warm-up, without the rest.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tandem } from '../src/index.ts';
import { timedIngest, warmUp } from './ingest-run.ts';
import { config, makeBatch, makeLiveBatch } from './usage-workload.ts';

const total = Number(process.argv[2] ?? 1_000_000);
const inFlight = Number(process.argv[3] ?? 16);
const make = process.argv.includes('--live') ? makeLiveBatch : makeBatch;
const dir = await mkdtemp(join(tmpdir(), 'tandem-ingest-'));
const engine = await Tandem.open({ dataDir: dir, config });
const first = await warmUp(engine, make, 10_000);
const batches = Array.from({ length: total / 1000 }, (_, i) => make(first + i, 1000, 10_000));
console.log(`${Math.round(await timedIngest(engine, batches, inFlight)).toLocaleString('en-US')} events/s`);
await engine.close();
await rm(dir, { recursive: true, force: true });
