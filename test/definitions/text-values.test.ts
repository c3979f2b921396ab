/**
 * Numbers sent as decimal strings ("12.50", the exact form many systems
 * write) and timestamps sent as epoch milliseconds in text are accepted
 * exactly where they are unambiguous, and anything else stays refused.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { InvalidEventError, normalizeValue, type Field } from '../../src/definitions/index.ts';

const numberField = (scale: number): Field => ({ name: 'amount', type: 'number', scale, optional: false, maxLength: 0 } as unknown as Field);
const timestamp = { name: 'at', type: 'timestamp', scale: 0, optional: false, maxLength: 0 } as unknown as Field;

/** The exact decimal text of scaled integer `n` at `scale`, with `zeros` trailing zeros added past it. */
function decimalText(n: number, scale: number, zeros: number): string {
  const digits = String(Math.abs(n)).padStart(scale + 1, '0');
  const fraction = digits.slice(digits.length - scale) + '0'.repeat(zeros);
  return `${n < 0 ? '-' : ''}${digits.slice(0, digits.length - scale)}${fraction === '' ? '' : `.${fraction}`}`;
}

function refusal(field: Field, raw: unknown): string {
  try {
    normalizeValue(field, raw);
  } catch (error) {
    assert.ok(error instanceof InvalidEventError);
    assert.equal(error.field, field.name);
    return error.message;
  }
  return assert.fail(`${JSON.stringify(raw)} was accepted`);
}

test('text values: a decimal string is its exact scaled integer, trailing zeros or not, at any scale', () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 12 }), fc.maxSafeInteger(), fc.nat(3), (scale, n, zeros) => {
    assert.equal(normalizeValue(numberField(scale), decimalText(n, scale, zeros)), n === 0 ? 0 : n);
  }), { seed: 20261129 });
});

test('text values: where the number itself is exact, its string and it become the same value', () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 6 }), fc.integer({ min: -1e9, max: 1e9 }), (scale, n) => {
    const text = decimalText(n, scale, 0);
    assert.equal(normalizeValue(numberField(scale), text), normalizeValue(numberField(scale), Number(text)));
  }));
  // Where a double is not exact, the text is: 0.1 + 0.2 is a number the validator refuses at scale 16, not text.
  assert.equal(normalizeValue(numberField(2), '0.10'), 10);
  assert.equal(normalizeValue(numberField(2), '-0.00'), 0);
  assert.equal(normalizeValue(numberField(12), '0.000000000001'), 1);
});

test('text values: anything but plain decimal text stays refused, in one sentence naming the field', () => {
  for (const text of ['', ' 12', '12 ', '+1', '1e3', '12.', '.5', '0x10', '1,5', 'ten', '--1', 'NaN', 'Infinity']) {
    assert.equal(refusal(numberField(2), text), `Field 'amount' must be a number, or a decimal string such as "12.50"; got ${JSON.stringify(text)}.`);
  }
  assert.equal(refusal(numberField(2), '12.505'), "Field 'amount' has more than 2 decimal places; declare a larger scale to keep them.");
  assert.equal(refusal(numberField(2), '90071992547409.92'), "Field 'amount' must be within ±90071992547409.91 at scale 2; declare a smaller scale for larger values.");
});

test('text values: 12 or 13 digits are epoch milliseconds; fewer are refused as ambiguous', () => {
  assert.equal(normalizeValue(timestamp, '1740793800000'), 1_740_793_800_000);
  assert.equal(normalizeValue(timestamp, '100000000000'), 100_000_000_000);
  fc.assert(fc.property(fc.integer({ min: 100_000_000_000, max: 9_999_999_999_999 }), (t) => {
    assert.equal(normalizeValue(timestamp, String(t)), normalizeValue(timestamp, t));
  }));
  for (const text of ['2024', '20240501', '1740793800', '17407938000']) {
    assert.equal(refusal(timestamp, text), `Field 'at' must be an ISO-8601 date-time or epoch milliseconds (12 or 13 digits); ${JSON.stringify(text)} is ambiguous (a year, a compact date or epoch seconds?).`);
  }
  assert.match(refusal(timestamp, '17407938000001'), /^Field 'at' must be an ISO-8601 date-time or epoch milliseconds/);
  assert.match(refusal(timestamp, '-1740793800000'), /^Field 'at' must be an ISO-8601 date-time such as/);
});
