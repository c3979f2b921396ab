/**
 * Validates raw events against their event type and normalizes them, straight
 * into columns (see {@link EventColumns}). Bad events throw
 * {@link InvalidEventError} naming the field, so a caller can reject one event
 * and keep the rest of its batch.
 *
 * @module
 */
import { InvalidEventError } from './errors.ts';
import { BOOLEAN_NULL, emptyColumns, rowAt, storeValue, type Column } from './event-columns.ts';
import { describe, normalizeValue, valueNormalizer } from './normalize-value.ts';
import type { EventTypeSchema } from './schema.ts';
import type { Row } from './value.ts';

/**
 * Validates one event and writes its normalized values at position `at` of
 * `columns` (one per field, in field order). Writes nothing if it throws, so
 * a caller can reuse the position for the next event. For an event type
 * that ignores undeclared fields, their names are added to `ignored`.
 */
export type ColumnValidator = (raw: unknown, columns: Column[], at: number, ignored?: Set<string>) => void;

/** Validates one event and returns it as a row: `_offset` (null), then every field in order. */
export type EventValidator = (raw: unknown) => Row;

/**
 * A validator for one event type. It is compiled to a function, because the
 * validator runs for every event: generic code paying a keyed load and store
 * per field took twice as long. Field names are safe in the generated source:
 * definitions restrict them to letters, digits and underscores, and they
 * appear only as JSON string literals. Where a runtime forbids compiling
 * code, the same checks run field by field.
 *
 * Events go straight into columns, never into row objects: in-flight rows
 * outlive a young-generation collection and made V8 copy them, which cost
 * the ingest path about a sixth of its time.
 */
export function createColumnValidator(schema: EventTypeSchema): ColumnValidator {
  const checks = { notAnObject, unknownField, isField };
  const normalizers = schema.fields.map(valueNormalizer);
  try {
    return new Function('checks', 'normalizers', 'schema', compiledSource(schema))(checks, normalizers, schema) as ColumnValidator;
  } catch (error) {
    if (!(error instanceof EvalError)) throw error;
    return interpretedValidator(schema);
  }
}

/**
 * A validator that returns rows, for callers that want one event at a time.
 *
 * @example
 * ```ts
 * const validate = createEventValidator(catalog.eventTypes.get('order')!);
 * validate({ orderId: 'o1', at: '2024-05-01T12:00:00Z', country: 'DE', amount: 19.99 }); // { _offset: null, orderId: 'o1', at: 1714564800000, … }
 * ```
 */
export function createEventValidator(schema: EventTypeSchema): EventValidator {
  return rowValidator(schema, createColumnValidator(schema));
}

/** A row validator on top of a column validator. Exported for the test that holds the compiled and interpreted forms to the same answers. */
export function rowValidator(schema: EventTypeSchema, validate: ColumnValidator): EventValidator {
  return (raw) => {
    const columns = emptyColumns(schema.fields, 1);
    validate(raw, columns, 0);
    return { _offset: null, ...rowAt(schema.fields, { count: 1, columns }, 0) };
  };
}

function compiledSource(schema: EventTypeSchema): string {
  const names = schema.fields.map((f) => JSON.stringify(f.name));
  const store = (i: number): string => {
    switch (schema.fields[i]!.type) {
      case 'number':
      case 'timestamp':
        return `columns[${i}][at] = v${i} ?? NaN;`;
      case 'boolean':
        return `columns[${i}][at] = v${i} === null ? ${BOOLEAN_NULL} : v${i} ? 1 : 0;`;
      case 'string':
        return `columns[${i}][at] = v${i};`;
    }
  };
  const expected = names.map((name, i) => `keys[${i}] === ${name}`).join(' && ');
  return `'use strict';
const { notAnObject, unknownField, isField } = checks;
${names.map((_, i) => `const normalize${i} = normalizers[${i}];`).join('\n')}
return function validate(raw, columns, at, ignored) {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) notAnObject(raw);
  const keys = Object.keys(raw);
  ${names.map((_, i) => `let v${i};`).join(' ')}
  if (keys.length === ${names.length} && ${expected}) {
    // The usual event: exactly the declared fields, in declaration order, all its own enumerable properties.
    ${names.map((name, i) => `v${i} = normalize${i}(raw[${name}]);`).join('\n    ')}
  } else {
    let present = 0;
    ${names.map((name, i) => `const has${i} = isField.call(raw, ${name});\n    if (has${i}) present++;`).join('\n    ')}
    ${names.map((name, i) => `v${i} = normalize${i}(has${i} ? raw[${name}] : undefined);`).join('\n    ')}
    if (keys.length !== present) unknownField(schema, raw, ignored);
  }
  ${names.map((_, i) => store(i)).join('\n  ')}
};`;
}

/** The same validator, checking field by field with no compiled code. Exported for the test that holds both to the same answers. */
export function interpretedValidator(schema: EventTypeSchema): ColumnValidator {
  return (raw, columns, at, ignored) => {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) notAnObject(raw);
    const input = raw as Record<string, unknown>;
    const values = schema.fields.map((field) => normalizeValue(field, isField.call(input, field.name) ? input[field.name] : undefined));
    unknownField(schema, input, ignored);
    values.forEach((value, f) => storeValue(columns[f]!, at, value));
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

/**
 * Throws for the first own key the event type does not declare, if any; or,
 * for a type that ignores them, adds every such key to `ignored`.
 */
function unknownField(schema: EventTypeSchema, input: object, ignored: Set<string> | undefined): void {
  if (schema.undeclaredFields === 'ignore') {
    for (const key of Object.keys(input)) if (!schema.fieldsByName.has(key)) ignored?.add(key);
    return;
  }
  const unknown = Object.keys(input).find((k) => !schema.fieldsByName.has(k));
  if (unknown === undefined) return;
  throw new InvalidEventError(unknown, `Field '${unknown.slice(0, 64)}' is not declared by event type '${schema.name}'.`);
}
