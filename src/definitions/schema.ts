/**
 * The compiled, validated form of definitions that every layer works from.
 *
 * @module
 */
import type { EventTypeJson, UndeclaredFields, ViewJson } from './definition-types.ts';
import type { Field } from './field.ts';
import type { CompiledFilter } from './filter.ts';
import type { Granularity } from './granularity.ts';
import type { Measure, MeasureOptions, MeasureType } from './measures/measure.ts';

export interface EventTypeSchema {
  readonly name: string;
  readonly definition: EventTypeJson;
  readonly fields: readonly Field[];
  readonly fieldsByName: ReadonlyMap<string, Field>;
  readonly time: Field;
  readonly idempotencyKey: Field | undefined;
  /** What the validator does with fields the type does not declare. */
  readonly undeclaredFields: UndeclaredFields;
  /** How many of the latest stored events of this type are checked for a repeated key; undefined for all. */
  readonly idempotencyWindow: number | undefined;
  /** How long events stay in the master dataset after their event time (`retention`), in ms; undefined keeps them forever. */
  readonly retentionMs: number | undefined;
}

export interface MeasureSchema {
  readonly name: string;
  readonly type: MeasureType;
  readonly field: Field | undefined;
  /** A sketch's settings (precision, quantiles, relative accuracy); empty for the other measures. */
  readonly options: MeasureOptions;
  /** The measure's own filter: it folds only the events that meet these too, besides the view's filter; empty for none. */
  readonly filter: readonly CompiledFilter[];
  readonly monoid: Measure;
}

export interface ViewSchema {
  readonly name: string;
  readonly definition: ViewJson;
  readonly eventType: EventTypeSchema;
  readonly dimensions: readonly Field[];
  readonly granularity: Granularity;
  readonly measures: readonly MeasureSchema[];
  readonly filter: readonly CompiledFilter[];
  /** Whether the view keeps its aggregates of the events its event type's retention removes (`keepAggregates`). */
  readonly keepAggregates: boolean;
  /** Changes whenever the view or its event type changes; a batch view built under another hash is stale. */
  readonly hash: string;
}
