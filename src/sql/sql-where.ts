/**
 * A WHERE clause onto a query's `from`, `to` and `where`: an AND of
 * comparisons of `time` with values (`>=`, `>`, `<`, `<=`, `=`, `BETWEEN`),
 * which narrow the bucket range, and of dimensions with values (`=`, `IN`,
 * `IS NULL`), which keep rows whose dimension is one of the values. The
 * JSON query keeps only listed values, so `<>`, `NOT IN`, `LIKE`, `OR` and
 * `NOT` are refused, as is any condition on a measure (a view's rows are
 * already aggregates).
 *
 * @module
 */
import { InvalidEventError, MAX_TIME, MIN_TIME, normalizeValue, type Field } from '../definitions/index.ts';
import type { DimensionInput } from '../serving/index.ts';
import { InvalidSqlValueError, UnsupportedSqlError } from './errors.ts';
import { evaluate, shown, toTime, type SqlValue, type ValueContext } from './sql-values.ts';
import { isColumnRef, type BetweenNode, type ComparisonNode, type ListNode, type SqlNode } from './sql-tree.ts';
import type { ViewColumn, ViewTable } from './view-table.ts';

/**
 * What a WHERE clause keeps: buckets starting in `[from, to)` (epoch ms,
 * within the times events can hold) and, per dimension, the values kept.
 *
 * @example
 * ```ts
 * const kept: WherePlan = { from: Date.UTC(2024, 4, 1), to: Infinity, where: new Map([['country', ['DE']]]) };
 * ```
 */
export interface WherePlan {
  readonly from: number;
  readonly to: number;
  /** Per dimension, the values a row may have; an empty list keeps no row. */
  readonly where: ReadonlyMap<string, readonly DimensionInput[]>;
}

const LATEST = MAX_TIME + 1;

const DIMENSION_HINT = "keep dimension values with =, IN (…) or IS NULL, joined by AND";

const FLIPPED: Readonly<Record<string, string>> = {
  COMPARE_GREATERTHANOREQUALTO: 'COMPARE_LESSTHANOREQUALTO', COMPARE_LESSTHANOREQUALTO: 'COMPARE_GREATERTHANOREQUALTO',
  COMPARE_GREATERTHAN: 'COMPARE_LESSTHAN', COMPARE_LESSTHAN: 'COMPARE_GREATERTHAN', COMPARE_EQUAL: 'COMPARE_EQUAL', COMPARE_NOTEQUAL: 'COMPARE_NOTEQUAL',
};

/** Builds a {@link WherePlan} from the conditions of one WHERE clause. */
class WhereBuilder {
  from = MIN_TIME;
  to = LATEST;
  readonly where = new Map<string, DimensionInput[]>();

  constructor(private readonly table: ViewTable, private readonly context: ValueContext) {}

  add(node: SqlNode): void {
    if (node.type === 'CONJUNCTION_AND') return (node as ListNode).children.forEach((child) => this.add(child));
    if (node.type === 'CONJUNCTION_OR') throw new UnsupportedSqlError('where', `WHERE joins conditions with OR; ${DIMENSION_HINT} (country IN ('DE', 'FR') instead of country = 'DE' OR country = 'FR').`);
    if (node.class === 'COMPARISON') return this.#comparison(node as ComparisonNode);
    if (node.class === 'BETWEEN' && node.type === 'COMPARE_BETWEEN') return this.#between(node as BetweenNode);
    if (node.type === 'COMPARE_IN') return this.#in(node as ListNode);
    if (node.type === 'OPERATOR_IS_NULL') return this.#isNull(node as ListNode);
    this.#refuse(node);
  }

