/**
 * Type-level tests of typed definitions and the embedded engine's query:
 * compiled by `npm run typecheck`, never run. Each `@ts-expect-error` fails
 * the type-check if the line below it compiles.
 */
import { defineConfig, defineEventType, defineView, Tandem, type QueryResult, type QueryRow, type TandemConfig } from '../../src/index.ts';
import type { EventOf, EventTypeName, ViewName } from '../../src/definitions/index.ts';
import { assertType, valueOf, type Equal } from './type-assert.ts';

const order = defineEventType({
  name: 'order',
  time: 'at',
  idempotencyKey: 'orderId',
  idempotencyWindow: 1000,
  fields: {
    orderId: 'string', at: 'timestamp', country: 'string', mobile: 'boolean',
    amount: { type: 'number', scale: 2 }, qty: { type: 'number', scale: 0 }, coupon: { type: 'string', optional: true },
  },
});
const revenue = defineView(order, {
  name: 'revenue_by_country',
  dimensions: ['country', 'mobile', 'qty'],
  granularity: 'hour',
  measures: {
    orders: { type: 'count' },
    revenue: { type: 'sum', field: 'amount' },
    basket: { type: 'avg', field: 'amount' },
    largest: { type: 'max', field: 'amount' },
    latest: { type: 'max', field: 'at' },
  },
});
const totals = defineView(order, { name: 'totals', dimensions: [], granularity: 'none', measures: { n: { type: 'count' } } });
const config = defineConfig({ eventTypes: [order], views: [revenue, totals] });
type Config = typeof config;

// The definitions keep their literal types, and stay valid JSON configs.
assertType<Equal<typeof order.name, 'order'>>();
assertType<Equal<typeof revenue.name, 'revenue_by_country'>>();
assertType<Equal<typeof revenue.eventType, 'order'>>();
assertType<Equal<typeof revenue.dimensions, readonly ['country', 'mobile', 'qty']>>();
assertType<Equal<typeof revenue.granularity, 'hour'>>();
assertType<Equal<typeof revenue.measures.revenue, { readonly type: 'sum'; readonly field: 'amount' }>>();
assertType<Equal<ViewName<Config>, 'revenue_by_country' | 'totals'>>();
assertType<Equal<EventTypeName<Config>, 'order'>>();
export const asJson: TandemConfig = config;

// Events: required and optional fields, value types; timestamps as ISO text or epoch ms.
assertType<Equal<EventOf<Config, 'order'>, {
  readonly orderId: string; readonly at: string | number; readonly country: string; readonly mobile: boolean;
  readonly amount: number | `${number}`; readonly qty: number | `${number}`; readonly coupon?: string | null;
}>>();

const tandem = await Tandem.open({ dataDir: '/tmp/never', config });
assertType<Equal<typeof tandem, Tandem<Config>>>();

// Rows: grouped dimensions with their value types, time unless 'all', each measure as the engine returns it.
const byCountry = await tandem.query({ view: 'revenue_by_country', groupBy: ['country', 'qty'], granularity: 'all' });
assertType<Equal<(typeof byCountry.rows)[number], {
  readonly country: string | null; readonly qty: number | null;
  readonly orders: number; readonly revenue: number | string; readonly basket: number | string | null; readonly largest: number | string | null; readonly latest: string | null;
}>>();
export const hourly = await tandem.query({ view: 'revenue_by_country', where: { mobile: true, country: ['DE', 'FR'] }, orderBy: [{ measure: 'revenue', desc: true }], limit: 3 });
assertType<Equal<(typeof hourly.rows)[number], {
  readonly time: string; readonly orders: number; readonly revenue: number | string; readonly basket: number | string | null; readonly largest: number | string | null; readonly latest: string | null;
}>>();
export const daily = await tandem.query({ view: 'revenue_by_country', granularity: 'day', groupBy: ['mobile'] });
assertType<Equal<(typeof daily.rows)[number]['time'], string>>();
assertType<Equal<(typeof daily.rows)[number]['mobile'], boolean | null>>();
// A view without time buckets answers rolled up into 'all': no time column.
export const all = await tandem.query({ view: 'totals' });
assertType<Equal<(typeof all.rows)[number], { readonly n: number }>>();
// A granularity only known at run time may be 'all': time may be missing.
const someGranularity = valueOf<'day' | 'all'>();
export const maybeTimed = await tandem.query({ view: 'revenue_by_country', granularity: someGranularity });
assertType<Equal<(typeof maybeTimed.rows)[number]['time'], string | undefined>>();
// Typed rows still are rows.
export const plain: readonly QueryRow[] = byCountry.rows;

