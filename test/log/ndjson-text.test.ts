/**
 * The log's hand-written NDJSON writer must agree with JSON.stringify byte for
 * byte: DuckDB reads the text back for the master dataset, and recovery reads
 * it with JSON.parse.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { FIELD_TYPES, type Field, type Row, type Value } from '../../src/definitions/index.ts';
import { integerText, loopText, ndjsonText, stringText } from '../../src/log/ndjson-text.ts';
import { toColumns } from '../../src/definitions/index.ts';

const safeInteger = fc.oneof(fc.integer(), fc.maxSafeNat(), fc.maxSafeInteger(), fc.constantFrom(0, -0, 2 ** 31, -(2 ** 31), 1e6, 999_999, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER));
// The validator refuses lone surrogates and NUL; everything else, escapes included, must round-trip.
const text = fc.string({ unit: fc.oneof(fc.constantFrom('"', '\\', '\n', '\t', '\u0001', '\u001f', '\u007f', '\u2028', 'é', '😀'), fc.integer({ min: 1, max: 0xffff }).map((c) => String.fromCharCode(c))) })
  .filter((s) => s.isWellFormed() && !s.includes('\u0000'));

function valueOf(field: Field): fc.Arbitrary<Value> {
  const value = { string: text, number: safeInteger, timestamp: safeInteger, boolean: fc.boolean() }[field.type] as fc.Arbitrary<Value>;
  return field.optional ? fc.option(value, { nil: null }) : value;
}

const fieldList = fc.uniqueArray(
  fc.record({ name: fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/), type: fc.constantFrom(...FIELD_TYPES), optional: fc.boolean() }),
  { minLength: 1, maxLength: 6, selector: (f) => f.name },
).map((fields) => fields.map((f): Field => ({ ...f, scale: 0 })));

test('ndjson text: every row is exactly what JSON.stringify writes, offsets included, compiled or not', () => {
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
      const columns = toColumns(fields, rows);
      assert.equal(ndjsonText(fields, columns, firstOffset), expected, 'the compiled printer');
      assert.equal(loopText(fields, columns, firstOffset), expected, 'the field-by-field fallback');
    }),
    { seed: 20261125, numRuns: 300 },
  );
});

test('ndjson text: integers and strings print as JSON does, on both sides of the fast paths', () => {
  fc.assert(fc.property(safeInteger, (n) => assert.equal(integerText(n), JSON.stringify(n))), { seed: 7, numRuns: 2000 });
  fc.assert(fc.property(text, (s) => assert.equal(stringText(s), JSON.stringify(s))), { seed: 8, numRuns: 2000 });
  assert.equal(integerText(NaN), 'null');
  assert.equal(stringText(null), 'null');
});
