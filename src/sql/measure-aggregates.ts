/**
 * Aggregates over measure columns, each merged by the measure's own monoid:
 * a view's rows are already aggregates, so `sum(revenue)` adds the parts of
 * a sum, `sum(orders)` those of a count, `min`/`max` take extremes, `avg` is
 * the exact merged average (never an average of averages), `count(DISTINCT
 * buyers)` and `approx_count_distinct(buyers)` merge the sketch, and
 * `percentile_cont(0.99) WITHIN GROUP (ORDER BY latency)` or
 * `approx_quantile(latency, 0.99)` read the quantile sketch. Anything else
 * done to a measure is refused with the aggregate to write instead.
 *
 * @module
 */
import type { MeasureSchema, MeasureType, ViewSchema } from '../definitions/index.ts';
import { InvalidSqlValueError, MeasureMisuseError, UnsupportedSqlError } from './errors.ts';
import { evaluate, shown, type ValueContext } from './sql-values.ts';
import { functionName, isColumnRef, isFunction, type FunctionNode, type SqlNode } from './sql-tree.ts';
import type { ViewTable } from './view-table.ts';

/**
 * A measure as an aggregate reads it: its result, or one quantile of it.
 *
 * @example
 * ```ts
 * const p99: MeasureAggregate = { measure, quantile: 0.99 };
 * ```
 */
export interface MeasureAggregate {
  readonly measure: MeasureSchema;
  readonly quantile: number | undefined;
}

/** The SQL aggregates, by DuckDB's name for them (`percentile_cont` parses as `quantile_cont`). */
const AGGREGATES = new Set([
  'sum', 'min', 'max', 'avg', 'mean', 'count', 'count_star', 'approx_count_distinct', 'quantile_cont', 'quantile_disc', 'approx_quantile', 'median',
  'quantile', 'percentile_cont', 'percentile_disc', 'stddev', 'variance', 'string_agg', 'array_agg', 'list', 'first', 'last', 'any_value', 'arbitrary',
  'bool_and', 'bool_or', 'product', 'mode', 'histogram', 'arg_min', 'arg_max', 'sum_no_overflow', 'fsum', 'favg', 'kahan_sum', 'entropy',
]);

/** Whether a function call is an aggregate (of any kind: the ones Tandem answers and the ones it refuses). */
export function isAggregate(node: SqlNode): node is FunctionNode {
  return isFunction(node) && AGGREGATES.has(functionName(node));
}

/** Whether an expression holds an aggregate anywhere. */
export function hasAggregate(node: unknown): boolean {
  if (node === null || typeof node !== 'object') return false;
  if (isFunction(node as SqlNode) && isAggregate(node as SqlNode)) return true;
  return Object.values(node).some(hasAggregate);
}

/** What to write for each measure type, as the refusals say it. */
export function aggregateFor(measure: MeasureSchema): string {
  const m = measure.name;
  switch (measure.type) {
    case 'count':
    case 'sum': return `sum(${m})`;
    case 'min': return `min(${m})`;
    case 'max': return `max(${m})`;
    case 'avg': return `avg(${m})`;
    case 'countDistinct': return `count(DISTINCT ${m}) or approx_count_distinct(${m})`;
    case 'quantiles': return `percentile_cont(0.99) WITHIN GROUP (ORDER BY ${m}) or approx_quantile(${m}, 0.99)`;
  }
}

const MERGED_BY: Readonly<Record<MeasureType, string>> = {
  count: 'a count measure, merged by adding',
  sum: 'a sum measure, merged by adding',
  min: 'a min measure, merged by taking the smallest',
  max: 'a max measure, merged by taking the largest',
  avg: 'an avg measure, merged as its exact sum over its count',
  countDistinct: 'a countDistinct measure, merged as a sketch of distinct values',
  quantiles: 'a quantiles measure, merged as a quantile sketch',
};

/**
 * The sentence that refuses a use of `measure` other than its aggregate.
 *
 * @example
 * ```ts
 * misuse('select[0]', revenue, 'max(revenue)');   // "select[0]: max(revenue) cannot be answered …, since 'revenue' is a sum measure, merged by adding; write sum(revenue)."
 * ```
 */
