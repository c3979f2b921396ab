/**
 * Type-level tests of `tandem/client`: compiled by `npm run typecheck`,
 * never run. Each `@ts-expect-error` fails the type-check if the line below
 * it compiles.
 */
import {
  createClient, type BatchSummary, type HistoryImportSummary, type HistoryUploadStatus, type IngestResult, type QueryResult, type QueryRow, type ServerDefinitions, type ServerStatus, type TandemClient,
} from '../../src/client/index.ts';
import type { shopConfig } from '../support/shop-config.ts';
import { assertType, valueOf, type Equal } from './type-assert.ts';

const client = createClient<typeof shopConfig>({ url: 'http://127.0.0.1:7070', apiKey: 'k'.repeat(16) });

// Events are typed from the event type's fields.
const ok: Promise<IngestResult> = client.ingest('order', [
  { id: 'o1', at: '2024-05-01T12:00:00Z', country: 'DE', mobile: true, amount: 19.99, qty: 1 },
  { id: 'o2', at: 1714564800000, country: 'FR', mobile: false, amount: 5, qty: 2, device: 'ios' },
  { id: 'o3', at: 1714564800000, country: 'FR', mobile: false, amount: 5, qty: 2, device: null },
]);
export { ok };
// @ts-expect-error: a misspelt event type
await client.ingest('ordr', [{ id: 'o1', at: 0, country: 'DE', mobile: true, amount: 1, qty: 1 }]);
// @ts-expect-error: a misspelt field
await client.ingest('order', [{ id: 'o1', at: 0, contry: 'DE', mobile: true, amount: 1, qty: 1 }]);
// @ts-expect-error: a required field left out
await client.ingest('order', [{ id: 'o1', at: 0, mobile: true, amount: 1, qty: 1 }]);
// @ts-expect-error: a number field given text that is not a number (its exact decimal text, '12.50', is taken)
await client.ingest('order', [{ id: 'o1', at: 0, country: 'DE', mobile: true, amount: 'twelve', qty: 1 }]);
export const decimalText: Promise<IngestResult> = client.ingest('order', [{ id: 'o1', at: 0, country: 'DE', mobile: true, amount: '12.50', qty: 1 }]);
// @ts-expect-error: a timestamp given a Date (send ISO text or epoch ms)
await client.ingest('order', [{ id: 'o1', at: new Date(), country: 'DE', mobile: true, amount: 1, qty: 1 }]);
// @ts-expect-error: null for a required field
await client.ingest('order', [{ id: 'o1', at: 0, country: null, mobile: true, amount: 1, qty: 1 }]);

// An event type name known only at run time goes through ingestUntyped, with untyped events.
const someType: string = valueOf<string>();
export const dynamicIngest: Promise<IngestResult> = client.ingestUntyped(someType, [{ anything: 1 }]);
// @ts-expect-error: ingest itself takes only the config's event types
await client.ingest(someType, [{ anything: 1 }]);

