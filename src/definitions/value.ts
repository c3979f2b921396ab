/**
 * A normalized value and a validated event's row of them: what the validator
 * produces and what the log, both layers and the filters read. They sit
 * below the schemas, which describe rows but are not needed to hold one.
 *
 * @module
 */

/**
 * A normalized field value: strings and booleans as given, numbers as scaled integers, timestamps as epoch ms.
 *
 * @example
 * ```ts
 * const country: Value = 'DE';
 * ```
 */
export type Value = string | number | boolean | null;

/** A validated event: `_offset` (null until the log assigns it), then every declared field in declaration order, missing optionals as null. */
export type Row = Record<string, Value>;
