/**
 * Over the wire, every answer is `/v1/sql`'s: random statements (each
 * view, groupings by dimensions and time buckets, every measure's
 * aggregate, time ranges and dimension filters as literals or `$n`
 * parameters, orderings, limits) sent through node-postgres with the simple
 * and the extended protocol answer the same columns, types and cells as
 * `POST /v1/sql`, refusals included (same SQLSTATE-mapped code, same
 * sentence). The planner's exactness against JSON queries is
 * sql-equivalence.test.ts's; this holds the encoding.
 */
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { timestamptzText } from '../../src/pgwire/pg-types.ts';
import { views } from '../support/shop-config.ts';
import { openPgShop, type PgShop } from './pg-shop.ts';

const AGGREGATE: Readonly<Record<string, (m: string) => string>> = {
  count: (m) => `sum(${m})`, sum: (m) => `sum(${m})`, min: (m) => `min(${m})`, max: (m) => `max(${m})`, avg: (m) => `avg(${m})`,
  countDistinct: (m) => `count(DISTINCT ${m})`, quantiles: (m) => `approx_quantile(${m}, 0.5)`,
};
const VALUES: Readonly<Record<string, readonly string[]>> = { country: ["'DE'", "'US'", "'XX'"], device: ["'ios'", "'web'"], mobile: ['true'], qty: ['1', '2'] };

interface Statement {
  readonly sql: string;
  readonly params: readonly string[];
}

const statement: fc.Arbitrary<Statement> = fc.constantFrom(...views).chain((view) => {
  const dims = view.dimensions as readonly string[];
  const measures = Object.entries(view.measures as Record<string, { type: string }>);
  return fc.record({
    groupBy: fc.subarray([...dims]),
    bucket: view.granularity === 'none' ? fc.constant(undefined) : fc.constantFrom(undefined, `date_trunc('${view.granularity === 'week' ? 'week' : 'month'}', time)`),
    picked: fc.subarray(measures, { minLength: 1 }),
    filter: dims.length === 0 ? fc.constant(undefined) : fc.constantFrom(...dims).chain((d) => fc.subarray([...(VALUES[d] ?? [])], { minLength: 1 }).map((v) => ({ d, v }))),
    since: view.granularity === 'none' ? fc.constant(undefined) : fc.constantFrom(undefined, '2024-03-15T00:00:00Z', '2024-05-01'),
    asParams: fc.boolean(),
    limit: fc.constantFrom(undefined, 1, 3),
  }).map(({ groupBy, bucket, picked, filter, since, asParams, limit }) => {
    const params: string[] = [];
    const value = (text: string) => {
      if (!asParams || !text.startsWith("'")) return text;
      params.push(text.slice(1, -1));
      return `$${params.length}`;
    };
    const keys = [...(bucket === undefined ? [] : [`${bucket} AS bucket`]), ...groupBy];
    const select = [...keys, ...picked.map(([name, spec], i) => `${AGGREGATE[spec.type]!(name)} AS m${i}`)];
    const where = [
      ...(filter === undefined ? [] : [`${filter.d} IN (${filter.v.map(value).join(', ')})`]),
      ...(since === undefined ? [] : [`time >= ${value(`'${since}'`)}`]),
    ];
    const grouping = keys.length === 0 ? '' : ` GROUP BY ${keys.map((_, i) => i + 1).join(', ')} ORDER BY ${keys.map((_, i) => i + 1).join(', ')}`;
    const sql = `SELECT ${select.join(', ')} FROM ${view.name}${where.length === 0 ? '' : ` WHERE ${where.join(' AND ')}`}${grouping}${limit === undefined ? '' : ` LIMIT ${limit}`}`;
    return { sql, params };
  });
});

let shop: PgShop;
let db: pg.Client;

before(async () => {
  shop = await openPgShop();
  db = new pg.Client({ host: '127.0.0.1', port: shop.pg.port, user: 'x', database: 'tandem' });
  await db.connect();
});
after(async () => {
  await db?.end().catch(() => undefined);
  await shop?.close();
});

const TYPES: Readonly<Record<string, number>> = { text: 25, int8: 20, numeric: 1700, float8: 701, timestamptz: 1184, json: 114, bool: 16, date: 1082 };
/** Every cell as the text the server sent, so the comparison is of the wire, not of pg's parsers. */
const asText = { getTypeParser: () => (text: string) => text };

/** `/v1/sql`'s cell as PostgreSQL's text format writes it. */
function text(cell: unknown, type: string): string | null {
  if (cell === null) return null;
  if (type === 'timestamptz') return timestamptzText(String(cell));
  if (type === 'bool') return cell === true ? 't' : 'f';
  return typeof cell === 'object' ? JSON.stringify(cell) : String(cell);
}

test('pg equivalence - random statements answer over the wire, simple and extended, exactly as /v1/sql', async () => {
  let answered = 0;
  await fc.assert(fc.asyncProperty(statement, async ({ sql, params }) => {
    const expected = await shop.sql(sql, [...params]) as unknown as { columns?: { name: string; type: string }[]; rows?: unknown[][]; error?: { message: string } };
    const inline = params.reduceRight<string>((s, p, i) => s.replaceAll(`$${i + 1}`, `'${p}'`), sql);
    for (const query of [{ text: sql, values: [...params] }, { text: inline }]) {
      const answer = await db.query({ ...query, rowMode: 'array', types: asText }).then((r) => r, (e: Error) => e);
      if (expected.error !== undefined) {
        assert.ok(answer instanceof Error, `${sql} is refused over the wire too`);
        assert.equal(answer.message, expected.error.message);
        continue;
      }
      assert.ok(!(answer instanceof Error), `${sql}: ${(answer as Error).message}`);
      assert.deepEqual(answer.fields.map((f) => [f.name, f.dataTypeID]), expected.columns!.map((c) => [c.name, TYPES[c.type]]), sql);
      assert.deepEqual(answer.rows, expected.rows!.map((row) => row.map((cell, i) => text(cell, expected.columns![i]!.type))), sql);
      answered += 1;
    }
  }), { numRuns: 60, seed: 30 });
  assert.ok(answered >= 60, `only ${answered} of 120 sendings were answers rather than refusals`);
});
