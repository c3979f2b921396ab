/**
 * Which events an erasure removes: one event type, and equality on one or
 * more of its fields (`{ customer: 'c-123' }`, or a list of values for one
 * field). Compiled against the definitions like a view's filter, so that
 * the values are normalized as stored events' are and bound, never spliced,
 * into the SQL that finds the events (`filterSql`).
 *
 * @module
 */
import { isRecord } from './config-checks.ts';
import { InvalidErasureError, InvalidEventError } from './errors.ts';
import { compileFilter, type CompiledFilter } from './filter.ts';
import { normalizeValue } from './normalize-value.ts';
import type { EventTypeSchema } from './schema.ts';
import type { Value } from './value.ts';

/** The most values one field of an erasure may list: each is a bound parameter. */
export const MAX_ERASURE_VALUES = 10_000;

/**
 * An erasure as a caller writes it.
 *
 * @example
 * ```ts
 * const request: ErasureRequest = { eventType: 'order', where: { customer: 'c-123' } };
 * ```
 */
export interface ErasureRequest {
  readonly eventType: string;
  /** Field → value (or a list of values): an event matches when every field equals its value (one of them). */
  readonly where: Readonly<Record<string, unknown>>;
}

/** An erasure checked against its event type. */
export interface ErasurePredicate {
  readonly eventType: EventTypeSchema;
  /** One equality (or `in`) per field, all of which an erased event matches. */
  readonly where: readonly CompiledFilter[];
}

/**
 * Checks an erasure request against the event types, naming the part at
 * fault in one sentence.
 *
 * @example
 * ```ts
 * const predicate = compileErasure(catalog.eventTypes, { eventType: 'order', where: { customer: 'c-123' } });
 * ```
 */
export function compileErasure(eventTypes: ReadonlyMap<string, EventTypeSchema>, input: unknown): ErasurePredicate {
  if (!isRecord(input)) throw new InvalidErasureError('', 'An erasure must be an object with eventType and where.');
  const eventType = typeof input.eventType === 'string' ? eventTypes.get(input.eventType) : undefined;
  if (eventType === undefined) throw new InvalidErasureError('eventType', `eventType must name one of the event types: ${[...eventTypes.keys()].join(', ')}.`);
  const extra = Object.keys(input).find((k) => k !== 'eventType' && k !== 'where');
  if (extra !== undefined) throw new InvalidErasureError(extra, `An erasure takes only eventType and where, not '${extra}'.`);
  if (!isRecord(input.where) || Object.keys(input.where).length === 0) {
    throw new InvalidErasureError('where', 'where must name at least one field and the value its events to erase hold, such as { "customer": "c-123" }.');
  }
  const where = Object.entries(input.where).map(([name, raw]) => fieldEquality(eventType, name, raw));
  return { eventType, where };
}

function fieldEquality(eventType: EventTypeSchema, name: string, raw: unknown): CompiledFilter {
  const path = `where.${name}`;
  const field = eventType.fieldsByName.get(name);
  if (field === undefined) throw new InvalidErasureError(path, `Event type '${eventType.name}' has no field '${name}'.`);
  const values = Array.isArray(raw) ? raw : [raw];
  if (values.length === 0 || values.length > MAX_ERASURE_VALUES) {
    throw new InvalidErasureError(path, `${path} must list from 1 to ${MAX_ERASURE_VALUES.toLocaleString('en-US')} values.`);
  }
  const normalized = values.map((v, i) => operand(`${Array.isArray(raw) ? `${path}[${i}]` : path}`, field, v));
  return normalized.length === 1 ? compileFilter(field, '=', normalized) : compileFilter(field, 'in', normalized);
}

function operand(path: string, field: EventTypeSchema['fields'][number], raw: unknown): Value {
  if (raw === null || raw === undefined) throw new InvalidErasureError(path, `${path} must be a value; an erasure does not match missing fields.`);
  try {
    return normalizeValue({ ...field, optional: false }, raw);
  } catch (error) {
    if (error instanceof InvalidEventError) throw new InvalidErasureError(path, `${path}: ${error.message}`);
    throw error;
  }
}
