/**
 * Validates raw events against their event type and normalizes them into
 * {@link Row}s. Bad events throw {@link InvalidEventError} naming the field, so
 * a caller can reject one event and keep the rest of its batch.
 *
 * @module
 */
import { InvalidEventError } from './errors.ts';
import { describe, normalizeValue } from './normalize-value.ts';
import type { EventTypeSchema, Row } from './schema.ts';

export type EventValidator = (raw: unknown) => Row;

/**
 * A validator for one event type. It is compiled to a function that builds
 * each row as one object literal, because the validator runs for every event
 * and a row filled in field by field (a keyed store per field, a hidden-class
 * transition each) took twice as long. Field names are safe in the generated
 * source: definitions restrict them to letters, digits and underscores, and
 * they appear only as JSON string literals. Where a runtime forbids compiling
 * code, the same checks run field by field.
 */
export function createEventValidator(schema: EventTypeSchema): EventValidator {
  const checks = { notAnObject, unknownField, normalizeValue, isField };
  try {
    return new Function('checks', 'fields', 'schema', compiledSource(schema))(checks, schema.fields, schema) as EventValidator;
  } catch (error) {
    if (!(error instanceof EvalError)) throw error;
    return interpretedValidator(schema);
  }
}

function compiledSource(schema: EventTypeSchema): string {
  const names = schema.fields.map((f) => JSON.stringify(f.name));
  return `'use strict';
const { notAnObject, unknownField, normalizeValue, isField } = checks;
return function validate(raw) {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) notAnObject(raw);
  let present = 0;
  ${names.map((name, i) => `const has${i} = isField.call(raw, ${name});\n  if (has${i}) present++;`).join('\n  ')}
  const row = {
    _offset: null,
    ${names.map((name, i) => `${name}: normalizeValue(fields[${i}], has${i} ? raw[${name}] : undefined),`).join('\n    ')}
  };
  if (Object.keys(raw).length !== present) unknownField(schema, raw);
  return row;
};`;
}

/** The same validator, checking field by field with no compiled code. Exported for the test that holds both to the same answers. */
export function interpretedValidator(schema: EventTypeSchema): EventValidator {
  return (raw) => {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) notAnObject(raw);
    const input = raw as Record<string, unknown>;
    // `_offset` first, so the log sets it in place and every row keeps one hidden class.
    const row: Row = { _offset: null };
    for (const field of schema.fields) row[field.name] = normalizeValue(field, isField.call(input, field.name) ? input[field.name] : undefined);
    unknownField(schema, input);
    return row;
  };
}

/**
 * An event's fields are its own enumerable properties, as `Object.keys` and
 * `JSON.stringify` see them: inherited and hidden properties are neither
 * read nor counted.
 */
const isField = Object.prototype.propertyIsEnumerable;

function notAnObject(raw: unknown): never {
  throw new InvalidEventError('', `An event must be a JSON object, not ${describe(raw)}.`);
}

/** Throws for the first own key the event type does not declare, if any. */
function unknownField(schema: EventTypeSchema, input: object): void {
  const unknown = Object.keys(input).find((k) => !schema.fieldsByName.has(k));
  if (unknown === undefined) return;
  throw new InvalidEventError(unknown, `Field '${unknown.slice(0, 64)}' is not declared by event type '${schema.name}'.`);
}