// @ts-expect-error: a misspelt view
await tandem.query({ view: 'revenue_by_contry' });
// @ts-expect-error: a misspelt dimension in groupBy
await tandem.query({ view: 'revenue_by_country', groupBy: ['contry'] });
// @ts-expect-error: a misspelt dimension in where
await tandem.query({ view: 'revenue_by_country', where: { contry: 'DE' } });
// @ts-expect-error: a where value of the wrong type
await tandem.query({ view: 'revenue_by_country', where: { mobile: 'yes' } });
// @ts-expect-error: a misspelt measure in orderBy
await tandem.query({ view: 'revenue_by_country', orderBy: [{ measure: 'revenu' }] });
// @ts-expect-error: a dimension of another view
await tandem.query({ view: 'totals', groupBy: ['country'] });
// @ts-expect-error: an hourly view does not answer by minute
await tandem.query({ view: 'revenue_by_country', granularity: 'minute' });
// @ts-expect-error: a view without time answers only 'all'
await tandem.query({ view: 'totals', granularity: 'day' });
// @ts-expect-error: an unknown query key
await tandem.query({ view: 'totals', limt: 3 });

// A query whose view is a run-time string goes through queryUntyped, and is answered untyped.
const dynamic = valueOf<{ view: string; groupBy: string[] }>();
export const untypedAnswer = await tandem.queryUntyped(dynamic);
assertType<Equal<typeof untypedAnswer, QueryResult<QueryRow>>>();
// @ts-expect-error: query itself takes only the config's views
await tandem.query(dynamic);

// Views of a union, as code looping over the config writes them.
for (const view of config.views) await tandem.query({ view: view.name, granularity: 'all', groupBy: [...view.dimensions] });

// A typed engine is a Tandem where one is expected (the server takes a plain one).
export const asPlain: Tandem = tandem;

// An untyped (JSON) config: any names compile, rows are QueryRow.
const json: unknown = JSON.parse('{}');
const untyped = await Tandem.open({ dataDir: '/tmp/never', config: json });
export const answer = await untyped.query({ view: 'anything', groupBy: ['at', 'all'], orderBy: [{ measure: 'x' }] });
assertType<Equal<typeof answer, QueryResult<QueryRow>>>();
const wide: TandemConfig = config;
export const wideEngine = await Tandem.open({ dataDir: '/tmp/never', config: wide });
assertType<Equal<Awaited<ReturnType<typeof wideEngine.query>>, QueryResult<QueryRow>>>();

// Definitions are still checked where they are written.
defineView(order, {
  name: 'v', dimensions: ['country'], granularity: 'day', measures: { n: { type: 'count' } },
  // @ts-expect-error: an unknown key in a view
  extra: true,
});

