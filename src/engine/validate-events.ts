import { emptyColumns, firstEvents, InvalidEventError, type ColumnValidator, type EventColumns, type EventTypeSchema } from '../definitions/index.ts';
import type { RejectedEvent } from './engine-types.ts';

/** The events of one request that passed validation, in columns, and the ones refused, each with its field. */
export interface ValidatedEvents {
  readonly columns: EventColumns;
  readonly rejected: RejectedEvent[];
  /** Names of the fields left out of the events, for an event type that ignores undeclared fields; sorted. */
  readonly ignoredFields: string[];
}

/**
 * Validates a request's events one by one: every engine (embedded or a
 * cluster node) refuses the same events with the same sentences, because
 * they all go through here.
 */
export function validateEvents(schema: EventTypeSchema, validate: ColumnValidator, events: readonly unknown[]): ValidatedEvents {
  const columns = emptyColumns(schema.fields, events.length);
  const rejected: RejectedEvent[] = [];
  const ignored = new Set<string>();
  let accepted = 0;
  for (let i = 0; i < events.length; i++) {
    try {
      validate(events[i], columns, accepted, ignored);
      accepted++;
    } catch (error) {
      if (!(error instanceof InvalidEventError)) throw error;
      rejected.push({ index: i, field: error.field, error: error.message });
    }
  }
  return { columns: firstEvents(columns, accepted), rejected, ignoredFields: [...ignored].sort() };
}
