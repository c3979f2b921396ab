/**
 * Type-level tests: compiled by `npm run typecheck`, never run. Each
 * `@ts-expect-error` fails the type-check if the line below it compiles.
 */
import { defineEventType, defineView } from '../../src/index.ts';

const order = defineEventType({
  name: 'order',
  time: 'at',
  idempotencyKey: 'id',
  fields: { id: 'string', at: 'timestamp', country: 'string', amount: { type: 'number', scale: 2 } },
});

defineView(order, { name: 'ok', dimensions: ['country'], granularity: 'day', measures: { revenue: { type: 'sum', field: 'amount' } } });

// @ts-expect-error: a misspelt dimension
defineView(order, { name: 'v', dimensions: ['contry'], granularity: 'day', measures: { n: { type: 'count' } } });

// @ts-expect-error: sum over a string field
defineView(order, { name: 'v', dimensions: [], granularity: 'day', measures: { s: { type: 'sum', field: 'country' } } });

// @ts-expect-error: a filter value of the wrong type
defineView(order, { name: 'v', dimensions: [], granularity: 'day', measures: { n: { type: 'count' } }, filter: [{ field: 'amount', op: '>', value: 'x' }] });

// @ts-expect-error: the time field must be a timestamp
defineEventType({ name: 'e', time: 'id', fields: { id: 'string', at: 'timestamp' } });

// @ts-expect-error: an unknown granularity
defineView(order, { name: 'v', dimensions: [], granularity: 'fortnight', measures: { n: { type: 'count' } } });

// A measure's own filter: an error rate's two counts in one view, and a filtered sum and sketch.
defineView(order, {
  name: 'filtered_measures', dimensions: ['country'], granularity: 'day',
  measures: {
    orders: { type: 'count' },
    large: { type: 'count', filter: [{ field: 'amount', op: '>=', value: 100 }] },
    german: { type: 'sum', field: 'amount', filter: [{ field: 'country', op: 'in', value: ['DE', 'AT'] }] },
    buyers: { type: 'countDistinct', field: 'id', filter: [{ field: 'amount', op: '>', value: 0 }] },
  },
});

// @ts-expect-error: a measure's filter names a field the event type does not declare
defineView(order, { name: 'v', dimensions: [], granularity: 'day', measures: { n: { type: 'count', filter: [{ field: 'status', op: '>=', value: 500 }] } } });

// @ts-expect-error: a measure's filter value of the wrong type
defineView(order, { name: 'v', dimensions: [], granularity: 'day', measures: { s: { type: 'sum', field: 'amount', filter: [{ field: 'amount', op: '>', value: 'x' }] } } });

// @ts-expect-error: a measure's filter with an `in` that is not a list
defineView(order, { name: 'v', dimensions: [], granularity: 'day', measures: { n: { type: 'count', filter: [{ field: 'country', op: 'in', value: 'DE' }] } } });
