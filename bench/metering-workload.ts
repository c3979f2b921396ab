/**
 * The metering workload of issue #29: usage events of 7 fields with an
 * idempotency key, into 5 views of which one holds a countDistinct and one a
 * quantiles measure. Shared by `metering-bench.ts` and `recompute-cycles.ts`.
 */
import { defineConfig, defineEventType, defineView } from '../src/index.ts';

const START = Date.UTC(2026, 9, 1);
const CUSTOMERS = 5_000;
const METERS = ['api_calls', 'storage_gb', 'egress_gb', 'seats', 'builds', 'minutes'];
const PLANS = ['free', 'team', 'business', 'enterprise'];
const REGIONS = ['eu-west', 'us-east', 'us-west', 'ap-south'];

const usage = defineEventType({
  name: 'usage',
  time: 'at',
  idempotencyKey: 'eventId',
  fields: {
    eventId: 'string', at: 'timestamp', customer: 'string', meter: 'string', plan: 'string', region: 'string',
    quantity: { type: 'number', scale: 3 },
  },
});

export const config = defineConfig({
  eventTypes: [usage],
  views: [
    defineView(usage, { name: 'bill_by_customer_hour', dimensions: ['customer', 'meter'], granularity: 'hour', measures: { events: { type: 'count' }, quantity: { type: 'sum', field: 'quantity' } } }),
    defineView(usage, { name: 'meter_by_day', dimensions: ['meter', 'plan'], granularity: 'day', measures: { quantity: { type: 'sum', field: 'quantity' }, peak: { type: 'max', field: 'quantity' } } }),
    defineView(usage, { name: 'active_customers_day', dimensions: ['plan'], granularity: 'day', measures: { customers: { type: 'countDistinct', field: 'customer' } } }),
    defineView(usage, { name: 'quantity_spread_hour', dimensions: ['meter'], granularity: 'hour', measures: { spread: { type: 'quantiles', field: 'quantity' } } }),
    defineView(usage, { name: 'region_minute', dimensions: ['region'], granularity: 'minute', measures: { events: { type: 'count' }, avgQuantity: { type: 'avg', field: 'quantity' } } }),
  ],
});

/** Event `n` of a stream of `total`: 30 days of usage, the customers skewed so a few bill most. */
export function meteringEvent(n: number, total: number): Record<string, unknown> {
  const customer = Math.floor(CUSTOMERS * ((n * 2654435761) % 4294967296 / 4294967296) ** 2);
  return {
    eventId: `ev-${n}`,
    at: START + Math.floor((n / total) * 30 * 86_400_000),
    customer: `cus_${customer}`,
    meter: METERS[n % METERS.length],
    plan: PLANS[customer % PLANS.length],
    region: REGIONS[(n >>> 3) % REGIONS.length],
    quantity: ((n * 7919) % 100_000) / 1000,
  };
}