// Queries and rows are typed as the engine's are.
export const byCountry = await client.query({ view: 'by_country_hour', groupBy: ['country'], granularity: 'all', orderBy: [{ measure: 'revenue', desc: true }] });
assertType<Equal<(typeof byCountry.rows)[number], {
  readonly country: string | null; readonly orders: number; readonly revenue: number | string;
  readonly smallest: number | string | null; readonly latest: string | null; readonly basket: number | string | null;
  readonly devices: number; readonly spread: { readonly p50: number | null; readonly p90: number | null };
}>>();
export const weekly = await client.query({ view: 'by_device_week', groupBy: ['device', 'mobile'], layer: 'speed' });
assertType<Equal<(typeof weekly.rows)[number], {
  readonly device: string | null; readonly mobile: boolean | null; readonly time: string;
  readonly orders: number; readonly items: number | string; readonly biggest: number | string | null;
}>>();
export const monthly = await client.query({ view: 'by_country_minute', groupBy: ['qty'], granularity: 'month', where: { qty: [1, 2], country: 'DE' } });
assertType<Equal<(typeof monthly.rows)[number], { readonly qty: number | null; readonly time: string; readonly orders: number; readonly basket: number | string | null }>>();
// A quantiles measure has a key per quantile its definition lists (0.5, 0.9 and 0.99 when it lists none).
export const p90: number | null | undefined = byCountry.rows[0]?.spread.p90;
// @ts-expect-error: 'by_country_hour' defines no 0.75 quantile
export const p75 = byCountry.rows[0]?.spread.p75;
export const allTime = await client.query({ view: 'all_time' });
assertType<Equal<(typeof allTime.rows)[number]['typical'], { readonly p50: number | null; readonly p90: number | null; readonly p99: number | null }>>();
// @ts-expect-error: a misspelt view
await client.query({ view: 'by_country_hr' });
// @ts-expect-error: a misspelt dimension in groupBy
await client.query({ view: 'by_country_hour', groupBy: ['contry'] });
// @ts-expect-error: a misspelt dimension in where
await client.query({ view: 'by_country_hour', where: { contry: 'DE' } });
// @ts-expect-error: a misspelt measure in orderBy
await client.query({ view: 'by_country_hour', orderBy: [{ measure: 'revenu' }] });
// @ts-expect-error: a measure of another view
await client.query({ view: 'all_time', orderBy: [{ measure: 'basket' }] });
// @ts-expect-error: a week view does not roll up into months
await client.query({ view: 'by_device_week', granularity: 'month' });

// A query whose view is known only at run time goes through queryUntyped, and its rows are untyped.
const someQuery = valueOf<{ view: string; groupBy: string[] }>();
export const dynamicAnswer = await client.queryUntyped(someQuery);
assertType<Equal<typeof dynamicAnswer, QueryResult<QueryRow>>>();
// @ts-expect-error: query itself takes only the config's views
await client.query(someQuery);

// The other routes.
export const batch: Promise<BatchSummary> = client.batch();
export const status: Promise<ServerStatus> = client.status({ signal: AbortSignal.timeout(1000) });
export const views: Promise<ServerDefinitions> = client.views();

// A typed client is a TandemClient where one is expected.
export const plain: TandemClient = client;

// Without a config type, names are strings and rows are untyped.
const untyped = createClient({ url: new URL('http://127.0.0.1:7070/tandem/') });
export const anyIngest: Promise<IngestResult> = untyped.ingest('whatever', [{ x: 1 }, 'not even an object']);
export const anyAnswer = await untyped.query({ view: 'anything', groupBy: ['a'], orderBy: [{ measure: 'm' }], granularity: 'all' });
assertType<Equal<typeof anyAnswer, QueryResult<QueryRow>>>();
export const anyDynamic = await untyped.query(someQuery);
assertType<Equal<typeof anyDynamic, QueryResult<QueryRow>>>();

// Number forms (issue #32): over HTTP, `text` makes every count and sum exact decimal text; JSON has no bigint.
export const billed = await client.query({ view: 'by_device_week', granularity: 'all', numbers: 'text' });
assertType<Equal<(typeof billed.rows)[number]['orders'], string>>();
assertType<Equal<(typeof billed.rows)[number]['items'], string>>();
assertType<Equal<(typeof billed.rows)[number]['biggest'], number | string | null>>();
// @ts-expect-error: bigint is the library's form only
await client.query({ view: 'by_device_week', numbers: 'bigint' });
// The ingest answer says how many events were newly stored (null only when a cluster could not count).
export const storedCount: Promise<number | null> = client.ingest('order', []).then((r) => r.stored);

// History uploads take the config's event types, and answer the import's summary; the status may carry one under way.
export const uploaded: Promise<HistoryImportSummary> = client.uploadHistory('order', 'orders-2023.parquet', { onBytes: (sent: number, total: number | undefined) => void [sent, total] });
// @ts-expect-error: a misspelt event type
await client.uploadHistory('ordr', 'orders-2023.parquet');
// @ts-expect-error: a format the server does not know
await client.uploadHistory('order', new Uint8Array(), { format: 'xlsx' });
export const uploadStatus: HistoryUploadStatus | undefined = (await client.status()).history;
