/**
 * Field specifications: what users write (`'string'` or `{ type: 'number', scale: 2 }`)
 * and the normalized form the engine uses.
 *
 * @module
 */
import { MAX_SCALE } from './scaled-number.ts';

export const FIELD_TYPES = ['string', 'number', 'boolean', 'timestamp'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

/** The default number of decimals a `number` field keeps exactly. */
export const DEFAULT_SCALE = 3;

/** A field as written in a definition: a type name, or an object with options. */
export type FieldSpecInput =
  | FieldType
  | {
      readonly type: FieldType;
      /** Events may omit the field; it is then null. Default false. */
      readonly optional?: boolean;
      /** For `number`: digits kept after the decimal point, 0 to 12. Default 3. */
      readonly scale?: number;
    };

/** A field after validation. */
export interface Field {
  readonly name: string;
  readonly type: FieldType;
  readonly optional: boolean;
  /** Decimal digits for numbers; 0 for other types. */
  readonly scale: number;
}

export function fieldTypeOf(spec: FieldSpecInput): FieldType {
  return typeof spec === 'string' ? spec : spec.type;
}

export function normalizeField(name: string, spec: FieldSpecInput): Field {
  if (typeof spec === 'string') {
    return Object.freeze({ name, type: spec, optional: false, scale: spec === 'number' ? DEFAULT_SCALE : 0 });
  }
  const scale = spec.type === 'number' ? (spec.scale ?? DEFAULT_SCALE) : 0;
  return Object.freeze({ name, type: spec.type, optional: spec.optional ?? false, scale });
}

export { MAX_SCALE };