  #refuse(node: SqlNode): never {
    if (node.type === 'COMPARE_NOT_IN' || node.type === 'OPERATOR_NOT' || node.type === 'OPERATOR_IS_NOT_NULL') {
      throw new UnsupportedSqlError('where', `WHERE excludes values (NOT IN, NOT or IS NOT NULL), which a query over the views cannot express; ${DIMENSION_HINT}.`);
    }
    const name = (node as { function_name?: string }).function_name;
    if (name !== undefined && ['~~', '!~~', '~~*', '!~~*', 'like', 'ilike', 'regexp_matches', 'prefix', 'suffix', 'contains'].includes(name.toLowerCase())) {
      throw new UnsupportedSqlError('where', `WHERE matches a pattern (LIKE), which a query over the views cannot express; ${DIMENSION_HINT}.`);
    }
    throw new UnsupportedSqlError('where', `WHERE holds a condition Tandem cannot answer; compare time with >=, <, BETWEEN, and ${DIMENSION_HINT}.`);
  }

  #comparison(node: ComparisonNode): void {
    const leftColumn = isColumnRef(node.left);
    const [columnNode, valueNode, type] = leftColumn ? [node.left, node.right, node.type] : [node.right, node.left, FLIPPED[node.type] ?? node.type];
    if (!isColumnRef(columnNode)) throw new UnsupportedSqlError('where', 'WHERE compares an expression; compare a column (time or a dimension) with a value.');
    const column = this.table.resolve(columnNode, 'where');
    if (column.kind === 'time') return this.#timeBound(type, this.#value(valueNode));
    if (type === 'COMPARE_NOTEQUAL' || type === 'COMPARE_DISTINCT_FROM') {
      throw new UnsupportedSqlError('where', `WHERE compares '${columnName(column)}' with <>, which a query over the views cannot express; ${DIMENSION_HINT}.`);
    }
    if (type !== 'COMPARE_EQUAL' && type !== 'COMPARE_NOT_DISTINCT_FROM') this.#notDimensionRange(column);
    this.#keep(column, [this.#value(valueNode)]);
  }

  #between(node: BetweenNode): void {
    if (!isColumnRef(node.input)) throw new UnsupportedSqlError('where', 'WHERE applies BETWEEN to an expression; write time BETWEEN … AND ….');
    const column = this.table.resolve(node.input, 'where');
    if (column.kind !== 'time') this.#notDimensionRange(column);
    this.#timeBound('COMPARE_GREATERTHANOREQUALTO', this.#value(node.lower));
    this.#timeBound('COMPARE_LESSTHANOREQUALTO', this.#value(node.upper));
  }

  #isNull(node: ListNode): void {
    const columnNode = node.children[0]!;
    if (!isColumnRef(columnNode)) throw new UnsupportedSqlError('where', 'WHERE applies IS NULL to an expression; write a dimension IS NULL.');
    const column = this.table.resolve(columnNode, 'where');
    if (column.kind !== 'dimension') this.#notDimensionRange(column, 'IS NULL');
    this.#keep(column, [], true);
  }

  #in(node: ListNode): void {
    const [columnNode, ...valueNodes] = node.children;
    if (!isColumnRef(columnNode!)) throw new UnsupportedSqlError('where', 'WHERE applies IN to an expression; write a dimension IN (…).');
    const column = this.table.resolve(columnNode, 'where');
    if (column.kind !== 'dimension') this.#notDimensionRange(column, 'IN');
    this.#keep(column, valueNodes.map((v) => this.#value(v)));
  }

  #notDimensionRange(column: ViewColumn, what = 'a range'): never {
    if (column.kind === 'measure') {
      throw new UnsupportedSqlError('where', `WHERE filters on measure '${column.measure.name}', but a view's rows are already aggregates; filter on time and dimensions only.`);
    }
    if (column.kind === 'time') throw new UnsupportedSqlError('where', `WHERE applies ${what} to time; bound time with >=, >, <, <= or BETWEEN.`);
    throw new UnsupportedSqlError('where', `WHERE applies ${what} to dimension '${column.field.name}'; ${DIMENSION_HINT}.`);
  }

  #value(node: SqlNode): SqlValue {
    return evaluate(node, 'where', this.context);
  }

  #timeBound(type: string, value: SqlValue): void {
    if (value.kind === 'null') {
      // time compared with null is never true: keep nothing.
      this.to = this.from;
      return;
    }
    const t = toTime(value, 'where');
    switch (type) {
      case 'COMPARE_GREATERTHANOREQUALTO': this.from = Math.max(this.from, Math.ceil(t)); break;
      case 'COMPARE_GREATERTHAN': this.from = Math.max(this.from, Math.floor(t) + 1); break;
      case 'COMPARE_LESSTHAN': this.to = Math.min(this.to, Math.ceil(t)); break;
      case 'COMPARE_LESSTHANOREQUALTO': this.to = Math.min(this.to, Math.floor(t) + 1); break;
      case 'COMPARE_EQUAL':
        this.from = Math.max(this.from, Math.ceil(t));
        this.to = Math.min(this.to, Math.floor(t) + 1);
        break;
      default: throw new UnsupportedSqlError('where', 'WHERE compares time with <>; bound time with >=, >, <, <= or BETWEEN.');
    }
  }

  /**
   * Keeps the rows whose dimension is one of `values`, or null when `isNull`.
   * As in SQL, `=` and `IN` never match a null (`x = NULL` is not true), so
   * null values in their lists are left out; only IS NULL keeps nulls.
   */
  #keep(column: ViewColumn, values: readonly SqlValue[], isNull = false): void {
    if (column.kind !== 'dimension') return this.#notDimensionRange(column, '=');
    const field = column.field;
    const kept = isNull ? [null] : values.filter((v) => v.kind !== 'null').map((v) => dimensionValue(field, v));
    const listed = new Map(kept.map((v) => [valueKey(field, v), v]));
    const earlier = this.where.get(field.name);
    // Two conditions on one dimension: a row must meet both.
    this.where.set(field.name, earlier === undefined ? [...listed.values()] : earlier.filter((v) => listed.has(valueKey(field, v))));
  }

  plan(): WherePlan {
    return { from: this.from, to: Math.max(this.from, this.to), where: this.where };
  }
}

function columnName(column: ViewColumn): string {
  return column.kind === 'time' ? 'time' : column.kind === 'dimension' ? column.field.name : column.measure.name;
}

/** A value as the JSON query's `where` takes it for this dimension, checked as an event's value would be. */
function dimensionValue(field: Field, value: SqlValue): DimensionInput {
  if (value.kind === 'null') return null;
  if (value.kind === 'time' || value.kind === 'interval') {
    throw new InvalidSqlValueError('where', `WHERE compares dimension '${field.name}' with ${shown(value)}; compare it with a ${field.type} value.`);
  }
  try {
    normalizeValue({ ...field, optional: false }, value.value);
  } catch (error) {
    if (error instanceof InvalidEventError) throw new InvalidSqlValueError('where', `WHERE compares dimension '${field.name}' with ${shown(value)}, which it cannot hold: ${error.message}`);
    throw error;
  }
  return value.value;
}

/** A dimension value's identity: its normalized form, so `2.50` and `'2.5'` are one value of a number dimension. */
function valueKey(field: Field, value: DimensionInput): string {
  return value === null ? 'null' : JSON.stringify(normalizeValue({ ...field, optional: false }, value));
}

/**
 * The range and dimension values a WHERE clause keeps (everything when there is none).
 *
 * @example
 * ```ts
 * planWhere(select.where_clause, table, context);   // { from, to, where }
 * ```
 */
export function planWhere(clause: SqlNode | null, table: ViewTable, context: ValueContext): WherePlan {
  const builder = new WhereBuilder(table, context);
  if (clause !== null) builder.add(clause);
  return builder.plan();
}
