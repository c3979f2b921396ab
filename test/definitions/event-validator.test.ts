/**
 * The event validator is compiled to a function per event type for speed;
 * where a runtime forbids compiling code it checks field by field instead.
 * Both must give every event the same row, or the same error.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { compileConfig } from '../../src/definitions/index.ts';
import { createEventValidator, interpretedValidator, rowValidator } from '../../src/definitions/event-validator.ts';
import { shopConfig } from '../support/shop-config.ts';

const schema = compileConfig(shopConfig).eventTypes.get('order')!;

function outcome(validate: (raw: unknown) => unknown, raw: unknown): unknown {
  try {
    return { row: validate(raw) };
  } catch (error) {
    return { error: String(error), field: (error as { field?: string }).field };
  }
}

const anyValue = fc.oneof(
  fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constant(undefined),
  fc.constantFrom('2024-05-01T12:00:00Z', '2024-02-30', 1_700_000_000_000, 19.99, 'DE', '\ud800'),
);
const good = { id: 'a', at: '2024-05-01T12:00:00Z', country: 'DE', mobile: true, amount: 19.99, qty: 2 };
// Every field, in declaration order: the shape the compiled validator checks first.
const full = { id: 'a', at: 1_714_564_800_000, country: 'DE', device: 'ios', mobile: false, amount: 5, qty: 1 };
// Events near the valid ones: some fields replaced, some dropped, some unknown ones added.
const near = (base: Record<string, unknown>) => fc.record({
  replaced: fc.dictionary(fc.constantFrom(...Object.keys(base), 'device', 'colour', 'constructor', 'toString'), anyValue),
  dropped: fc.subarray(Object.keys(base)),
}).map(({ replaced, dropped }) => {
  const raw: Record<string, unknown> = { ...base, ...replaced };
  for (const key of dropped) delete raw[key];
  return raw;
});
// Replacing values in place keeps the declared order, so these exercise the compiled fast path with bad values too.
const inOrder = fc.dictionary(fc.constantFrom(...Object.keys(full)), anyValue).map((replaced) => ({ ...full, ...replaced }));
const event = fc.oneof(near(good), near(full), inOrder);

test('event validator: the compiled and the field-by-field validators agree on every event, valid or not', () => {
  const compiled = createEventValidator(schema);
  const interpreted = rowValidator(schema, interpretedValidator(schema));
  fc.assert(
    fc.property(fc.oneof(event, anyValue, fc.array(anyValue)), (raw) => assert.deepEqual(outcome(compiled, raw), outcome(interpreted, raw))),
    { seed: 11, numRuns: 2000 },
  );
});

test('event validator: inherited properties are not fields, and a row has exactly the declared fields in order', () => {
  const validate = createEventValidator(schema);
  const row = validate(Object.assign(Object.create({ colour: 'red', country: 'FR' }), good));
  assert.deepEqual(Object.keys(row), ['_offset', ...schema.fields.map((f) => f.name)]);
  assert.equal(row.country, 'DE');
  // A hidden (non-enumerable) property is not a field either: both validators see the unknown one beside it.
  const hidden = Object.defineProperty({ ...good, colour: 'red' }, 'device', { value: 'ios', enumerable: false });
  for (const v of [validate, rowValidator(schema, interpretedValidator(schema))]) assert.throws(() => v(hidden), /'colour' is not declared/);
});
