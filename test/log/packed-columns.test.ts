/** String columns cross to the encoder worker joined into one string; they must come back exactly, nulls and empty strings apart. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { EventColumns } from '../../src/definitions/index.ts';
import { packColumns, unpackColumns } from '../../src/log/packed-columns.ts';

// The validator refuses NUL in strings, so it never appears in a value.
const value = fc.option(fc.oneof(fc.constantFrom('', ',', 'é', '😀'), fc.string({ unit: 'binary' })).filter((s) => !s.includes('\u0000')), { nil: null });

test('packed columns: strings, nulls and empty strings come back exactly after a trip through structuredClone', () => {
  fc.assert(fc.property(fc.nat(30).chain((count) => fc.tuple(fc.constant(count), fc.array(value, { minLength: count, maxLength: count }))), ([count, strings]) => {
    const numbers = Float64Array.from(strings, (_, i) => (i % 3 === 0 ? NaN : i));
    const events: EventColumns = { count, columns: [strings, numbers, Uint8Array.from(strings, (_, i) => i % 3)] };
    const packed = structuredClone(packColumns(events));
    assert.equal(typeof (packed.columns[0] as { joined: unknown }).joined, 'string', 'a string column crosses as one string');
    assert.deepEqual(unpackColumns(packed), events);
  }), { seed: 25, numRuns: 500 });
});
