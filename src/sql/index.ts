/**
 * SQL over the merged views: each view is a table (`time`, its dimensions,
 * its measures), and a SELECT is parsed by DuckDB's parser and planned onto
 * the JSON query, so it is answered by the same exact merge, within the
 * same limits.
 *
 * @module
 */
export { SqlRunner, type SqlEngine, type SqlRequest } from './sql-runner.ts';
export { planSql, type SqlPlan } from './sql-plan.ts';
export { SqlParser, MAX_SQL_LENGTH } from './sql-parser.ts';
export type { SqlResult, SqlCell } from './sql-answer.ts';
export type { SqlColumn } from './sql-columns.ts';
export { ViewTable, columnType, type SqlType, type ViewColumn } from './view-table.ts';
export {
  InvalidSqlValueError, MeasureMisuseError, SqlClauseError, SqlParameterError, SqlSyntaxError, SqlTooLargeError, TimeBucketError, UnknownColumnError, UnsupportedSqlError,
} from './errors.ts';
