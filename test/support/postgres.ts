/**
 * The machine's PostgreSQL, as an oracle for exact decimal arithmetic. Where
 * it is out of reach the test is skipped with a visible reason, except under
 * TANDEM_REQUIRE_SERVICES=1 (CI), where that is a failure.
 */
import type { TestContext } from 'node:test';
import pg from 'pg';

/** A connected client to the `test` database on localhost:5432, or undefined after skipping `t` with the reason. */
export async function connectPostgres(t: TestContext): Promise<pg.Client | undefined> {
  const client = new pg.Client({ host: '127.0.0.1', port: 5432, user: process.env.PGUSER ?? 'postgres', database: 'test', connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    return client;
  } catch (error) {
    await client.end().catch(() => undefined);
    const reason = `SKIPPED: PostgreSQL is not reachable on 127.0.0.1:5432 (${(error as Error).message})`;
    if (process.env.TANDEM_REQUIRE_SERVICES === '1') throw new Error(`${reason}, and TANDEM_REQUIRE_SERVICES=1 requires it.`, { cause: error });
    t.skip(reason);
    return undefined;
  }
}
