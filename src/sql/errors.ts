/**
 * The ways a SQL query over the views fails, one class each. Every one
 * carries a stable `code` (mapped to an HTTP status in src/server/http-errors.ts)
 * and a `field` naming the part of the statement at fault (`select[1]`,
 * `where`, `group by[0]`, `order by[0]`, `limit`, `params[2]`, `sql`), and
 * says in one sentence what to write instead.
 *
 * @module
 */
import { TandemError } from '../definitions/errors.ts';

/**
 * The base of every SQL refusal: each names the clause at fault in `field`
 * (`sql` for the text as a whole).
 *
 * @example
 * ```ts
 * catch (error) {
 *   if (error instanceof SqlClauseError) console.error(`${error.field}: ${error.message}`);
 * }
 * ```
 */
export abstract class SqlClauseError extends TandemError {
  constructor(readonly field: string, message: string) {
    super(message);
  }
}

/**
 * The text is not SQL that PostgreSQL's dialect (as DuckDB's parser reads it) accepts, or is not one SELECT.
 *
 * @example
 * ```ts
 * await sql.run({ sql: 'SELEC 1' }).catch((error) => {
 *   if (error instanceof SqlSyntaxError) console.error(error.message);   // names the parser's complaint
 * });
 * ```
 */
export class SqlSyntaxError extends SqlClauseError {
  readonly code = 'sql_syntax';
  constructor(message: string) {
    super('sql', message);
  }
}

/**
 * The SQL text is longer, or nested deeper, than a query may be.
 *
 * @example
 * ```ts
 * await sql.run({ sql: hugeText }).catch((error) => {
 *   if (error instanceof SqlTooLargeError) console.error(error.limit);
 * });
 * ```
 */
export class SqlTooLargeError extends SqlClauseError {
  readonly code = 'sql_too_large';
  constructor(readonly limit: number, message: string) {
    super('sql', message);
  }
}

/**
 * A construct Tandem's SQL does not answer (a join, OR, LIKE, HAVING, a
 * window, an expression over columns); the message says what to write.
 *
 * @example
 * ```ts
 * await sql.run({ sql: "SELECT sum(revenue) FROM revenue_by_country WHERE country LIKE 'D%'" }).catch((error) => {
 *   if (error instanceof UnsupportedSqlError) console.error(`${error.field}: ${error.message}`);
 * });
 * ```
 */
export class UnsupportedSqlError extends SqlClauseError {
  readonly code = 'sql_unsupported';
}

/**
 * A column that the view, read as a table, does not have.
 *
 * @example
 * ```ts
 * await sql.run({ sql: 'SELECT sum(revenu) FROM revenue_by_country' }).catch((error) => {
 *   if (error instanceof UnknownColumnError) console.error(error.column);   // 'revenu'
 * });
 * ```
 */
export class UnknownColumnError extends SqlClauseError {
  readonly code = 'unknown_column';
  constructor(field: string, readonly column: string, readonly view: string, columns: readonly string[]) {
    super(field, `${field} names column '${column.slice(0, 64)}', which view '${view}' does not have; its columns are ${columns.join(', ')}.`);
  }
}

/**
 * A measure column used other than through the aggregate that merges it by
 * its monoid (`max(revenue)` of a sum, `revenue` alone in a grouped query).
 *
 * @example
 * ```ts
 * await sql.run({ sql: 'SELECT max(revenue) FROM revenue_by_country' }).catch((error) => {
 *   if (error instanceof MeasureMisuseError) console.error(error.message);   // "... write sum(revenue)."
 * });
 * ```
 */
export class MeasureMisuseError extends SqlClauseError {
  readonly code = 'measure_misuse';
  constructor(field: string, readonly measure: string, message: string) {
    super(field, message);
  }
}

/**
 * A time bucket (`date_trunc`, `time_bucket`, Grafana's `floor(extract(epoch
 * from time)/N)*N`) finer than the view's, or of a width no granularity has.
 *
 * @example
 * ```ts
 * await sql.run({ sql: "SELECT time_bucket('5 minutes', time), sum(orders) FROM revenue_by_country GROUP BY 1" }).catch((error) => {
 *   if (error instanceof TimeBucketError) console.error(error.message);
 * });
 * ```
 */
export class TimeBucketError extends SqlClauseError {
  readonly code = 'time_bucket_unsupported';
}

/**
 * A value that cannot be read as what it is compared with or used as: a
 * time that is no timestamp, a limit that is no whole number, a quantile
 * outside 0–1, a dimension value of the wrong type.
 *
 * @example
 * ```ts
 * await sql.run({ sql: "SELECT sum(orders) FROM revenue_by_country WHERE time >= 'yesterday'" }).catch((error) => {
 *   if (error instanceof InvalidSqlValueError) console.error(`${error.field}: ${error.message}`);
 * });
 * ```
 */
export class InvalidSqlValueError extends SqlClauseError {
  readonly code = 'invalid_sql_value';
}

/**
 * A `$n` parameter with no value in `params`, a value no `$n` uses, or a value of a type SQL cannot take.
 *
 * @example
 * ```ts
 * await sql.run({ sql: 'SELECT sum(orders) FROM revenue_by_country WHERE country = $1', params: [] }).catch((error) => {
 *   if (error instanceof SqlParameterError) console.error(error.field);   // 'params[0]'
 * });
 * ```
 */
export class SqlParameterError extends SqlClauseError {
  readonly code = 'sql_parameter';
}
