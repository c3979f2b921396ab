/**
 * `npm run bench:metering`: Tandem embedded in a metering service, as issue
 * #29 tried it. Events of 7 fields with an idempotency key, into 5 views of
 * which one holds a countDistinct and one a quantiles measure; other work on
 * the machine is whatever runs beside it.
 *
 * It ingests the events in batches of 1,000 with 8 in flight, runs a sealing
 * batch cycle, closes, and reopens the data directory three times, timing:
 * the ingest (events/s), the process's RSS and heap after it and after the
 * cycle, each reopen until `Tandem.open` resolves (with its phases), a
 * batch of retried events right after it (answered while the batch views
 * still load), the first top 10 from the start of the open (it waits for
 * the views), and the RSS of the reopened engine. Medians [min, max] over
 * the reopens.
 *
 * Usage: npm run bench:metering -- [events=1000000]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tandem } from '../src/index.ts';
import { config, meteringEvent } from './metering-workload.ts';
import { formatSpread, spread } from './compare/stats.ts';

const EVENTS = Number(process.argv[2] ?? 1_000_000);
const BATCH = 1_000;
const IN_FLIGHT = 8;
const REOPENS = 3;

async function ingestAll(engine: Tandem): Promise<number> {
  const started = performance.now();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < EVENTS) {
      const first = next;
      next += BATCH;
      const events = Array.from({ length: Math.min(BATCH, EVENTS - first) }, (_, i) => meteringEvent(first + i, EVENTS));
      await engine.ingest('usage', events);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  return EVENTS / ((performance.now() - started) / 1000);
}

const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
const memory = (): string => `RSS ${mib(process.memoryUsage().rss)}, heap ${mib(process.memoryUsage().heapUsed)}`;

const dir = await mkdtemp(join(tmpdir(), 'tandem-metering-'));
try {
  let engine = await Tandem.open({ dataDir: dir, config });
  const rate = await ingestAll(engine);
  console.log(`ingest: ${EVENTS.toLocaleString('en-US')} events at ${Math.round(rate).toLocaleString('en-US')} events/s; ${memory()}`);
  const cycle = await engine.runBatch({ seal: true });
  console.log(`batch cycle over ${cycle.cutoff.toLocaleString('en-US')} events: ${Math.round(cycle.durationMs).toLocaleString('en-US')} ms; ${memory()}`);
  for (const [name, view] of Object.entries(cycle.views)) console.log(`  ${name}: ${view.rows.toLocaleString('en-US')} rows, ${Math.round(view.durationMs).toLocaleString('en-US')} ms`);
  await engine.close();
  const opens: number[] = [];
  const firsts: number[] = [];
  const rss: number[] = [];
  const ingests: number[] = [];
  for (let round = 0; round < REOPENS; round++) {
    const started = performance.now();
    let phases = '';
    let loadedMs = NaN;
    const logger = {
      info: (o: { ms?: Record<string, number> | number }, m?: string) => {
        if (m === 'engine opened' || m === 'data directory opened') phases += JSON.stringify(o.ms);
        if (m === 'batch views loaded') loadedMs = o.ms as number;
      },
      warn: () => {}, error: () => {},
    };
    engine = await Tandem.open({ dataDir: dir, config, logger });
    const opened = performance.now();
    // While the batch views load: new events (retries of the first batch, so the data stays as it was) are checked and answered at once.
    const retried = await engine.ingestUntyped('usage', Array.from({ length: BATCH }, (_, i) => meteringEvent(i, EVENTS)));
    const ingested = performance.now();
    if (retried.duplicates !== BATCH) throw new Error(`a retry after the reopen stored ${BATCH - retried.duplicates} events again`);
    const answer = await engine.query({ view: 'bill_by_customer_hour', groupBy: ['customer'], granularity: 'all', orderBy: [{ measure: 'quantity', desc: true }], limit: 10 });
    const answered = performance.now();
    if (answer.rows.length !== 10) throw new Error(`the first query answered ${answer.rows.length} rows`);
    opens.push(opened - started);
    ingests.push(ingested - opened);
    firsts.push(answered - started);
    rss.push(process.memoryUsage().rss);
    console.log(`reopen ${round + 1}: open ${Math.round(opened - started)} ms (${phases}), a retried batch of ${BATCH} ${Math.round(ingested - opened)} ms after it, first top 10 ${Math.round(answered - started)} ms from the start (views loaded in ${loadedMs} ms); ${memory()}`);
    await engine.close();
  }
  console.log(`\n| figure (${EVENTS.toLocaleString('en-US')} events) | median [min, max] |\n| --- | --- |`);
  console.log(`| ingest, events/s (one run) | ${Math.round(rate).toLocaleString('en-US')} |`);
  console.log(`| reopen until open resolves, ms | ${formatSpread(spread(opens))} |`);
  console.log(`| a retried batch of ${BATCH} right after it, ms | ${formatSpread(spread(ingests))} |`);
  console.log(`| first top 10, from the start of the open (it waits for the batch views), ms | ${formatSpread(spread(firsts))} |`);
  console.log(`| RSS after a reopen, MiB | ${formatSpread(spread(rss.map((b) => b / 2 ** 20)))} |`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
