/**
 * The shapes users write, in TypeScript or JSON. The TypeScript generics make a
 * misspelt field a compile error; the same objects, serialised, are the JSON
 * config.
 *
 * @module
 */
import type { FieldSpecInput, FieldType } from './field.ts';
import type { Granularity } from './granularity.ts';
import type { ServerConfigJson } from './server-config.ts';

export type FieldsSpec = Readonly<Record<string, FieldSpecInput>>;

type TypeOfSpec<S> = S extends FieldType ? S : S extends { readonly type: infer T } ? T : never;

/** The names of the fields in `F` whose type is one of `T`; any string for the untyped (JSON) form. */
export type FieldsOfType<F extends FieldsSpec, T extends FieldType> = string extends keyof F
  ? string
  : { [K in keyof F & string]: TypeOfSpec<F[K]> extends T ? K : never }[keyof F & string];

/** The JavaScript value a user writes for a field of type `T`. */
export type ValueOfType<T> = T extends 'string'
  ? string
  : T extends 'number'
    ? number
    : T extends 'boolean'
      ? boolean
      : T extends 'timestamp'
        ? string | number
        : never;

/** An event type: its fields, the field holding event time, and an optional idempotency key. */
export interface EventTypeDefinition<F extends FieldsSpec = FieldsSpec> {
  readonly name: string;
  /** The timestamp field that places an event in time buckets. */
  readonly time: FieldsOfType<F, 'timestamp'>;
  /** A string field; an event whose key is already in the log is not stored again. */
  readonly idempotencyKey?: FieldsOfType<F, 'string'>;
  /**
   * Bounds the memory of duplicate detection: a key is recognised among the
   * latest `idempotencyWindow` stored events of this type (about 60 bytes
   * each), and forgotten after. Default: every event ever stored.
   */
  readonly idempotencyWindow?: number;
  readonly fields: F;
}

export type MeasureSpec<F extends FieldsSpec = FieldsSpec> =
  | { readonly type: 'count' }
  | { readonly type: 'sum' | 'avg'; readonly field: FieldsOfType<F, 'number'> }
  | { readonly type: 'min' | 'max'; readonly field: FieldsOfType<F, 'number' | 'timestamp'> };

export const COMPARISON_OPS = ['=', '!=', '<', '<=', '>', '>='] as const;
export type ComparisonOp = (typeof COMPARISON_OPS)[number];

/** One condition of a view's filter; a view keeps the events that meet all of them. */
export type FilterSpec<F extends FieldsSpec = FieldsSpec> = string extends keyof F
  ? { readonly field: string; readonly op: ComparisonOp | 'in'; readonly value: unknown }
  : {
  [K in keyof F & string]:
    | { readonly field: K; readonly op: ComparisonOp; readonly value: ValueOfType<TypeOfSpec<F[K]>> }
    | { readonly field: K; readonly op: 'in'; readonly value: readonly ValueOfType<TypeOfSpec<F[K]>>[] };
}[keyof F & string];

/** Fields that can be dimensions: anything but timestamps (time is the granularity's job). */
export type DimensionField<F extends FieldsSpec> = FieldsOfType<F, 'string' | 'number' | 'boolean'>;

/** The body of a view, as passed to `defineView`. */
export interface ViewSpec<F extends FieldsSpec = FieldsSpec> {
  readonly name: string;
  readonly dimensions: readonly DimensionField<F>[];
  readonly granularity: Granularity;
  readonly measures: Readonly<Record<string, MeasureSpec<F>>>;
  readonly filter?: readonly FilterSpec<F>[];
}

/** A view: an event type aggregated by dimensions and time buckets into measures. */
export interface ViewDefinition<F extends FieldsSpec = FieldsSpec> extends ViewSpec<F> {
  readonly eventType: string;
}

/** An event type in the JSON form: what any typed {@link EventTypeDefinition} also is. */
export interface EventTypeJson {
  readonly name: string;
  readonly time: string;
  readonly idempotencyKey?: string;
  readonly idempotencyWindow?: number;
  readonly fields: FieldsSpec;
}

/** A view in the JSON form. */
export interface ViewJson {
  readonly name: string;
  readonly eventType: string;
  readonly dimensions: readonly string[];
  readonly granularity: Granularity;
  readonly measures: Readonly<Record<string, { readonly type: string; readonly field?: string }>>;
  readonly filter?: readonly { readonly field: string; readonly op: string; readonly value: unknown }[];
}

/** A whole config: the JSON file's shape. */
export interface TandemConfig {
  readonly eventTypes: readonly EventTypeJson[];
  readonly views: readonly ViewJson[];
  /** API keys and request limits for the HTTP server. */
  readonly server?: ServerConfigJson;
}
