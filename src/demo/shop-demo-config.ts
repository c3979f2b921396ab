/**
 * The demo's definitions: an online shop with page views, add-to-cart events
 * and orders, and the views a product team would watch.
 *
 * @module
 */
import { defineConfig, defineEventType, defineView } from '../definitions/index.ts';

export const pageView = defineEventType({
  name: 'page_view',
  time: 'at',
  idempotencyKey: 'viewId',
  fields: { viewId: 'string', at: 'timestamp', userId: 'string', page: 'string', country: 'string', device: 'string' },
});

export const addToCart = defineEventType({
  name: 'add_to_cart',
  time: 'at',
  idempotencyKey: 'cartEventId',
  fields: {
    cartEventId: 'string', at: 'timestamp', userId: 'string', productId: 'string', category: 'string', country: 'string',
    quantity: { type: 'number', scale: 0 }, price: { type: 'number', scale: 2 },
  },
});

export const order = defineEventType({
  name: 'order',
  time: 'at',
  idempotencyKey: 'orderId',
  fields: {
    orderId: 'string', at: 'timestamp', userId: 'string', country: 'string', currency: 'string',
    // What the customer paid, in their currency; and the same in US dollars, so that countries compare.
    amount: { type: 'number', scale: 2 }, amountUsd: { type: 'number', scale: 2 },
    items: { type: 'number', scale: 0 }, coupon: { type: 'string', optional: true },
  },
});

export const demoConfig = defineConfig({
  eventTypes: [pageView, addToCart, order],
  views: [
    defineView(pageView, {
      name: 'traffic_by_country',
      dimensions: ['country', 'device'],
      granularity: 'hour',
      measures: { views: { type: 'count' } },
    }),
    defineView(addToCart, {
      name: 'cart_adds_by_category',
      dimensions: ['category', 'country'],
      granularity: 'hour',
      measures: { adds: { type: 'count' }, units: { type: 'sum', field: 'quantity' }, value: { type: 'sum', field: 'price' } },
    }),
    defineView(order, {
      name: 'revenue_by_country',
      dimensions: ['country', 'currency'],
      granularity: 'hour',
      measures: {
        // In US dollars: summed over countries it means something, where yen and euros added up would not.
        revenue: { type: 'sum', field: 'amountUsd' },
        orders: { type: 'count' },
        basket: { type: 'avg', field: 'amountUsd' },
        largest: { type: 'max', field: 'amountUsd' },
        buyers: { type: 'countDistinct', field: 'userId' },
        // In the customer's own currency: read it grouped by currency.
        revenue_local: { type: 'sum', field: 'amount' },
      },
      filter: [{ field: 'amount', op: '>', value: 0 }],
    }),
    defineView(order, {
      name: 'orders_per_minute',
      dimensions: ['currency'],
      granularity: 'minute',
      measures: { orders: { type: 'count' }, revenue: { type: 'sum', field: 'amountUsd' }, basket: { type: 'quantiles', field: 'amountUsd', quantiles: [0.5, 0.9, 0.99] } },
    }),
  ],
});
