/**
 * Typed errors for definitions and events. Every Tandem error extends
 * {@link TandemError}, carries a stable `code`, and names what caused it, so
 * the server can map failures to HTTP in one place.
 *
 * @module
 */

/**
 * Base class of every error Tandem throws on purpose.
 *
 * @example
 * ```ts
 * catch (error) {
 *   if (error instanceof TandemError) console.error(error.code, error.message);
 * }
 * ```
 */
export abstract class TandemError extends Error {
  abstract readonly code: string;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * A config or a view definition is malformed; `path` points into the config (e.g. `views[1].measures.revenue.field`).
 *
 * @example
 * ```ts
 * try { compileConfig(config); } catch (error) {
 *   if (error instanceof InvalidDefinitionError) console.error(`${error.path}: ${error.message}`);
 * }
 * ```
 */
export class InvalidDefinitionError extends TandemError {
  readonly code = 'invalid_definition';
  constructor(readonly path: string, message: string) {
    super(message);
  }
}

/**
 * A definition names a field its event type does not declare.
 *
 * @example
 * ```ts
 * try { compileConfig(config); } catch (error) {
 *   if (error instanceof UnknownFieldError) console.error(`no field '${error.field}' at ${error.path}`);
 * }
 * ```
 */
export class UnknownFieldError extends TandemError {
  readonly code = 'unknown_field';
  constructor(readonly path: string, readonly field: string, readonly eventType: string) {
    super(`${path} names field '${field}', which event type '${eventType}' does not declare.`);
  }
}

/**
 * A measure has a type Tandem does not know.
 *
 * @example
 * ```ts
 * try { compileConfig(config); } catch (error) {
 *   if (error instanceof UnknownMeasureTypeError) console.error(error.message); // names the known types
 * }
 * ```
 */
export class UnknownMeasureTypeError extends TandemError {
  readonly code = 'unknown_measure_type';
  constructor(readonly path: string, readonly measureType: string, known: readonly string[]) {
    super(`${path} has measure type '${measureType}'; known types are ${known.join(', ')}.`);
  }
}

/**
 * An event type name that the config does not define.
 *
 * @example
 * ```ts
 * await tandem.ingest('refund', events).catch((error) => {
 *   if (error instanceof UnknownEventTypeError) console.error(error.message);
 * });
 * ```
 */
export class UnknownEventTypeError extends TandemError {
  readonly code = 'unknown_event_type';
  constructor(readonly eventType: string) {
    super(`Unknown event type '${eventType}'.`);
  }
}

/**
 * One event failed validation; `field` names the offending field (empty when the event itself is not an object).
 *
 * @example
 * ```ts
 * const { rejected } = await tandem.ingest('order', events); // each InvalidEventError becomes one entry
 * for (const r of rejected) console.warn(r.field, r.error);
 * ```
 */
export class InvalidEventError extends TandemError {
  readonly code = 'invalid_event';
  constructor(readonly field: string, message: string) {
    super(message);
  }
}

/**
 * An erasure request (`POST /v1/erase`, `tandem erase`) is malformed; `path`
 * names the part at fault (`where.customer`, say).
 *
 * @example
 * ```ts
 * await tandem.erase({ eventType: 'order', where: {} }).catch((error) => {
 *   if (error instanceof InvalidErasureError) console.error(`${error.path}: ${error.message}`);
 * });
 * ```
 */
export class InvalidErasureError extends TandemError {
  readonly code = 'invalid_erasure';
  constructor(readonly path: string, message: string) {
    super(message);
  }
}

/**
 * A reloaded config changes event types, which only a restart may do: a
 * running engine changes its views alone.
 *
 * @example
 * ```ts
 * await tandem.reloadConfig(next).catch((error) => {
 *   if (error instanceof EventTypesChangedError) console.error(error.message);
 * });
 * ```
 */
export class EventTypesChangedError extends TandemError {
  readonly code = 'event_types_changed';
  constructor() {
    super('The reloaded config changes event types, and a running engine changes only its views; restart it to change event types.');
  }
}