export function misuse(field: string, measure: MeasureSchema, written: string): MeasureMisuseError {
  return new MeasureMisuseError(field, measure.name, `${field}: ${written} cannot be answered from the view's rows, since '${measure.name}' is ${MERGED_BY[measure.type]}; write ${aggregateFor(measure)}.`);
}

/**
 * The measure and quantile an aggregate call reads, or a typed refusal.
 *
 * @example
 * ```ts
 * measureAggregate(sumOfRevenue, table, 'select[1]', context);   // { measure: revenue, quantile: undefined }
 * ```
 */
export function measureAggregate(node: FunctionNode, table: ViewTable, field: string, context: ValueContext): MeasureAggregate {
  const name = functionName(node);
  if (name === 'count_star') throw countStar(table.view, field);
  if (node.filter !== undefined && node.filter !== null) {
    throw new UnsupportedSqlError(field, `${field} filters an aggregate with FILTER (WHERE …); move the condition into the WHERE clause, or give the measure a filter of its own in the view's definition.`);
  }
  const ordered = node.order_bys?.orders ?? [];
  // percentile_cont(q) WITHIN GROUP (ORDER BY m) parses as quantile_cont(q) ordered by m.
  const [column, rest] = ordered.length > 0 ? [ordered[0]!.expression, node.children] : [node.children[0], node.children.slice(1)];
  if (column === undefined || !isColumnRef(column) || ordered.length > 1) {
    throw new UnsupportedSqlError(field, `${field} applies ${name}() to something other than one measure column; aggregate a measure by name, as in sum(revenue).`);
  }
  const resolved = table.resolve(column, field);
  if (resolved.kind !== 'measure') {
    const what = resolved.kind === 'time' ? "the time column" : `dimension '${resolved.field.name}'`;
    throw new UnsupportedSqlError(field, `${field} aggregates ${what}, but only measures aggregate; group by it instead.`);
  }
  const measure = resolved.measure;
  const written = `${name}(${node.distinct === true ? 'DISTINCT ' : ''}${measure.name})`;
  if (ordered.length > 0 && ordered[0]!.type === 'DESCENDING') throw new UnsupportedSqlError(field, `${field} orders a percentile's input descending; write percentile_cont(1 - q) WITHIN GROUP (ORDER BY ${measure.name}) instead.`);
  const quantile = quantileOf(name, rest, field, context);
  if (!answers(name, node.distinct === true, measure.type) || (quantile === undefined) !== (measure.type !== 'quantiles')) throw misuse(field, measure, written);
  if (node.distinct === true && name !== 'count') throw misuse(field, measure, written);
  return { measure, quantile };
}

function answers(name: string, distinct: boolean, type: MeasureType): boolean {
  switch (name) {
    case 'sum': return type === 'sum' || type === 'count';
    case 'min': return type === 'min';
    case 'max': return type === 'max';
    case 'avg':
    case 'mean': return type === 'avg';
    case 'count': return distinct && type === 'countDistinct';
    case 'approx_count_distinct': return type === 'countDistinct';
    case 'quantile_cont':
    case 'approx_quantile':
    case 'median': return type === 'quantiles';
    default: return false;
  }
}

/** The quantile a call asks for: `median` 0.5, the others their argument; undefined for a call that takes none. */
function quantileOf(name: string, rest: readonly SqlNode[], field: string, context: ValueContext): number | undefined {
  if (name === 'median' && rest.length === 0) return 0.5;
  if ((name !== 'quantile_cont' && name !== 'approx_quantile') || rest.length !== 1) return undefined;
  const q = evaluate(rest[0]!, field, context);
  if (q.kind !== 'number' || !(q.value >= 0 && q.value <= 1)) {
    throw new InvalidSqlValueError(field, `${field} asks for quantile ${shown(q)}; a quantile is a number from 0 to 1, such as 0.99.`);
  }
  return q.value;
}

function countStar(view: ViewSchema, field: string): UnsupportedSqlError {
  // A count with a filter of its own counts only some events: suggest one without.
  const count = view.measures.find((m) => m.type === 'count' && m.filter.length === 0);
  const instead = count === undefined ? `view '${view.name}' has no count measure of all its events to sum` : `write sum(${count.name}) to count events`;
  return new UnsupportedSqlError(field, `${field}: count(*) would count the view's rows (its buckets), not events; ${instead}.`);
}
