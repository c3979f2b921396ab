/**
 * A metering schema whose events carry a customer id, the values an
 * erasure names, and the search a test makes for them in every file of a
 * data directory: raw bytes in every file, and every cell of every Parquet
 * file read back (Parquet compresses, so its bytes alone prove nothing).
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { defineConfig, defineEventType, defineView, Tandem, type Query, type QueryRow } from '../../src/index.ts';
import { canonicalRows } from './reference.ts';
import { withTempDir } from './temp-dir.ts';

export const usage = defineEventType({
  name: 'usage', time: 'at', idempotencyKey: 'id',
  fields: { id: 'string', at: 'timestamp', customer: 'string', plan: 'string', units: { type: 'number', scale: 0 } },
});
export const byCustomer = defineView(usage, {
  name: 'by_customer', dimensions: ['customer'], granularity: 'day',
  measures: { events: { type: 'count' }, units: { type: 'sum', field: 'units' }, ids: { type: 'countDistinct', field: 'id' } },
});
export const byPlan = defineView(usage, {
  name: 'by_plan', dimensions: ['plan'], granularity: 'hour',
  measures: { events: { type: 'count' }, units: { type: 'sum', field: 'units' }, p: { type: 'quantiles', field: 'units', quantiles: [0.5, 0.9] } },
});
export const erasureConfig = defineConfig({ eventTypes: [usage], views: [byCustomer, byPlan] });

/** The customer every erasure test erases: a value no other byte sequence of the data directory holds by chance. */
export const ERASED_CUSTOMER = 'cust-erase-me-7f3a91';

export interface UsageEvent {
  readonly id: string;
  readonly at: number;
  readonly customer: string;
  readonly plan: string;
  readonly units: number;
}

/** `n` events from `start`, one customer in `every` being {@link ERASED_CUSTOMER}, with ids naming their customer (so an erased id is findable too). */
export function usageEvents(start: number, n: number, every = 7, base = Date.UTC(2025, 0, 1)): UsageEvent[] {
  return Array.from({ length: n }, (_, k) => {
    const i = start + k;
    const customer = i % every === 0 ? ERASED_CUSTOMER : `cust-${i % 13}`;
    return { id: `${customer}-order-${i}`, at: base + i * 60_000, customer, plan: ['free', 'pro', 'team'][i % 3]!, units: (i * 7919) % 100 };
  });
}

/** Every file under `dir` whose bytes, or (for Parquet) whose cells, contain `needle`. */
export async function filesHolding(dir: string, needle: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files = entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
  const found: string[] = [];
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    for (const file of files) {
      // A scratch file of a background export may be gone between the listing and the read: it holds nothing then.
      const bytes = await readFile(file).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return undefined;
        throw error;
      });
      if (bytes === undefined) continue;
      if (bytes.includes(needle)) found.push(file);
      else if (file.endsWith('.parquet')) {
        const read = await connection.runAndReadAll(`SELECT count(*) FROM read_parquet('${file.replaceAll("'", "''")}') t WHERE contains(CAST(t AS VARCHAR), '${needle}')`);
        if (Number(read.getRows()[0]![0]) > 0) found.push(file);
      }
    }
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
  return found;
}

/** The queries the erasure tests compare answers by: two of by_customer, then two of by_plan. */
export const ERASURE_QUERIES: readonly Query[] = [
  { view: byCustomer.name, groupBy: ['customer'], granularity: 'all' },
  { view: byCustomer.name, groupBy: ['customer'] },
  { view: byPlan.name, groupBy: ['plan'] },
  { view: byPlan.name, granularity: 'all' },
];

/** What answers a query: an engine, or a cluster node. */
interface Answering {
  query(query: Query): Promise<{ readonly rows: readonly QueryRow[] }>;
}

/** The merged answers of {@link ERASURE_QUERIES}, to compare an engine with one that never saw the erased events. */
export async function answers(engine: Answering): Promise<string[]> {
  const out: string[] = [];
  for (const query of ERASURE_QUERIES) out.push(JSON.stringify(canonicalRows((await engine.query(query)).rows)));
  return out;
}

/** A cluster node's answers to {@link ERASURE_QUERIES} once it applied `position`, as {@link reference} renders an engine's. */
export function answersAfter(node: Answering, position: readonly number[]): Promise<string[]> {
  return answers({ query: (query) => node.query({ ...query, after: [...position] }) });
}

/** What an engine answers that only ever stored `events`. */
export async function reference(events: readonly UsageEvent[]): Promise<string[]> {
  return withTempDir(async (dir) => {
    const engine = await Tandem.open({ dataDir: dir, config: erasureConfig });
    try {
      await engine.ingest('usage', events);
      return await answers(engine);
    } finally {
      await engine.close();
    }
  });
}

