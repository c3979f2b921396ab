/**
 * A shop engine with the PostgreSQL endpoint listening on a free port and
 * the HTTP server beside it (for `POST /v1/sql`'s answers to compare with),
 * for the PostgreSQL wire-protocol suites. Everything it starts stops in
 * {@link PgShop.close}.
 */
import { keyDigest, type ApiKey } from '../../src/definitions/index.ts';
import { PgWireServer } from '../../src/pgwire/index.ts';
import { createServer, type TandemServer } from '../../src/server/index.ts';
import { openShopEngine, type ShopEngine } from './shop-engine.ts';

export const QUERY_KEY = 'query-key-0123456789abcdef';
export const INGEST_KEY = 'ingest-key-0123456789abcdef';

export const KEYS: ApiKey[] = [
  { name: 'analyst', scopes: new Set(['query']), digest: keyDigest(QUERY_KEY) },
  { name: 'loader', scopes: new Set(['ingest']), digest: keyDigest(INGEST_KEY) },
];

export interface PgShop {
  readonly shop: ShopEngine;
  readonly pg: PgWireServer;
  readonly http: TandemServer;
  /** `POST /v1/sql`'s answer to the same statement. */
  sql(text: string, params?: unknown[]): Promise<{ columns: { name: string; type: string }[]; rows: unknown[][] }>;
  close(): Promise<void>;
}

/** The shop, its PostgreSQL port and its HTTP server; with `keys`, both need API keys. */
export async function openPgShop(options: { keys?: boolean; queryTimeoutMs?: number } = {}): Promise<PgShop> {
  const shop = await openShopEngine();
  const apiKeys = options.keys === true ? KEYS : [];
  const limits = options.queryTimeoutMs === undefined ? {} : { queryTimeoutMs: options.queryTimeoutMs };
  let pg: PgWireServer | undefined;
  let http: TandemServer | undefined;
  try {
    pg = await PgWireServer.start({ tandem: shop.tandem, port: 0, apiKeys, limits });
    http = createServer({ tandem: shop.tandem, apiKeys, limits });
  } catch (error) {
    await pg?.close();
    await shop.close();
    throw error;
  }
  const app = http.app;
  return {
    shop, pg, http,
    async sql(text, params) {
      const response = await app.inject({
        method: 'POST', url: '/v1/sql', payload: JSON.stringify({ sql: text, ...(params === undefined ? {} : { params }) }),
        headers: { 'content-type': 'application/json', ...(options.keys === true ? { authorization: `Bearer ${QUERY_KEY}` } : {}) },
      });
      return response.json();
    },
    async close() {
      try {
        await pg!.close();
        await app.close();
      } finally {
        await shop.close();
      }
    },
  };
}
