import { defineConfig, defineEventType, defineView } from '../../src/index.ts';

/** A small shop schema exercising every measure, granularity, optional fields and filters. */
export const order = defineEventType({
  name: 'order',
  time: 'at',
  idempotencyKey: 'id',
  fields: {
    id: 'string',
    at: 'timestamp',
    country: 'string',
    device: { type: 'string', optional: true },
    mobile: 'boolean',
    amount: { type: 'number', scale: 2 },
    qty: { type: 'number', scale: 0 },
  },
});

export const views = [
  defineView(order, {
    name: 'by_country_hour',
    dimensions: ['country'],
    granularity: 'hour',
    measures: {
      orders: { type: 'count' },
      revenue: { type: 'sum', field: 'amount' },
      smallest: { type: 'min', field: 'amount' },
      latest: { type: 'max', field: 'at' },
      basket: { type: 'avg', field: 'amount' },
      devices: { type: 'countDistinct', field: 'device' },
      spread: { type: 'quantiles', field: 'amount', quantiles: [0.5, 0.9] },
    },
  }),
  defineView(order, {
    name: 'by_device_week',
    dimensions: ['device', 'mobile'],
    granularity: 'week',
    measures: { orders: { type: 'count' }, items: { type: 'sum', field: 'qty' }, biggest: { type: 'max', field: 'amount' } },
    filter: [{ field: 'amount', op: '>', value: 0 }],
  }),
  defineView(order, {
    name: 'totals_month',
    dimensions: [],
    granularity: 'month',
    measures: { orders: { type: 'count' }, revenue: { type: 'sum', field: 'amount' }, earliest: { type: 'min', field: 'at' } },
    filter: [{ field: 'country', op: 'in', value: ['DE', 'FR', 'US'] }],
  }),
  defineView(order, {
    name: 'by_country_minute',
    dimensions: ['country', 'qty'],
    granularity: 'minute',
    measures: { orders: { type: 'count' }, basket: { type: 'avg', field: 'amount' } },
    filter: [{ field: 'mobile', op: '=', value: true }],
  }),
  defineView(order, {
    name: 'all_time',
    dimensions: ['country'],
    granularity: 'none',
    measures: { orders: { type: 'count' }, revenue: { type: 'sum', field: 'amount' }, sizes: { type: 'countDistinct', field: 'qty' }, typical: { type: 'quantiles', field: 'qty' } },
  }),
];

export const shopConfig = defineConfig({ eventTypes: [order], views });
