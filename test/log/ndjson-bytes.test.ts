/**
 * The log's hand-written NDJSON writer must agree with JSON.stringify (as UTF-8) byte for
 * byte: DuckDB reads the text back for the master dataset, and recovery reads
 * it with JSON.parse.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { FIELD_TYPES, type Field, type Row, type Value } from '../../src/definitions/index.ts';
import { booleanBytes, integerBytes, loopBytes, ndjsonBytes, stringBytes } from '../../src/log/ndjson-bytes.ts';
import { packColumns, Utf8Strings } from '../../src/log/packed-columns.ts';
import { toColumns } from '../../src/definitions/index.ts';
import { isWellFormedUnicode } from '../../src/definitions/normalize-value.ts';

const safeInteger = fc.oneof(fc.integer(), fc.maxSafeNat(), fc.maxSafeInteger(), fc.constantFrom(0, -0, 2 ** 31, -(2 ** 31), 1e6, 999_999, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER));
// The validator refuses lone surrogates and NUL; everything else, escapes included, must round-trip.
const text = fc.string({ unit: fc.oneof(fc.constantFrom('"', '\\', '\n', '\t', '\u0001', '\u001f', '\u007f', '\u2028', 'é', '😀'), fc.integer({ min: 1, max: 0xffff }).map((c) => String.fromCharCode(c))) })
  .filter((s) => isWellFormedUnicode(s) && !s.includes('\u0000'));

function valueOf(field: Field): fc.Arbitrary<Value> {
  const value = { string: text, number: safeInteger, timestamp: safeInteger, boolean: fc.boolean() }[field.type] as fc.Arbitrary<Value>;
  return field.optional ? fc.option(value, { nil: null }) : value;
}

const fieldList = fc.uniqueArray(
  fc.record({ name: fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/), type: fc.constantFrom(...FIELD_TYPES), optional: fc.boolean() }),
  { minLength: 1, maxLength: 6, selector: (f) => f.name },
).map((fields) => fields.map((f): Field => ({ ...f, scale: 0, maxLength: f.type === 'string' ? 65_536 : 0 })));

test('ndjson bytes: every row is exactly what JSON.stringify writes, as UTF-8, offsets included, compiled or not', () => {
  const schemaAndRows = fieldList.chain((fields) =>
    fc.tuple(fc.constant(fields), fc.array(fc.tuple(...fields.map(valueOf)), { maxLength: 20 }), fc.nat(2 ** 40)));
  fc.assert(
    fc.property(schemaAndRows, ([fields, tuples, firstOffset]) => {
      const rows = tuples.map((values) => {
        const row: Row = { _offset: null };
        fields.forEach((f, i) => (row[f.name] = values[i]!));
        return row;
      });
      const expected = rows.map((row, i) => `${JSON.stringify({ ...row, _offset: firstOffset + i })}\n`).join('');
      const columns = packColumns(toColumns(fields, rows));
      assert.equal(ndjsonBytes(fields, columns, firstOffset).toString('utf8'), expected, 'the compiled writer');
      assert.equal(loopBytes(fields, columns, firstOffset).toString('utf8'), expected, 'the field-by-field fallback');
      assert.equal(Buffer.byteLength(expected), ndjsonBytes(fields, columns, firstOffset).length, 'UTF-8, nothing more');
    }),
    { seed: 20261125, numRuns: 300 },
  );
});

/** What a value writer puts in a buffer, as text. */
function written<T>(write: (b: Buffer, p: number, value: T) => number, value: T): string {
  const b = Buffer.alloc(6 * 64 + 32, 0xff);
  const end = write(b, 3, value);
  assert.ok(b.subarray(0, 3).every((x) => x === 0xff), 'nothing written before the position');
  return b.toString('utf8', 3, end);
}

/** Writes a string column's values one after the other, as the writer does, and returns each as text. */
function writtenStrings(values: (string | null)[]): string[] {
  const strings = new Utf8Strings(packColumns({ count: values.length, columns: [values] }).columns[0] as never);
  return values.map((_, i) => written((b, p) => stringBytes(b, p, strings, i), null));
}

test('ndjson bytes: integers, strings and booleans come out as JSON writes them, on both sides of the fast paths', () => {
  fc.assert(fc.property(safeInteger, (n) => assert.equal(written(integerBytes, n), JSON.stringify(n))), { seed: 7, numRuns: 2000 });
  const column = fc.array(fc.option(text.filter((s) => s.length <= 64), { nil: null }), { maxLength: 8 });
  fc.assert(fc.property(column, (values) => assert.deepEqual(writtenStrings(values), values.map((s) => JSON.stringify(s)))), { seed: 8, numRuns: 2000 });
  assert.equal(written(integerBytes, NaN), 'null');
  assert.deepEqual(writtenStrings([null, '', null, 'a"b', '']), ['null', '""', 'null', '"a\\"b"', '""']);
  assert.deepEqual([0, 1, 2].map((v) => written(booleanBytes, v)), ['false', 'true', 'null']);
});

test('ndjson bytes: a group larger than the writer\'s buffer grows it and keeps every line', () => {
  const fields: Field[] = [{ name: 's', type: 'string', optional: false, scale: 0, maxLength: 100_000 }];
  const long = 'x'.repeat(70_000);
  const rows: Row[] = [{ _offset: null, s: 'a' }, { _offset: null, s: long }, { _offset: null, s: 'é' }];
  const expected = rows.map((row, i) => `${JSON.stringify({ ...row, _offset: 5 + i })}\n`).join('');
  assert.equal(ndjsonBytes(fields, packColumns(toColumns(fields, rows)), 5).toString('utf8'), expected);
  assert.equal(loopBytes(fields, packColumns(toColumns(fields, rows)), 5).toString('utf8'), expected);
});
