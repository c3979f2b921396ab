/** Columns are how events travel through the engine; a value must come back exactly as it went in, and a missing one as null. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rowAt, toColumns, type Field, type Row } from '../../src/definitions/index.ts';

const fields: Field[] = [
  { name: 's', type: 'string', optional: true, scale: 0, maxLength: 65_536 },
  { name: 'n', type: 'number', optional: true, scale: 2, maxLength: 0 },
  { name: 't', type: 'timestamp', optional: true, scale: 0, maxLength: 0 },
  { name: 'b', type: 'boolean', optional: true, scale: 0, maxLength: 0 },
];

test('event columns: values round-trip, and a field a row lacks (logged before it was declared) reads as null, for every type', () => {
  const rows: Row[] = [
    { s: 'x', n: -150, t: 0, b: false },
    { s: '', n: 0, t: -1, b: true },
    { s: null, n: null, t: null, b: null },
    {},
  ];
  const events = toColumns(fields, rows);
  assert.deepEqual(rows.map((_, i) => rowAt(fields, events, i)), [
    { s: 'x', n: -150, t: 0, b: false },
    { s: '', n: 0, t: -1, b: true },
    { s: null, n: null, t: null, b: null },
    { s: null, n: null, t: null, b: null },
  ]);
});
