/**
 * A view read as a table: its columns are `time` (the bucket start; a view
 * without time buckets has none), its dimensions and its measures. Names
 * are matched without case, as unquoted SQL names are, which is unambiguous
 * since a config's names differ by more than case.
 *
 * @module
 */
import type { Field, MeasureSchema, ViewSchema } from '../definitions/index.ts';
import { UnknownColumnError, UnsupportedSqlError } from './errors.ts';
import { sameName, type ColumnRefNode, type TableRef } from './sql-tree.ts';

/**
 * A column of a view's table.
 *
 * @example
 * ```ts
 * const column: ViewColumn = { kind: 'time' };
 * ```
 */
export type ViewColumn =
  | { readonly kind: 'time' }
  | { readonly kind: 'dimension'; readonly field: Field }
  | { readonly kind: 'measure'; readonly measure: MeasureSchema };

/**
 * The PostgreSQL type names answers declare their columns with, as BI tools
 * read them: `json` for a quantiles measure read whole (an object such as
 * `{ "p50": …, "p99": … }`).
 *
 * @example
 * ```ts
 * const revenue: SqlType = 'numeric';
 * ```
 */
export type SqlType = 'timestamptz' | 'date' | 'text' | 'bool' | 'int8' | 'float8' | 'numeric' | 'json';

/**
 * The view a statement reads, with the name its columns may be qualified by.
 *
 * @example
 * ```ts
 * const table = new ViewTable(view, 'r');
 * table.resolve(columnRef, 'select[0]');   // { kind: 'dimension', field }
 * ```
 */
export class ViewTable {
  constructor(readonly view: ViewSchema, private readonly alias: string | undefined) {}

  /** Whether the view has a time column (it has time buckets). */
  get hasTime(): boolean {
    return this.view.granularity !== 'none';
  }

  /** The column names, as `SELECT *` lists them. */
  columnNames(): string[] {
    return [...(this.hasTime ? ['time'] : []), ...this.view.dimensions.map((d) => d.name), ...this.view.measures.map((m) => m.name)];
  }

  /** Every column, in `SELECT *` order. */
  columns(): ViewColumn[] {
    return [
      ...(this.hasTime ? [{ kind: 'time' } as const] : []),
      ...this.view.dimensions.map((field) => ({ kind: 'dimension', field }) as const),
      ...this.view.measures.map((measure) => ({ kind: 'measure', measure }) as const),
    ];
  }

  /** The column a reference names; `field` is where it stands, for the error. */
  resolve(ref: ColumnRefNode, field: string): ViewColumn {
    const names = ref.column_names;
    if (!this.#qualifies(names.slice(0, -1))) {
      throw new UnsupportedSqlError(field, `${field} names '${names.join('.').slice(0, 128)}'; qualify a column with the view's name (in schema public) or alias only, or not at all.`);
    }
    const name = names.at(-1)!;
    if (sameName(name, 'time') && this.hasTime) return { kind: 'time' };
    const dimension = this.view.dimensions.find((d) => sameName(d.name, name));
    if (dimension !== undefined) return { kind: 'dimension', field: dimension };
    const measure = this.view.measures.find((m) => sameName(m.name, name));
    if (measure !== undefined) return { kind: 'measure', measure };
    if (sameName(name, 'time')) throw new UnsupportedSqlError(field, `${field} names column 'time', but view '${this.view.name}' has no time buckets (granularity none), so it has no time column.`);
    throw new UnknownColumnError(field, name, this.view.name, this.columnNames());
  }

  /** Whether a column's qualifier names this table: none, its alias, its view, or its view in a schema (as Metabase writes `"public"."view"."column"`). */
  #qualifies(qualifier: readonly string[]): boolean {
    if (qualifier.length === 0) return true;
    if (qualifier.length === 1 && this.alias !== undefined && this.alias !== '' && sameName(qualifier[0]!, this.alias)) return true;
    const [schema, table] = qualifier.length === 2 ? qualifier : ['', qualifier[0]];
    return qualifier.length <= 2 && SCHEMAS.includes(schema!.toLowerCase()) && sameName(table!, this.view.name);
  }
}

/** Schemas a view may be named in: none, PostgreSQL's default and DuckDB's. */
const SCHEMAS = ['', 'public', 'main'];

/**
 * The view a FROM clause names, or a refusal: exactly one view, no join or subquery.
 *
 * @example
 * ```ts
 * const { view, name } = findView(catalog.views, select.from_table);
 * ```
 */
export function findView(views: ReadonlyMap<string, ViewSchema>, from: TableRef): { readonly view: ViewSchema | undefined; readonly name: string } {
  if (from.type === 'EMPTY') throw new UnsupportedSqlError('from', 'The SELECT reads no view; name one, as in SELECT … FROM revenue_by_country.');
  if (from.type !== 'BASE_TABLE' || from.table_name === undefined) {
    throw new UnsupportedSqlError('from', 'FROM must name exactly one view: joins, subqueries and table functions are not supported.');
  }
  const name = from.table_name;
  if (!SCHEMAS.includes((from.schema_name ?? '').toLowerCase()) || !['', 'memory', 'tandem'].includes((from.catalog_name ?? '').toLowerCase())) {
    return { view: undefined, name: `${from.schema_name}.${name}` };
  }
  const view = [...views.values()].find((v) => sameName(v.name, name));
  return { view, name };
}

/**
 * The type a view column answers with, read whole (a dimension, the time, or a measure in a row of the view itself).
 *
 * @example
 * ```ts
 * columnType({ kind: 'time' });   // 'timestamptz'
 * ```
 */
export function columnType(column: ViewColumn): SqlType {
  if (column.kind === 'time') return 'timestamptz';
  if (column.kind === 'dimension') return fieldType(column.field);
  return measureType(column.measure);
}

function fieldType(field: Field): SqlType {
  if (field.type === 'string') return 'text';
  if (field.type === 'boolean') return 'bool';
  if (field.type === 'timestamp') return 'timestamptz';
  return field.scale === 0 ? 'int8' : 'numeric';
}

/** A measure's result type: counts are whole numbers, sums and averages exact decimals, quantiles an object. */
export function measureType(measure: MeasureSchema): SqlType {
  switch (measure.type) {
    case 'count':
    case 'countDistinct':
      return 'int8';
    case 'min':
    case 'max':
      return measure.field!.type === 'timestamp' ? 'timestamptz' : 'numeric';
    case 'quantiles':
      return 'json';
    default:
      return 'numeric';
  }
}
