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

export function createEventValidator(schema: EventTypeSchema): EventValidator {
  const fields = schema.fields;
  return (raw) => {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      throw new InvalidEventError('', `An event must be a JSON object, not ${describe(raw)}.`);
    }
    const input = raw as Record<string, unknown>;
    // `_offset` first, so the log sets it in place and every row keeps one hidden class.
    const row: Row = { _offset: null };
    let present = 0;
    for (const field of fields) {
      const has = Object.hasOwn(input, field.name);
      if (has) present++;
      row[field.name] = normalizeValue(field, has ? input[field.name] : undefined);
    }
    let keys = 0;
    for (const key in input) if (Object.hasOwn(input, key)) keys++;
    if (keys !== present) {
      const unknown = Object.keys(input).find((k) => !schema.fieldsByName.has(k))!;
      throw new InvalidEventError(unknown, `Field '${unknown.slice(0, 64)}' is not declared by event type '${schema.name}'.`);
    }
    return row;
  };
}
