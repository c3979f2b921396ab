/**
 * The history bench's event types: `sale` declares no idempotency key (the
 * fast path, measured against DuckDB's own COPY), `order` declares one
 * (each key checked against the stored ones and indexed).
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { join } from 'node:path';
import { defineConfig, defineEventType, defineView } from '../../src/index.ts';

const fields = {
  at: 'timestamp',
  country: 'string',
  device: { type: 'string', optional: true },
  mobile: 'boolean',
  amount: { type: 'number', scale: 2 },
  qty: { type: 'number', scale: 0 },
} as const;

export const sale = defineEventType({ name: 'sale', time: 'at', fields });
export const order = defineEventType({ name: 'order', time: 'at', idempotencyKey: 'id', fields: { id: 'string', ...fields } });

export const historyBenchConfig = defineConfig({
  eventTypes: [sale, order],
  views: [
    defineView(sale, { name: 'sales_by_country_day', dimensions: ['country'], granularity: 'day', measures: { sales: { type: 'count' }, revenue: { type: 'sum', field: 'amount' } } }),
    defineView(order, { name: 'orders_by_country_day', dimensions: ['country'], granularity: 'day', measures: { orders: { type: 'count' }, revenue: { type: 'sum', field: 'amount' } } }),
  ],
});

/** DuckDB SQL writing `rows` events of the bench's shape to `path` (an `id` column too, which `sale` ignores only when asked). */
export function generateSql(rows: number, path: string, withId: boolean): string {
  const id = withId ? `'o' || i AS id, ` : '';
  // hash() scatters the values as real data would: regular sequences flatter Parquet's delta and dictionary encodings.
  return `COPY (SELECT ${id}TIMESTAMP '2020-01-01' + INTERVAL (CAST(hash(i) % 1000000007 AS BIGINT) % 157680000) SECOND AS at, ['DE', 'FR', 'US', 'GB', 'BR'][1 + CAST(hash(i + 1) % 1000000007 AS BIGINT) % 5] AS country,
    CASE WHEN CAST(hash(i + 2) % 1000000007 AS BIGINT) % 3 = 0 THEN NULL ELSE ['ios', 'android', 'web'][1 + CAST(hash(i + 3) % 1000000007 AS BIGINT) % 3] END AS device, CAST(hash(i + 4) % 1000000007 AS BIGINT) % 2 = 0 AS mobile,
    CAST((CAST(hash(i + 5) % 1000000007 AS BIGINT) % 100000) / 100.0 AS DECIMAL(18, 2)) AS amount, CAST(CAST(hash(i + 6) % 1000000007 AS BIGINT) % 7 AS BIGINT) AS qty FROM range(${Math.trunc(rows)}) t(i))
    TO '${path.replaceAll("'", "''")}' (FORMAT parquet, COMPRESSION snappy)`;
}

/** Writes the bench's file of `rows` events into `dir` (`orders.parquet` with an `id`, else `sales.parquet`); resolves with its path. */
export async function writeBenchFile(dir: string, rows: number, withId: boolean): Promise<string> {
  const path = join(dir, withId ? 'orders.parquet' : 'sales.parquet');
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    await connection.run(generateSql(rows, path, withId));
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
  return path;
}
