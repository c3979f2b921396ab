/**
 * Field specifications: what users write (`'string'` or `{ type: 'number', scale: 2 }`)
 * and the normalized form the engine uses.
 *
 * @module
 */
import { MAX_SCALE } from './scaled-number.ts';

export const FIELD_TYPES = ['string', 'number', 'boolean', 'timestamp'] as const;
/**
 * The type of a field's values.
 *
 * @example
 * ```ts
 * const type: FieldType = 'timestamp';
 * ```
 */
export type FieldType = (typeof FIELD_TYPES)[number];

/** The default number of decimals a `number` field keeps exactly. */
export const DEFAULT_SCALE = 3;

/** Longest string value any field accepts, in UTF-16 code units. */
export const MAX_STRING_LENGTH = 65_536;

/**
 * Longest value, by default, of a string field that is a view's dimension or
 * an idempotency key. Those values are held in memory once per series or key
 * (in the speed layer, and in the index of keys), so their length is what a
 * memory bound must bound (docs/reliability.md: a bound that counted keys
 * alone bounded nothing).
 */
export const DEFAULT_KEY_LENGTH = 1_024;

/**
 * A field as written in a definition: a type name, or an object with options.
 *
 * @example
 * ```ts
 * const amount: FieldSpecInput = { type: 'number', scale: 2 };
 * const page: FieldSpecInput = { type: 'string', maxLength: 2_048 };
 * ```
 */
export type FieldSpecInput =
  | FieldType
  | {
      readonly type: FieldType;
      /** Events may omit the field; it is then null. Default false. */
      readonly optional?: boolean;
      /** For `number`: digits kept after the decimal point, 0 to 12. Default 3. */
      readonly scale?: number;
      /**
       * For `string`: the most characters (UTF-16 code units) a value may hold,
       * up to 65,536. Default 1,024 for a field that is a view's dimension or
       * the idempotency key, else 65,536. A longer value is rejected.
       */
      readonly maxLength?: number;
    };

/** A field after validation. */
export interface Field {
  readonly name: string;
  readonly type: FieldType;
  readonly optional: boolean;
  /** Decimal digits for numbers; 0 for other types. */
  readonly scale: number;
  /** For strings: the most UTF-16 code units a value may hold; 0 for other types. */
  readonly maxLength: number;
}

export function fieldTypeOf(spec: FieldSpecInput): FieldType {
  return typeof spec === 'string' ? spec : spec.type;
}

/** A field's normalized form; `keyed` says it is a dimension or an idempotency key, which shortens its default length. */
export function normalizeField(name: string, spec: FieldSpecInput, keyed = false): Field {
  const type = fieldTypeOf(spec);
  const options: Exclude<FieldSpecInput, FieldType> = typeof spec === 'string' ? { type } : spec;
  const scale = type === 'number' ? (options.scale ?? DEFAULT_SCALE) : 0;
  const maxLength = type === 'string' ? (options.maxLength ?? (keyed ? DEFAULT_KEY_LENGTH : MAX_STRING_LENGTH)) : 0;
  return Object.freeze({ name, type, optional: options.optional ?? false, scale, maxLength });
}

export { MAX_SCALE };
