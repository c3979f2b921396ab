/**
 * The PostgreSQL peers, in a database the harness creates and drops:
 * a raw events table loaded with COPY and aggregated at query time, and a
 * summary table kept by batched INSERT ... ON CONFLICT DO UPDATE upserts.
 */
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { PeerUnavailableError, type ComparedSystem } from './system.ts';
import { DAY, HOUR, type PointAnswer, type TopRow, type UsageEvent } from './workload.ts';

const ADMIN = { host: '127.0.0.1', port: 5432, user: process.env.PGUSER ?? 'postgres', database: 'postgres' };
const POOL_SIZE = 8;

abstract class PostgresSystem implements ComparedSystem {
  abstract readonly name: string;
  readonly durability = 'fsync of the WAL at commit (synchronous_commit on)';
  protected pool: pg.Pool | undefined;
  readonly #database = `tandem_bench_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;

  async open(): Promise<void> {
    const admin = new pg.Client(ADMIN);
    try {
      await admin.connect();
    } catch (error) {
      throw new PeerUnavailableError(`PostgreSQL is not reachable on 127.0.0.1:5432 (${(error as Error).message})`);
    }
    try {
      await admin.query(`CREATE DATABASE ${this.#database}`);
    } finally {
      await admin.end();
    }
    this.pool = new pg.Pool({ ...ADMIN, database: this.#database, max: POOL_SIZE });
    // An idle client whose backend ends (the database is dropped at close) reports here; nothing is lost.
    this.pool.on('error', () => undefined);
    await this.pool.query(this.schema());
  }

  protected abstract schema(): string;
  abstract ingest(events: readonly UsageEvent[]): Promise<void>;
  abstract point(customer: string, dayStart: number): Promise<PointAnswer>;
  abstract top10(): Promise<TopRow[]>;

  protected async one(sql: string, values: unknown[]): Promise<PointAnswer> {
    const { rows } = await this.pool!.query({ text: sql, values, rowMode: 'array' });
    const [n, units, cost] = rows[0] as [string, string, string];
    return { n: Number(n), units: Number(units), costCents: Number(cost) };
  }

  protected async top(sql: string): Promise<TopRow[]> {
    const { rows } = await this.pool!.query({ text: sql, rowMode: 'array' });
    return (rows as [string, string][]).map(([customer, units]) => ({ customer, units: Number(units) }));
  }

  async close(): Promise<void> {
    await this.pool?.end();
    const admin = new pg.Client(ADMIN);
    await admin.connect();
    try {
      await admin.query(`DROP DATABASE IF EXISTS ${this.#database} WITH (FORCE)`);
    } finally {
      await admin.end();
    }
  }
}

/** Raw events, COPY per batch, an index on (customer, at), GROUP BY at query time. */
export class PostgresRaw extends PostgresSystem {
  readonly name = 'PostgreSQL 15: COPY + GROUP BY';

  protected schema(): string {
    return `CREATE TABLE events (at bigint NOT NULL, customer text NOT NULL, region text NOT NULL, units int NOT NULL, cost_cents bigint NOT NULL);
      CREATE INDEX events_customer_at ON events (customer, at)`;
  }

  async ingest(events: readonly UsageEvent[]): Promise<void> {
    const client = await this.pool!.connect();
    try {
      const text = events.map((e) => `${e.at}\t${e.customer}\t${e.region}\t${e.units}\t${Math.round(e.cost * 100)}\n`).join('');
      await pipeline(Readable.from([text]), client.query(copyFrom('COPY events FROM STDIN')));
    } finally {
      client.release();
    }
  }

  async prepareQueries(): Promise<void> {
    await this.pool!.query('ANALYZE events');
  }

  point(customer: string, dayStart: number): Promise<PointAnswer> {
    return this.one('SELECT count(*), coalesce(sum(units), 0), coalesce(sum(cost_cents), 0) FROM events WHERE customer = $1 AND at >= $2 AND at < $3', [customer, dayStart, dayStart + DAY]);
  }

  top10(): Promise<TopRow[]> {
    return this.top('SELECT customer, sum(units) AS u FROM events GROUP BY customer ORDER BY u DESC, customer COLLATE "C" LIMIT 10');
  }
}

/** A summary table per (customer, hour), one upsert statement per batch, pre-aggregated and in key order (no deadlocks between batches). */
export class PostgresUpsert extends PostgresSystem {
  readonly name = 'PostgreSQL 15: ON CONFLICT upserts';

  protected schema(): string {
    return `CREATE TABLE summary (customer text NOT NULL, hour bigint NOT NULL, n bigint NOT NULL, units bigint NOT NULL, cost_cents bigint NOT NULL, PRIMARY KEY (customer, hour))`;
  }

  async ingest(events: readonly UsageEvent[]): Promise<void> {
    await this.pool!.query(
      `INSERT INTO summary
         SELECT customer, (at / ${HOUR}) * ${HOUR}, count(*), sum(units), sum(cost) FROM unnest($1::text[], $2::bigint[], $3::int[], $4::bigint[]) AS t(customer, at, units, cost)
         GROUP BY 1, 2 ORDER BY 1, 2
       ON CONFLICT (customer, hour) DO UPDATE SET n = summary.n + excluded.n, units = summary.units + excluded.units, cost_cents = summary.cost_cents + excluded.cost_cents`,
      [events.map((e) => e.customer), events.map((e) => e.at), events.map((e) => e.units), events.map((e) => Math.round(e.cost * 100))],
    );
  }

  point(customer: string, dayStart: number): Promise<PointAnswer> {
    return this.one('SELECT coalesce(sum(n), 0), coalesce(sum(units), 0), coalesce(sum(cost_cents), 0) FROM summary WHERE customer = $1 AND hour >= $2 AND hour < $3', [customer, dayStart, dayStart + DAY]);
  }

  top10(): Promise<TopRow[]> {
    return this.top('SELECT customer, sum(units) AS u FROM summary GROUP BY customer ORDER BY u DESC, customer COLLATE "C" LIMIT 10');
  }
}
