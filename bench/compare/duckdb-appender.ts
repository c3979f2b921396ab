/**
 * The DuckDB peer: a raw events table in a database file, appended to with
 * the Appender (one flush, a commit, per batch), aggregated at query time.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ComparedSystem } from './system.ts';
import { DAY, type PointAnswer, type TopRow, type UsageEvent } from './workload.ts';

export class DuckDbAppender implements ComparedSystem {
  readonly name = 'DuckDB: Appender + GROUP BY';
  readonly durability = 'write-ahead log at each flush';
  #dir = '';
  #instance: DuckDBInstance | undefined;
  #connection: DuckDBConnection | undefined;
  /** One connection appends: batches queue behind each other. */
  #tail: Promise<void> = Promise.resolve();

  async open(): Promise<void> {
    this.#dir = await mkdtemp(join(tmpdir(), 'tandem-compare-duckdb-'));
    this.#instance = await DuckDBInstance.create(join(this.#dir, 'bench.duckdb'));
    this.#connection = await this.#instance.connect();
    await this.#connection.run('CREATE TABLE events ("at" BIGINT, customer VARCHAR, region VARCHAR, units INTEGER, cost_cents BIGINT)');
  }

  ingest(events: readonly UsageEvent[]): Promise<void> {
    const run = this.#tail.then(() => this.#append(events));
    this.#tail = run.catch(() => undefined);
    return run;
  }

  async #append(events: readonly UsageEvent[]): Promise<void> {
    const appender = await this.#connection!.createAppender('events');
    try {
      for (const e of events) {
        appender.appendBigInt(BigInt(e.at));
        appender.appendVarchar(e.customer);
        appender.appendVarchar(e.region);
        appender.appendInteger(e.units);
        appender.appendBigInt(BigInt(Math.round(e.cost * 100)));
        appender.endRow();
      }
      appender.flushSync();
    } finally {
      appender.closeSync();
    }
  }

  async point(customer: string, dayStart: number): Promise<PointAnswer> {
    const reader = await this.#connection!.runAndReadAll(
      'SELECT count(*), coalesce(sum(units), 0), coalesce(sum(cost_cents), 0) FROM events WHERE customer = $1 AND "at" >= $2 AND "at" < $3',
      [customer, BigInt(dayStart), BigInt(dayStart + DAY)],
    );
    const [n, units, cost] = reader.getRowsJS()[0]!;
    return { n: Number(n), units: Number(units), costCents: Number(cost) };
  }

  async top10(): Promise<TopRow[]> {
    const reader = await this.#connection!.runAndReadAll('SELECT customer, sum(units) AS u FROM events GROUP BY customer ORDER BY u DESC, customer LIMIT 10');
    return reader.getRowsJS().map(([customer, units]) => ({ customer: String(customer), units: Number(units) }));
  }

  async close(): Promise<void> {
    this.#connection?.closeSync();
    this.#instance?.closeSync();
    await rm(this.#dir, { recursive: true, force: true });
  }
}
