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
export const REGIONS = ['eu', 'us', 'ap', 'sa'];
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


/**
 * Live traffic: event times advance with the stream (1M events span one day)
 * and 2% arrive up to a week late, so the speed layer sees what it holds
 * between batches in production rather than 30 days of keys at once.
 */
export function makeLiveBatch(seq: number, size: number, customers: number): Record<string, unknown>[] {
  const events = [];
  for (let i = 0; i < size; i++) {
    const n = seq * size + i;
    const now = START + Math.floor(n * 86.4);
    const late = n % 50 === 0 ? ((n * 7919) % (7 * 86_400_000)) : 0;
    events.push({ at: now - late, customer: `c${(n * 7919) % customers}`, region: REGIONS[n % 4], units: n % 100, cost: (n % 1000) / 100 });
  }
  return events;
}
