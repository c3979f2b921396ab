/**
 * What one expression of a SELECT, GROUP BY or ORDER BY is, in a view's
 * terms: a time bucket, a dimension, a measure read whole (a row of the view
 * itself), or a measure merged by its aggregate. Anything else (constants,
 * arithmetic over columns or aggregates, windows, other functions) is
 * refused where it stands.
 *
 * @module
 */
import type { Field, MeasureSchema } from '../definitions/index.ts';
import { UnsupportedSqlError } from './errors.ts';
import { hasAggregate, isAggregate, measureAggregate, type MeasureAggregate } from './measure-aggregates.ts';
import { functionName, isCast, isColumnRef, isConstant, isFunction, type SqlNode } from './sql-tree.ts';
import type { ValueContext } from './sql-values.ts';
import { timeBucketOf, type TimeBucket } from './time-buckets.ts';
import type { ViewTable } from './view-table.ts';

/**
 * An expression, classified.
 *
 * @example
 * ```ts
 * const item: SelectItem = { kind: 'time', bucket: { granularity: 'day', form: 'timestamp' } };
 * ```
 */
export type SelectItem =
  | { readonly kind: 'time'; readonly bucket: TimeBucket }
  | { readonly kind: 'dimension'; readonly field: Field }
  | { readonly kind: 'measure'; readonly measure: MeasureSchema }
  | { readonly kind: 'aggregate'; readonly aggregate: MeasureAggregate };

/**
 * Classifies `node`, standing at `field` of the statement.
 *
 * @example
 * ```ts
 * classify(select.select_list[0], table, 'select[0]', context);   // { kind: 'dimension', field }
 * ```
 */
export function classify(node: SqlNode, table: ViewTable, field: string, context: ValueContext): SelectItem {
  if (isAggregate(node)) return { kind: 'aggregate', aggregate: measureAggregate(node, table, field, context) };
  if (hasAggregate(node)) {
    throw new UnsupportedSqlError(field, `${field} computes with aggregates; select each aggregate alone (sum(revenue), sum(orders)) and compute with them in the client.`);
  }
  if (node.class === 'WINDOW') throw new UnsupportedSqlError(field, `${field} is a window function, which Tandem does not answer; use GROUP BY with aggregates.`);
  const bucket = timeBucketOf(node, table.view, field, context);
  if (bucket !== undefined) return { kind: 'time', bucket };
  const column = isCast(node) && isColumnRef(node.child) ? node.child : node;
  if (isColumnRef(column)) {
    const resolved = table.resolve(column, field);
    if (resolved.kind === 'dimension') return { kind: 'dimension', field: resolved.field };
    if (resolved.kind === 'measure') return { kind: 'measure', measure: resolved.measure };
  }
  if (isConstant(node) || node.class === 'PARAMETER') {
    throw new UnsupportedSqlError(field, `${field} is a constant; select the view's columns: time buckets, dimensions and aggregates of measures.`);
  }
  const name = isFunction(node) ? ` ${functionName(node).slice(0, 64)}()` : '';
  throw new UnsupportedSqlError(field, `${field} is an expression${name} Tandem does not answer; select time buckets, dimensions and aggregates of measures as they are.`);
}

/**
 * The name PostgreSQL gives an unaliased output column: a column's name, a
 * function's name, `?column?` for an operator.
 *
 * @example
 * ```ts
 * defaultName(sumOfRevenue);   // 'sum'
 * ```
 */
export function defaultName(node: SqlNode): string {
  if (isColumnRef(node)) return node.column_names.at(-1)!;
  if (isCast(node)) return defaultName(node.child);
  if (!isFunction(node)) return '?column?';
  const name = functionName(node);
  if (name === 'quantile_cont' && (node.order_bys?.orders.length ?? 0) > 0) return 'percentile_cont';
  return /^[a-z_][a-z0-9_]*$/.test(name) ? name : '?column?';
}
