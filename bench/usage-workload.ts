/** The benchmark workload: 5-field usage events into 3 views. */
import { defineConfig, defineEventType, defineView } from '../src/index.ts';

export const usage = defineEventType({
  name: 'usage',
  time: 'at',
  fields: { at: 'timestamp', customer: 'string', region: 'string', units: { type: 'number', scale: 0 }, cost: { type: 'number', scale: 2 } },
});
export const config = defineConfig({
  eventTypes: [usage],
  views: [
    defineView(usage, { name: 'by_customer_hour', dimensions: ['customer'], granularity: 'hour', measures: { n: { type: 'count' }, units: { type: 'sum', field: 'units' } } }),
    defineView(usage, { name: 'by_region_day', dimensions: ['region'], granularity: 'day', measures: { cost: { type: 'sum', field: 'cost' }, peak: { type: 'max', field: 'units' } } }),
    defineView(usage, { name: 'totals_minute', dimensions: [], granularity: 'minute', measures: { n: { type: 'count' }, avgCost: { type: 'avg', field: 'cost' } } }),
  ],
});

export const START = Date.UTC(2024, 0, 1);
const REGIONS = ['eu', 'us', 'ap', 'sa'];
/** Customers in the batch workload: 1,000 customers × 720 hours bounds the hourly view at 720k keys. */
export const BATCH_CUSTOMERS = 1_000;

export function makeBatch(seq: number, size: number, customers: number): Record<string, unknown>[] {
  const events = [];
  for (let i = 0; i < size; i++) {
    const n = seq * size + i;
    events.push({ at: START + ((n * 7919) % (30 * 86_400_000)), customer: `c${n % customers}`, region: REGIONS[n % 4], units: n % 100, cost: (n % 1000) / 100 });
  }
  return events;
}

