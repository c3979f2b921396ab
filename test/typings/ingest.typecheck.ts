/**
 * Type-level tests of the embedded engine's ingest: compiled by `npm run
 * typecheck`, never run. Each `@ts-expect-error` fails the type-check if
 * the line below it compiles.
 */
import { Tandem, type IngestResult, type TandemConfig } from '../../src/index.ts';
import type { ServedEngine } from '../../src/engine/index.ts';
import { shopConfig } from '../support/shop-config.ts';
import { assertType, valueOf, type Equal } from './type-assert.ts';

const tandem = await Tandem.open({ dataDir: '/tmp/never', config: shopConfig });

// Events are typed from the event type's fields, as the client's are.
export const ok: Promise<IngestResult> = tandem.ingest('order', [
  { id: 'o1', at: '2024-05-01T12:00:00Z', country: 'DE', mobile: true, amount: 19.99, qty: 1 },
  { id: 'o2', at: 1714564800000, country: 'FR', mobile: false, amount: '12.50', qty: 2, device: null },
]);
// @ts-expect-error: a misspelt event type
await tandem.ingest('ordr', [{ id: 'o1', at: 0, country: 'DE', mobile: true, amount: 1, qty: 1 }]);
// @ts-expect-error: a misspelt field
await tandem.ingest('order', [{ id: 'o1', at: 0, contry: 'DE', mobile: true, amount: 1, qty: 1 }]);
// @ts-expect-error: a required field left out
await tandem.ingest('order', [{ id: 'o1', at: 0, mobile: true, amount: 1, qty: 1 }]);
// @ts-expect-error: a boolean field given text
await tandem.ingest('order', [{ id: 'o1', at: 0, country: 'DE', mobile: 'yes', amount: 1, qty: 1 }]);

// An event type known only at run time, or events of no known shape, go through ingestUntyped.
const someType = valueOf<string>();
const parsed = valueOf<Record<string, unknown>[]>();
export const dynamic: Promise<IngestResult> = tandem.ingestUntyped(someType, parsed);
// @ts-expect-error: ingest itself takes only the config's event types
await tandem.ingest(someType, parsed);
// @ts-expect-error: and only events of the type's shape
await tandem.ingest('order', parsed);

// A typed engine still serves: it is a plain Tandem and a ServedEngine, which take any name.
export const plain: Tandem = tandem;
export const served: ServedEngine = tandem;
export const servedIngest: Promise<IngestResult> = served.ingest(someType, parsed);

// A config that is not literal (JSON, or typed as TandemConfig) takes any name and events.
const untyped = await Tandem.open({ dataDir: '/tmp/never', config: valueOf<unknown>() });
export const anyIngest: Promise<IngestResult> = untyped.ingest('whatever', [{ x: 1 }, 'not even an object']);
const wide = await Tandem.open({ dataDir: '/tmp/never', config: valueOf<TandemConfig>() });
export const wideIngest: Promise<IngestResult> = wide.ingest(someType, parsed);
assertType<Equal<Parameters<typeof wide.ingest>[1], readonly unknown[]>>();

// Embedded, how many events an ingest newly stored is always known (issue #32).
export const storedHere: Promise<number> = tandem.ingest('order', []).then((r) => r.stored);
