/**
 * ORDER BY, LIMIT and OFFSET onto a query's `orderBy` and `limit`. An
 * ORDER BY term is an output column's position or name (as in PostgreSQL,
 * output names come first) or an expression over the view; each becomes a
 * measure (or one of its quantiles), a grouped dimension or the time. Nulls
 * sort last in either direction (as DuckDB's default), so `NULLS FIRST` is
 * refused. The JSON query has no offset: it is asked for `limit + offset`
 * rows and the first `offset` are dropped.
 *
 * @module
 */
import type { OrderBy } from '../serving/index.ts';
import { InvalidSqlValueError, UnsupportedSqlError } from './errors.ts';
import type { ColumnSource, PlannedColumn } from './sql-columns.ts';
import { evaluate, shown, type ValueContext } from './sql-values.ts';
import { isColumnRef, isConstant, sameName, type OrderTerm, type SqlNode } from './sql-tree.ts';

/**
 * What a term sorts by, once resolved: a column source, as the SELECT list's are.
 *
 * @example
 * ```ts
 * const resolveTerm = (node: SqlNode, field: string) => planned[0]!.source;
 * ```
 */
export type ResolveTerm = (node: SqlNode, field: string) => ColumnSource;

/**
 * The output column a term names by position (`ORDER BY 2`) or by name, if it does.
 *
 * @example
 * ```ts
 * outputColumn(term.expression, columns, 'order by[0]');   // the second column, for ORDER BY 2
 * ```
 */
export function outputColumn(node: SqlNode, columns: readonly PlannedColumn[], field: string): PlannedColumn | undefined {
  if (isConstant(node) && typeof node.value.value === 'number' && node.value.type.id !== 'DECIMAL') {
    const position = node.value.value;
    const column = columns[position - 1];
    if (!Number.isInteger(position) || column === undefined) {
      throw new UnsupportedSqlError(field, `${field} names output column ${position}, but the SELECT list has ${columns.length}; count from 1.`);
    }
    return column;
  }
  if (isColumnRef(node) && node.column_names.length === 1) return columns.find((c) => sameName(c.name, node.column_names[0]!));
  return undefined;
}

/**
 * The `orderBy` of the JSON query for the ORDER BY terms.
 *
 * @example
 * ```ts
 * planOrder(orders, columns, resolveTerm);   // [{ measure: 'revenue', desc: true }]
 * ```
 */
export function planOrder(terms: readonly OrderTerm[], columns: readonly PlannedColumn[], resolve: ResolveTerm): OrderBy[] {
  const orderBy: OrderBy[] = [];
  const seen = new Map<string, number | undefined>();
  terms.forEach((term, i) => {
    const field = `order by[${i}]`;
    if (term.null_order.includes('FIRST')) throw new UnsupportedSqlError(field, `${field} asks for NULLS FIRST; nulls sort last in either direction, so leave it out or write NULLS LAST.`);
    const source = outputColumn(term.expression, columns, field)?.source ?? resolve(term.expression, field);
    const desc = term.type === 'DESCENDING';
    const key = source.kind === 'time' ? 'time' : source.kind === 'dimension' ? `d:${source.name}` : `m:${source.measure.name}`;
    const quantile = source.kind === 'measure' ? source.quantile : undefined;
    if (seen.has(key)) {
      // A second sort on the same key changes nothing, unless it reads another quantile of it, which the JSON query cannot.
      if (seen.get(key) !== quantile) throw new UnsupportedSqlError(field, `${field} orders by a second quantile of a measure already ordered by; order by one quantile of each measure.`);
      return;
    }
    seen.set(key, quantile);
    orderBy.push(orderKey(source, desc));
  });
  return orderBy;
}

function orderKey(source: ColumnSource, desc: boolean): OrderBy {
  const direction = desc ? { desc: true } : {};
  if (source.kind === 'time') return { time: true, ...direction };
  if (source.kind === 'dimension') return { dimension: source.name, ...direction };
  return { measure: source.measure.name, ...(source.quantile === undefined ? {} : { quantile: source.quantile }), ...direction };
}

/**
 * A LIMIT or OFFSET: a whole number of rows, or undefined for none (`LIMIT ALL`, `LIMIT NULL`).
 *
 * @example
 * ```ts
 * rowCount(modifier.limit, 'limit', context);   // 10
 * ```
 */
export function rowCount(node: SqlNode | null | undefined, field: 'limit' | 'offset', context: ValueContext): number | undefined {
  if (node === null || node === undefined) return undefined;
  const value = evaluate(node, field, context);
  if (value.kind === 'null') return undefined;
  if (value.kind !== 'number' || !Number.isSafeInteger(value.value) || value.value < 0) {
    throw new InvalidSqlValueError(field, `${field.toUpperCase()} is ${shown(value)}; it must be a whole number of rows, 0 or more.`);
  }
  return value.value;
}
