/**
 * Proof that no request text becomes SQL: every method that hands SQL text
 * to DuckDB is wrapped to record it, then hostile strings (each carrying a
 * marker) go into every string field of every event, into the event type in
 * the URL, and into every part of queries, through ingest, batch runs, a
 * restart and HTTP. No recorded statement may contain a marker; and the
 * hostile values must come back intact as data.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DuckDBConnection } from '@duckdb/node-api';
import { createServer } from '../../src/server/index.ts';
import { Tandem, type Query } from '../../src/index.ts';
import { shopConfig } from '../support/shop-config.ts';
import { withTempDir } from '../support/temp-dir.ts';

const MARKER = 'QZXJ';
const HOSTILE = [
  `${MARKER}'); DROP TABLE order; --`,
  `${MARKER}" OR 1=1 --`,
  `${MARKER}' || (SELECT current_setting('threads')) || '`,
  `${MARKER}\\'; COPY (SELECT 1) TO '/tmp/pwned.csv'; --`,
  `${MARKER}$1 ? :name`,
  `${MARKER}\u0000'`,
];

const STORED = HOSTILE.slice(0, -1);

/** Records the SQL text of every statement any connection runs, prepares or streams. */
function recordSql(): { statements: string[]; restore(): void } {
  const statements: string[] = [];
  const proto = DuckDBConnection.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
  const names = ['run', 'runAndReadAll', 'runAndRead', 'stream', 'streamAndReadAll', 'streamAndRead', 'prepare', 'extractStatements', 'start', 'startStream'];
  const originals = new Map<string, (...args: unknown[]) => unknown>();
  for (const name of names) {
    const original = proto[name];
    if (typeof original !== 'function') continue;
    originals.set(name, original);
    proto[name] = function (this: unknown, ...args: unknown[]) {
      if (typeof args[0] === 'string') statements.push(args[0]);
      return original.apply(this, args);
    };
  }
  return { statements, restore: () => originals.forEach((fn, name) => (proto[name] = fn)) };
}

const event = (i: number, text: string) => ({ id: `${text}#${i}`, at: '2024-05-01T12:00:00Z', country: text, device: text, mobile: true, amount: 1, qty: 1 });

test('sql injection: hostile text in every string field, event type and query part never reaches DuckDB as SQL, and comes back as data', async () => {
  const recorder = recordSql();
  try {
    await withTempDir(async (dir) => {
      let tandem = await Tandem.open({ dataDir: dir, config: shopConfig });
      const server = createServer({ tandem });
      try {
        const first = await tandem.ingest('order', HOSTILE.map((text, i) => event(i, text)));
        // A NUL byte is refused in any string field (it would truncate text in other tools); the rest are stored.
        assert.deepEqual(first.rejected.map((r) => r.index), [HOSTILE.length - 1]);
        for (const text of HOSTILE) {
          const response = await server.app.inject({ method: 'POST', url: `/v1/events/${encodeURIComponent(text)}`, headers: { 'content-type': 'application/json' }, payload: '[]' });
          assert.equal(response.statusCode, 404);
        }
        await tandem.runBatch();
        // A second copy of each: the idempotency keys must hold them off, checked against keys read back from Parquet.
        await server.app.close();
        await tandem.close();
        tandem = await Tandem.open({ dataDir: dir, config: shopConfig });
        const again = await tandem.ingest('order', HOSTILE.map((text, i) => event(i, text)));
        assert.equal(again.duplicates, STORED.length);
        await tandem.runBatch();

        const queries: Query[] = HOSTILE.flatMap((text) => [
          { view: 'all_time', granularity: 'all', where: { country: text } },
          { view: 'all_time', granularity: 'all', where: { country: [text, 'DE'] }, groupBy: ['country'] },
          { view: text, granularity: 'all' },
          { view: 'all_time', groupBy: [text] },
          { view: 'all_time', orderBy: [{ measure: text }] },
          { view: 'all_time', granularity: text as Query['granularity'] },
          { view: 'all_time', from: text, to: text },
        ]);
        for (const query of queries) await tandem.queryUntyped(query).catch(() => undefined);
        const { rows } = await tandem.query({ view: 'all_time', granularity: 'all', groupBy: ['country'] });
        assert.deepEqual(rows.map((r) => r.country).sort(), [...STORED].sort(), 'the hostile values come back as data, intact');
        assert.ok(rows.every((r) => r.orders === 1));
      } finally {
        await server.app.close();
        await tandem.close();
      }
    });
  } finally {
    recorder.restore();
  }
  assert.ok(recorder.statements.length > 10, `${recorder.statements.length} statements recorded`);
  const leaked = recorder.statements.filter((sql) => sql.includes(MARKER));
  assert.deepEqual(leaked, [], 'no statement holds request text');
});
