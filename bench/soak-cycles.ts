/**
 * The soak workload: sustained ingest and batch cycles over a bounded key
 * set, so that after the first cycle every layer holds the same number of
 * keys and any growth in memory is a leak. Used by `npm run bench:soak`
 * (long) and by the soak test (short).
 */
import { Tandem } from '../src/index.ts';
import { config, REGIONS, START } from './usage-workload.ts';

export interface SoakOptions {
  readonly dataDir: string;
  readonly cycles: number;
  readonly eventsPerCycle: number;
  /** Forces a full collection before each sample, so heap figures are live data, not garbage. */
  readonly gc: () => void;
  readonly onSample?: (sample: SoakSample) => void;
}

export interface SoakSample {
  readonly cycle: number;
  readonly heapUsedBytes: number;
  /** Memory outside the V8 heap held by JavaScript objects: the speed layer's typed arrays live here. */
  readonly externalBytes: number;
  readonly rssBytes: number;
  readonly speedKeysAfterBatch: number;
  /** Events the batch layer counts, to be checked against those sent: a soak must stay exact too. */
  readonly batchEvents: number;
  readonly eventsSent: number;
  readonly batchMs: number;
}

const CUSTOMERS = 100;
const HOURS = 48;

/** Event `n` of the stream: 100 customers × 48 hours, so the hourly view saturates at 4,800 keys. */
function soakEvent(n: number): Record<string, unknown> {
  const hour = Math.floor(n / CUSTOMERS) % HOURS;
  return { at: START + hour * 3_600_000 + (n % 3_600_000), customer: `c${n % CUSTOMERS}`, region: REGIONS[n % 4], units: n % 100, cost: (n % 1000) / 100 };
}

export async function runSoak(options: SoakOptions): Promise<SoakSample[]> {
  const engine = await Tandem.open({ dataDir: options.dataDir, config });
  const samples: SoakSample[] = [];
  try {
    let n = 0;
    for (let cycle = 1; cycle <= options.cycles; cycle++) {
      for (let done = 0; done < options.eventsPerCycle; done += 1000) {
        const batch = Array.from({ length: Math.min(1000, options.eventsPerCycle - done) }, () => soakEvent(n++));
        await engine.ingestUntyped('usage', batch);
      }
      const started = performance.now();
      await engine.runBatch();
      const batchMs = performance.now() - started;
      options.gc();
      const memory = process.memoryUsage();
      const { rows } = await engine.query({ view: 'totals_minute', granularity: 'all', layer: 'batch' });
      const sample: SoakSample = {
        cycle, heapUsedBytes: memory.heapUsed, externalBytes: memory.external, rssBytes: memory.rss,
        speedKeysAfterBatch: engine.status().speed.keys, batchEvents: Number(rows[0]?.n ?? 0), eventsSent: n, batchMs,
      };
      samples.push(sample);
      options.onSample?.(sample);
    }
  } finally {
    await engine.close();
  }
  return samples;
}
