/** How the ingest benchmarks drive the engine: many appends in flight, after a warm-up. */
import type { Tandem } from '../src/index.ts';

type MakeBatch = (seq: number, size: number, customers: number) => Record<string, unknown>[];

/**
 * Ingests the workload's first batches for `ms` milliseconds, untimed, and
 * returns the sequence number to go on from. Measures steady state: V8 has
 * optimised the hot path, and the log's encoder worker (which starts on the
 * first large commit group and takes a few hundred milliseconds to load) is
 * up, instead of the main thread encoding everything meanwhile.
 */
export async function warmUp(engine: Tandem, make: MakeBatch, customers: number, ms = 500): Promise<number> {
  const until = performance.now() + ms;
  let seq = 0;
  while (performance.now() < until) {
    await Promise.all(Array.from({ length: 16 }, () => engine.ingest('usage', make(seq++, 1000, customers))));
  }
  return seq;
}

/** Appends prebuilt batches with `inFlight` appends outstanding, as a busy client would, and returns events per second. */
export async function timedIngest(engine: Tandem, batches: readonly Record<string, unknown>[][], inFlight: number): Promise<number> {
  const events = batches.reduce((n, b) => n + b.length, 0);
  const started = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (next < batches.length) await engine.ingest('usage', batches[next++]!);
  }));
  return events / ((performance.now() - started) / 1000);
}
