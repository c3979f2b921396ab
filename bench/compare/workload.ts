/**
 * The comparison workload: `usage` events (5 fields) and the one view every
 * system maintains: per customer per hour, the count, the units and the cost.
 * Cost is carried in cents, an integer, so every system sums it exactly.
 */
import { defineConfig, defineView } from '../../src/index.ts';
import { Random } from '../../src/demo/random.ts';
import { REGIONS, START, usage } from '../usage-workload.ts';

export { START };

export const config = defineConfig({
  eventTypes: [usage],
  views: [
    defineView(usage, {
      name: 'by_customer_hour', dimensions: ['customer'], granularity: 'hour',
      measures: { n: { type: 'count' }, units: { type: 'sum', field: 'units' }, cost: { type: 'sum', field: 'cost' } },
    }),
  ],
});

export interface UsageEvent {
  readonly at: number;
  readonly customer: string;
  readonly region: string;
  readonly units: number;
  readonly cost: number;
}

export interface WorkloadOptions {
  /** Distinct customers (the view's series). */
  readonly keys: number;
  /** Days the event times span. */
  readonly spanDays: number;
  /** Share of events that arrive up to a week late. */
  readonly lateShare: number;
  readonly seed: number;
}

export const HOUR = 3_600_000;
export const DAY = 86_400_000;

/** Batch `seq` of `size` events; times advance with the stream over the span, some arrive late. */
export function makeEvents(options: WorkloadOptions, seq: number, size: number, total: number): UsageEvent[] {
  const random = new Random(options.seed * 1_000_003 + seq);
  const events: UsageEvent[] = [];
  for (let i = 0; i < size; i++) {
    const n = seq * size + i;
    const now = START + Math.floor((n / total) * options.spanDays * DAY);
    const late = random.next() < options.lateShare ? random.int(7 * DAY) : 0;
    events.push({
      at: Math.max(START, now - late),
      customer: `c${random.int(options.keys)}`,
      region: REGIONS[n % 4]!,
      units: random.int(100),
      cost: random.int(100_000) / 100,
    });
  }
  return events;
}

/** An answer every system gives: one customer over one UTC day. */
export interface PointAnswer {
  readonly n: number;
  readonly units: number;
  readonly costCents: number;
}

/** A row of the top customers by units over the whole span. */
export interface TopRow {
  readonly customer: string;
  readonly units: number;
}
