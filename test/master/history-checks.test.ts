/**
 * The history import's SQL checks hold to the live validator: for any row
 * of JSON values (NDJSON, as a user's export holds them) and any typed
 * Parquet column, a row is rejected exactly when `createEventValidator`
 * throws, naming the same field, and a good row's values normalize to the
 * same scaled integers, epoch milliseconds, strings and booleans.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { compileConfig, createEventValidator, defineEventType, InvalidEventError, type EventTypeSchema } from '../../src/definitions/index.ts';
import { checkedSource } from '../../src/master/index.ts';
import { makeTempDir } from '../support/temp-dir.ts';

const event = defineEventType({
  name: 'probe',
  time: 't',
  fields: {
    s: { type: 'string', maxLength: 8 },
    so: { type: 'string', optional: true },
    n0: { type: 'number', scale: 0 },
    n3: { type: 'number', scale: 3, optional: true },
    t: 'timestamp',
    b: { type: 'boolean', optional: true },
  },
});
const schema: EventTypeSchema = compileConfig({ eventTypes: [event], views: [] }).eventTypes.get('probe')!;
const validate = createEventValidator(schema);

const digits = (min: number, max: number) => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: min, maxLength: max });
const two = fc.integer({ min: 0, max: 99 }).map((n) => String(n).padStart(2, '0'));
const isoLike = fc.tuple(
  fc.integer({ min: 0, max: 9999 }).map((y) => String(y).padStart(4, '0')), two, two, fc.constantFrom('T', ' ', 't'), two, two, two,
  fc.option(digits(1, 9), { nil: undefined }), fc.constantFrom('', 'Z', 'z', '+02:00', '-05:30', '+0130', '-00:30', '+24:00', '+05:60'), fc.nat(3),
).map(([y, mo, d, sep, h, mi, s, frac, off, shape]) => {
  if (shape === 0) return `${y}-${mo}-${d}`;
  if (shape === 1) return `${y}-${mo}-${d}${sep}${h}:${mi}${off}`;
  return `${y}-${mo}-${d}${sep}${h}:${mi}:${s}${frac === undefined ? '' : `.${frac}`}${off}`;
});
const decimalText = fc.tuple(fc.boolean(), digits(1, 19), fc.option(digits(1, 6), { nil: undefined })).map(([neg, whole, frac]) => `${neg ? '-' : ''}${whole}${frac === undefined ? '' : `.${frac}`}`);
const text = fc.oneof(fc.string({ maxLength: 10 }), fc.string({ unit: 'grapheme', maxLength: 9 }), fc.constant('a\u0000b'), decimalText, isoLike, digits(10, 14));
const value = fc.oneof(
  text,
  fc.integer({ min: -1e6, max: 1e6 }),
  fc.oneof(fc.maxSafeInteger(), fc.constantFrom(2 ** 53, 9_007_199_254_740_991, 1e15, -1e13)),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer({ min: -1e7, max: 1e7 }).map((n) => n / 1000),
  fc.integer({ min: 1_000_000_000_000, max: 300_000_000_000_000 }),
  fc.boolean(),
  fc.constant(null),
  fc.constant([1]),
);
const row = fc.record(
  { s: value, so: value, n0: value, n3: value, t: value, b: value },
  { requiredKeys: [] },
);

/** The live verdict: the field named, or the normalized row. */
function live(raw: Record<string, unknown>): { field: string } | { row: Record<string, unknown> } {
  try {
    return { row: validate(raw) };
  } catch (error) {
    if (error instanceof InvalidEventError) return { field: error.field };
    throw error;
  }
}

let connection: DuckDBConnection;
let instance: DuckDBInstance;
let temp: Awaited<ReturnType<typeof makeTempDir>>;
before(async () => {
  temp = await makeTempDir();
  instance = await DuckDBInstance.create(':memory:');
  connection = await instance.connect();
});
after(async () => {
  connection.closeSync();
  instance.closeSync();
  await temp.remove();
});

/** The SQL verdict per row: the field its problem names, or the normalized values as JSON-comparable text. */
async function sqlVerdicts(path: string, format: 'ndjson' | 'parquet'): Promise<{ problem: string | null; values: unknown[] }[]> {
  const checked = await checkedSource(connection, schema, path, format, 0);
  const read = await connection.runAndReadAll(`SELECT _problem, s, so, CAST(n0 AS HUGEINT), CAST(CAST(n3 AS DECIMAL(38, 3)) * 1000 AS HUGEINT), epoch_ms(t), b FROM (${checked.sql}) ORDER BY _row`);
  return read.getRows().map(([problem, ...values]) => ({ problem: problem === null ? null : String(problem), values }));
}

