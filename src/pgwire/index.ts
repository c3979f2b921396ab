/**
 * The PostgreSQL wire-protocol endpoint: psql, Grafana, Metabase and every
 * PostgreSQL driver connect to Tandem's views as tables, answered as `POST
 * /v1/sql` answers.
 *
 * @module
 */
export { PgWireServer, type PgWireOptions } from './pg-listener.ts';
export {
  PgWireError, PgProtocolError, PgAuthenticationError, PgReadOnlyError, PgUnsupportedError, PgCancelledError, PgUnknownObjectError, PgCatalogError,
  PgTransactionAbortedError, PgStartupTimeoutError,
} from './pg-errors.ts';