// A config written as a literal `as const` (no define* helpers) is typed the same way.
const literal = {
  eventTypes: [{ name: 'visit', time: 'at', fields: { at: 'timestamp', page: 'string', ms: { type: 'number', scale: 0, optional: true } } }],
  views: [{ name: 'pages', eventType: 'visit', dimensions: ['page'], granularity: 'day', measures: { visits: { type: 'count' }, slowest: { type: 'max', field: 'ms' }, slow: { type: 'count', filter: [{ field: 'ms', op: '>=', value: 1000 }] } } }],
} as const satisfies TandemConfig;
const literalEngine = await Tandem.open({ dataDir: '/tmp/never', config: literal });
export const pages = await literalEngine.query({ view: 'pages', groupBy: ['page'], granularity: 'month' });
assertType<Equal<(typeof pages.rows)[number], { readonly page: string | null; readonly time: string; readonly visits: number; readonly slowest: number | null; readonly slow: number }>>();
assertType<Equal<EventOf<typeof literal, 'visit'>, { readonly at: string | number; readonly page: string; readonly ms?: number | `${number}` | null }>>();
// @ts-expect-error: a misspelt dimension against a literal config
await literalEngine.query({ view: 'pages', groupBy: ['pag'] });

// A view without time buckets takes no from or to; a timed one takes ISO text or epoch ms.
await tandem.query({ view: 'revenue_by_country', from: '2024-05-01T00:00:00Z', to: Date.UTC(2024, 4, 2) });
// @ts-expect-error: 'totals' has no time buckets
await tandem.query({ view: 'totals', from: '2024-05-01T00:00:00Z' });

// orderBy takes measures, the dimensions the query groups by, and the time.
export const byDimension = await tandem.query({ view: 'revenue_by_country', groupBy: ['country'], orderBy: [{ dimension: 'country', desc: true }, { time: true }, { measure: 'orders' }] });
// @ts-expect-error: a dimension the query does not group by
await tandem.query({ view: 'revenue_by_country', groupBy: ['country'], orderBy: [{ dimension: 'qty' }] });

// A quantiles measure answers one key per quantile its definition lists, each number | null.
const spread = defineView(order, { name: 'spread', dimensions: ['country'], granularity: 'day', measures: { amounts: { type: 'quantiles', field: 'amount', quantiles: [0.25, 0.999] } } });
const byAmount = defineView(order, { name: 'by_amount', dimensions: ['amount', 'qty'], granularity: 'day', measures: { n: { type: 'count' } } });
const spreadEngine = await Tandem.open({ dataDir: '/tmp/never', config: defineConfig({ eventTypes: [order], views: [spread, byAmount] }) });
export const spreadRows = await spreadEngine.query({ view: 'spread', granularity: 'all' });
assertType<Equal<(typeof spreadRows.rows)[number], { readonly amounts: { readonly p25: number | null; readonly 'p99.9': number | null } }>>();
// @ts-expect-error: 'spread' defines no 0.5 quantile
export const median = spreadRows.rows[0]?.amounts.p50;

// A number dimension with decimals may come back as exact decimal text (the engine answers '90000000000000.01' so); one without, a number.
export const amounts = await spreadEngine.query({ view: 'by_amount', groupBy: ['amount', 'qty'], granularity: 'all' });
assertType<Equal<(typeof amounts.rows)[number], { readonly amount: number | string | null; readonly qty: number | null; readonly n: number }>>();

// Number forms (issue #32): one type per count and sum column, as the query's `numbers` says.
export const asText = await tandem.query({ view: 'revenue_by_country', groupBy: ['country'], granularity: 'all', numbers: 'text' });
assertType<Equal<(typeof asText.rows)[number], {
  readonly country: string | null;
  readonly orders: string; readonly revenue: string; readonly basket: number | string | null; readonly largest: number | string | null; readonly latest: string | null;
}>>();
export const asBigint = await tandem.query({ view: 'revenue_by_country', granularity: 'all', numbers: 'bigint' });
// A count is a bigint; a sum of a field with decimals cannot be, and is exact text.
assertType<Equal<(typeof asBigint.rows)[number]['orders'], bigint>>();
assertType<Equal<(typeof asBigint.rows)[number]['revenue'], string>>();
export const asAuto = await tandem.query({ view: 'totals', numbers: 'auto' });
assertType<Equal<(typeof asAuto.rows)[number]['n'], number>>();
// @ts-expect-error: not a number form
await tandem.query({ view: 'totals', numbers: 'float' });