function namedField(problem: string): string {
  return /^Field '([^']+)'/.exec(problem)?.[1] ?? '';
}

function expectedValues(row: Record<string, unknown>): unknown[] {
  const big = (v: unknown) => (v === null ? null : BigInt(v as number));
  return [row.s, row.so, big(row.n0), big(row.n3), row.t === null ? null : BigInt(row.t as number), row.b];
}

test('history checks - an NDJSON row is rejected exactly when the live validator throws, naming the same field, and normalized alike', async () => {
  let file = 0;
  await fc.assert(fc.asyncProperty(fc.array(row, { minLength: 1, maxLength: 40 }), async (rows) => {
    const path = join(temp.dir, `rows-${file++}.ndjson`);
    await writeFile(path, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const verdicts = await sqlVerdicts(path, 'ndjson');
    assert.equal(verdicts.length, rows.length);
    rows.forEach((raw, i) => {
      // JSON text is what both read: a value JSON cannot carry (-0, say) reads back as JSON gives it.
      const expected = live(JSON.parse(JSON.stringify(raw)) as Record<string, unknown>);
      const got = verdicts[i]!;
      const context = `${JSON.stringify(raw, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v))} → ${got.problem} ${JSON.stringify(got.values, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v))}`;
      if ('field' in expected) {
        assert.notEqual(got.problem, null, `${context}: the live validator refuses field '${expected.field}'`);
        assert.equal(namedField(got.problem!), expected.field, context);
      } else {
        assert.equal(got.problem, null, context);
        assert.deepEqual(got.values, expectedValues(expected.row), context);
      }
    });
  }), { numRuns: 200, seed: 31 });
});

test('history checks - typed Parquet columns: DECIMAL, DOUBLE, BIGINT, TIMESTAMP and VARCHAR read as the live validator reads their values', async () => {
  const cases = fc.record({
    amount: fc.tuple(fc.bigInt({ min: -(10n ** 17n), max: 10n ** 17n }), fc.integer({ min: 0, max: 6 })),
    ratio: fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e16, max: 1e16 }),
    whole: fc.bigInt({ min: -(2n ** 62n), max: 2n ** 62n }),
    at: fc.integer({ min: -5_000_000_000_000, max: 250_000_000_000_000 }),
    name: fc.string({ maxLength: 10 }),
  });
  let file = 0;
  await fc.assert(fc.asyncProperty(fc.array(cases, { minLength: 1, maxLength: 20 }), async (rows) => {
    const path = join(temp.dir, `typed-${file++}.parquet`);
    for (const [scale, integer] of [[0, false], [3, true], [6, false]] as const) {
      // One DECIMAL scale per file (a column has one type); n0 is a DOUBLE column in some files, a BIGINT one in others.
      const decimals = rows.map((r) => `CAST(${r.amount[0]} AS DECIMAL(38, 0)) / CAST(${10n ** BigInt(scale)} AS DECIMAL(38, 0))`);
      const n0 = (r: typeof rows[number]) => (integer ? `CAST(${r.whole} AS BIGINT)` : `CAST(${r.ratio} AS DOUBLE)`);
      const values = rows.map((r, i) => `(CAST(${decimals[i]} AS DECIMAL(38, ${scale})), ${n0(r)}, ${sqlText(String(r.whole))}, epoch_ms(CAST(${r.at} AS BIGINT)), ${sqlText(r.name)})`);
      await connection.run(`COPY (SELECT * FROM (VALUES ${values.join(', ')}) v(n3, n0, so, t, s)) TO '${path}' (FORMAT parquet)`);
      const verdicts = await sqlVerdicts(path, 'parquet');
      rows.forEach((r, i) => {
        const raw = { n3: decimalOf(r.amount[0], scale), n0: integer ? Number(r.whole) : r.ratio, so: String(r.whole), t: r.at, s: r.name };
        const expected = live(raw);
        const got = verdicts[i]!;
        const context = `${JSON.stringify(raw, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v))} → ${got.problem} ${JSON.stringify(got.values, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v))}`;
        if ('field' in expected) assert.equal(namedField(got.problem ?? ''), expected.field, context);
        else assert.deepEqual(got.values, expectedValues(expected.row), context);
      });
    }
  }), { numRuns: 25, seed: 31 });
});

function sqlText(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** The exact decimal text of `units` × 10^-scale, as a DECIMAL column holds it. */
function decimalOf(units: bigint, scale: number): string {
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale);
  const fraction = digits.slice(digits.length - scale);
  return `${negative ? '-' : ''}${whole}${scale > 0 ? `.${fraction}` : ''}`;
}
