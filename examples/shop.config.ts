import { defineConfig, defineEventType, defineView } from '../src/index.ts';

export const order = defineEventType({
  name: 'order',
  time: 'at',
  idempotencyKey: 'orderId',
  fields: {
    orderId: 'string',
    at: 'timestamp',
    country: 'string',
    currency: 'string',
    amount: { type: 'number', scale: 2 },
    coupon: { type: 'string', optional: true },
  },
});

export const revenueByCountry = defineView(order, {
  name: 'revenue_by_country',
  dimensions: ['country', 'currency'],
  granularity: 'hour',
  measures: {
    orders: { type: 'count' },
    revenue: { type: 'sum', field: 'amount' },
    basket: { type: 'avg', field: 'amount' },
    largest: { type: 'max', field: 'amount' },
  },
  filter: [{ field: 'amount', op: '>', value: 0 }],
});

export default defineConfig({ eventTypes: [order], views: [revenueByCountry] });
