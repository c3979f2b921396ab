/**
 * The ways the PostgreSQL endpoint refuses, one class each, and the
 * SQLSTATE every Tandem error answers with there. A refusal of SQL keeps
 * the one sentence `POST /v1/sql` answers; the code is the one a
 * PostgreSQL client understands for it.
 *
 * @module
 */
import { TandemError } from '../definitions/index.ts';
import type { ErrorFields } from './backend-messages.ts';

/**
 * A base for the endpoint's own refusals: each carries its SQLSTATE.
 *
 * @example
 * ```ts
 * catch (error) {
 *   if (error instanceof PgWireError) console.error(error.sqlState, error.message);
 * }
 * ```
 */
export abstract class PgWireError extends TandemError {
  abstract readonly sqlState: string;
}

/**
 * The client broke the protocol: a malformed or oversized message, an unknown version, a message out of place.
 *
 * @example
 * ```ts
 * throw new PgProtocolError('The message is shorter than its fields.');
 * ```
 */
export class PgProtocolError extends PgWireError {
  readonly code = 'pg_protocol_violation';
  readonly sqlState = '08P01';
}

/**
 * The password is no API key this server knows (with keys, the password must be one).
 *
 * @example
 * ```ts
 * throw new PgAuthenticationError('x');   // password authentication failed for user "x": the password must be an API key of this server.
 * ```
 */
export class PgAuthenticationError extends PgWireError {
  readonly code = 'unauthorized';
  readonly sqlState = '28P01';
  constructor(readonly user: string) {
    super(`password authentication failed for user "${user.slice(0, 64)}": the password must be an API key of this server.`);
  }
}

/**
 * A statement that would change something: the views are read-only.
 *
 * @example
 * ```ts
 * throw new PgReadOnlyError('INSERT');
 * ```
 */
export class PgReadOnlyError extends PgWireError {
  readonly code = 'read_only';
  readonly sqlState = '25006';
  constructor(readonly command: string) {
    super(`${command.slice(0, 32)} is not answered: Tandem's views are read-only; send events to POST /v1/events.`);
  }
}

/**
 * A statement the endpoint does not answer (COPY, LISTEN, a cursor, a function call).
 *
 * @example
 * ```ts
 * throw new PgUnsupportedError('COPY is not supported; read rows with SELECT.');
 * ```
 */
export class PgUnsupportedError extends PgWireError {
  readonly code = 'pg_unsupported';
  readonly sqlState = '0A000';
}

/**
 * The client cancelled the statement (a CancelRequest with this connection's key).
 *
 * @example
 * ```ts
 * throw new PgCancelledError();
 * ```
 */
export class PgCancelledError extends PgWireError {
  readonly code = 'query_cancelled';
  readonly sqlState = '57014';
  constructor() {
    super('canceling statement due to user request');
  }
}

/**
 * A statement sent inside a transaction block that an earlier error failed, before its ROLLBACK.
 *
 * @example
 * ```ts
 * throw new PgTransactionAbortedError();
 * ```
 */
export class PgTransactionAbortedError extends PgWireError {
  readonly code = 'transaction_aborted';
  readonly sqlState = '25P02';
  constructor() {
    super('current transaction is aborted, commands ignored until end of transaction block');
  }
}

/**
 * A client that does not finish its startup and authentication in time.
 *
 * @example
 * ```ts
 * throw new PgStartupTimeoutError(10_000);
 * ```
 */
export class PgStartupTimeoutError extends PgWireError {
  readonly code = 'startup_timeout';
  readonly sqlState = '08006';
  constructor(readonly timeoutMs: number) {
    super(`The connection did not finish its startup within ${timeoutMs.toLocaleString('en-US')} ms and is closed.`);
  }
}

/**
 * A prepared statement or portal the client names that does not exist (or a parameter count that does not match).
 *
 * @example
 * ```ts
 * throw new PgUnknownObjectError('prepared statement "s1" does not exist');
 * ```
 */
export class PgUnknownObjectError extends PgWireError {
  readonly code = 'pg_unknown_object';
  readonly sqlState = '26000';
}

/**
 * A catalog statement (over `pg_catalog` or `information_schema`) that the small catalog cannot answer.
 *
 * @example
 * ```ts
 * throw new PgCatalogError('The catalog has no table pg_foo; it answers pg_class, pg_attribute, ….');
 * ```
 */
export class PgCatalogError extends PgWireError {
  readonly code = 'pg_catalog';
  readonly sqlState = '42P01';
}

/** The SQLSTATE of each Tandem error code seen by a statement; anything else is an internal error (XX000). */
const SQL_STATE: Readonly<Record<string, string>> = {
  sql_syntax: '42601',
  sql_too_large: '54000',
  sql_unsupported: '0A000',
  unknown_column: '42703',
  measure_misuse: '42803',
  time_bucket_unsupported: '0A000',
  invalid_sql_value: '22023',
  sql_parameter: '42P02',
  unknown_view: '42P01',
  unknown_dimension: '42703',
  unknown_measure: '42703',
  invalid_query: '22023',
  result_too_large: '54000',
  query_timeout: '57014',
  forbidden: '42501',
  shutting_down: '57P01',
  view_not_ready: '57P03',
  partitions_unavailable: '57P03',
  served_version_changing: '40001',
  log_closed: '57P01',
};

/**
 * The ErrorResponse fields for an error: a Tandem error keeps its sentence;
 * anything unexpected says nothing of its internals.
 *
 * @example
 * ```ts
 * errorFields(new UnknownViewError('x'));   // { severity: 'ERROR', code: '42P01', message: "Unknown view 'x'." }
 * ```
 */
export function errorFields(error: unknown, severity: 'ERROR' | 'FATAL' = 'ERROR'): ErrorFields {
  if (error instanceof PgWireError) return { severity, code: error.sqlState, message: error.message };
  if (error instanceof TandemError) return { severity, code: SQL_STATE[error.code] ?? (error.code.startsWith('sql') ? '42000' : 'XX000'), message: error.message };
  return { severity, code: 'XX000', message: 'The statement failed inside the server; its log has the detail.' };
}

/** Whether an error is one the server logs: not a refusal of the statement, but a fault. */
export function isUnexpected(error: unknown): boolean {
  return !(error instanceof TandemError);
}
