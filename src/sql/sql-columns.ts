/**
 * An answer's columns: where each takes its values from a JSON query's
 * rows, and the PostgreSQL type it declares.
 *
 * @module
 */
import type { MeasureSchema } from '../definitions/index.ts';
import type { SelectItem } from './select-items.ts';
import { columnType, measureType, type SqlType } from './view-table.ts';

/**
 * Where a column's values come from in a query's rows: a dimension, the
 * time bucket (as a timestamp or as epoch seconds), or a measure: whole, or
 * one quantile of it.
 *
 * @example
 * ```ts
 * const p99: ColumnSource = { kind: 'measure', measure, quantile: 0.99, whole: false };
 * ```
 */
export type ColumnSource =
  | { readonly kind: 'dimension'; readonly name: string }
  | { readonly kind: 'time'; readonly form: 'timestamp' | 'epoch' | 'date' }
  | { readonly kind: 'measure'; readonly measure: MeasureSchema; readonly quantile: number | undefined; readonly whole: boolean };

/**
 * A column of an answer, as clients see it: its name and type.
 *
 * @example
 * ```ts
 * const column: SqlColumn = { name: 'revenue', type: 'numeric' };
 * ```
 */
export interface SqlColumn {
  readonly name: string;
  readonly type: SqlType;
}

/** A column of an answer with where its values come from. */
export interface PlannedColumn extends SqlColumn {
  readonly source: ColumnSource;
}

const TIME_TYPES = { timestamp: 'timestamptz', epoch: 'numeric', date: 'date' } as const;

/**
 * The column a classified SELECT item answers as, under `name`.
 *
 * @example
 * ```ts
 * plannedColumn('day', { kind: 'time', bucket: { granularity: 'day', form: 'timestamp' } });   // { name: 'day', type: 'timestamptz', source }
 * ```
 */
export function plannedColumn(name: string, item: SelectItem): PlannedColumn {
  switch (item.kind) {
    case 'time':
      return { name, type: TIME_TYPES[item.bucket.form], source: { kind: 'time', form: item.bucket.form } };
    case 'dimension':
      return { name, type: columnType({ kind: 'dimension', field: item.field }), source: { kind: 'dimension', name: item.field.name } };
    case 'measure':
      return { name, type: measureType(item.measure), source: { kind: 'measure', measure: item.measure, quantile: undefined, whole: true } };
    case 'aggregate': {
      const { measure, quantile } = item.aggregate;
      return { name, type: quantile === undefined ? measureType(measure) : 'float8', source: { kind: 'measure', measure, quantile, whole: false } };
    }
  }
}
