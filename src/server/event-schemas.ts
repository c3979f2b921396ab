/**
 * One JSON Schema per event type of the catalog, `Event_<name>`, so that
 * `/openapi.json` always describes the fields the running config declares.
 *
 * @module
 */
import type { Catalog, EventTypeSchema, Field } from '../definitions/index.ts';
import type { SharedSchema } from './api-schemas.ts';

/**
 * The `$id` of an event type's schema.
 *
 * @example
 * ```ts
 * eventSchemaId('order');   // 'Event_order'
 * ```
 */
export function eventSchemaId(eventType: string): string {
  return `Event_${eventType}`;
}

/**
 * The schemas of every event type in `catalog`.
 *
 * @example
 * ```ts
 * for (const schema of eventSchemas(tandem.catalog)) app.addSchema(schema);
 * ```
 */
export function eventSchemas(catalog: Catalog): SharedSchema[] {
  return [...catalog.eventTypes.values()].map(eventSchema);
}

function eventSchema(type: EventTypeSchema): SharedSchema {
  return {
    $id: eventSchemaId(type.name),
    type: 'object',
    properties: Object.fromEntries(type.fields.map((f) => [f.name, fieldSchema(f)])),
    required: type.fields.filter((f) => !f.optional).map((f) => f.name),
    // Undeclared fields are refused, or left out for a type that says so.
    ...(type.undeclaredFields === 'ignore' ? {} : { additionalProperties: false }),
  };
}

function fieldSchema(field: Field): object {
  const schema = valueSchema(field);
  return field.optional ? { anyOf: [schema, { type: 'null' }] } : schema;
}

function valueSchema(field: Field): object {
  switch (field.type) {
    case 'string': return { type: 'string', maxLength: field.maxLength };
    case 'number': return {
      // Decimal text keeps digits a double would round.
      anyOf: [{ type: 'number' }, { type: 'string', pattern: '^-?\\d+(\\.\\d+)?$' }],
      description: `At most ${field.scale} decimal places.`,
    };
    case 'boolean': return { type: 'boolean' };
    case 'timestamp': return {
      anyOf: [
        { type: 'string', description: 'ISO-8601: a date, or a date-time with T or a space; UTC unless it names an offset.' },
        { type: 'integer', description: 'Epoch milliseconds.' },
      ],
      description: 'From 1900 to 9999; epoch milliseconds may also be text of 12 or 13 digits.',
    };
  }
}
