/**
 * A connection's run-time parameters: what the server reports at startup
 * (ParameterStatus), what `SET` changes and `SHOW` and `current_setting()`
 * read. Settings change nothing of how Tandem answers, except that a client
 * learns the values it expects (UTF-8, ISO dates, UTC); a client encoding
 * other than UTF-8 is refused, since every text is sent as UTF-8.
 *
 * @module
 */
import { PgUnsupportedError } from './pg-errors.ts';

/** The PostgreSQL version the endpoint answers as: clients choose their catalog queries by it. */
export const SERVER_VERSION = '15.0';

/** Parameters a server reports whenever they change, as PostgreSQL does (`GUC_REPORT`). */
const REPORTED = new Set(['server_version', 'server_encoding', 'client_encoding', 'application_name', 'datestyle', 'timezone', 'integer_datetimes', 'standard_conforming_strings', 'intervalstyle', 'is_superuser', 'session_authorization', 'default_transaction_read_only', 'in_hot_standby']);

/** The names PostgreSQL reports them under, in its own case. */
const REPORTED_NAME: Readonly<Record<string, string>> = { datestyle: 'DateStyle', timezone: 'TimeZone', intervalstyle: 'IntervalStyle' };

function defaults(user: string): Map<string, string> {
  return new Map(Object.entries({
    server_version: SERVER_VERSION, server_version_num: '150000', server_encoding: 'UTF8', client_encoding: 'UTF8', application_name: '',
    datestyle: 'ISO, MDY', timezone: 'UTC', integer_datetimes: 'on', standard_conforming_strings: 'on', intervalstyle: 'postgres',
    is_superuser: 'off', session_authorization: user, default_transaction_read_only: 'on', transaction_read_only: 'on', in_hot_standby: 'off',
    search_path: '"$user", public', statement_timeout: '0', lock_timeout: '0', extra_float_digits: '1', max_identifier_length: '63',
    transaction_isolation: 'read committed', default_transaction_isolation: 'read committed', lc_messages: 'C', lc_monetary: 'C', lc_numeric: 'C', lc_time: 'C',
    max_index_keys: '32', bytea_output: 'hex', client_min_messages: 'notice', block_size: '8192', enable_seqscan: 'on', jit: 'off',
  }));
}

/**
 * The parameters of one connection.
 *
 * @example
 * ```ts
 * const settings = new SessionSettings('grafana', new Map([['application_name', 'Grafana']]));
 * settings.set('TimeZone', 'UTC');   // [['TimeZone', 'UTC']]: ParameterStatus to send
 * settings.get('timezone');          // 'UTC'
 * ```
 */
export class SessionSettings {
  readonly #values: Map<string, string>;
  readonly #initial: Map<string, string>;

  constructor(user: string, startup: ReadonlyMap<string, string>) {
    this.#values = defaults(user);
    for (const [name, value] of startup) if (name !== 'user' && name !== 'database' && name !== 'options' && name !== 'replication') this.#apply(name, value);
    this.#initial = new Map(this.#values);
  }

  /** What ParameterStatus reports at startup. */
  reported(): [string, string][] {
    return [...this.#values].filter(([name]) => REPORTED.has(name)).map(([name, value]) => [REPORTED_NAME[name] ?? name, value]);
  }

  get(name: string): string | undefined {
    return this.#values.get(name.toLowerCase());
  }

  /** Every setting, for SHOW ALL. */
  all(): [string, string][] {
    return [...this.#values].sort(([a], [b]) => a.localeCompare(b));
  }

  /** Sets a parameter; answers the ParameterStatus to send if it is a reported one. */
  set(name: string, value: string): [string, string][] {
    const key = this.#apply(name, value);
    return REPORTED.has(key) ? [[REPORTED_NAME[key] ?? key, this.#values.get(key)!]] : [];
  }

  /** RESET one parameter, or ALL of them, to its value at startup. */
  reset(name: string): [string, string][] {
    const names = name.toLowerCase() === 'all' ? [...this.#initial.keys()] : [name.toLowerCase()];
    return names.flatMap((n) => (this.#initial.has(n) ? this.set(n, this.#initial.get(n)!) : []));
  }

  #apply(name: string, value: string): string {
    const key = name.toLowerCase();
    if (key === 'client_encoding' && !/^(utf-?8|unicode)$/i.test(value)) {
      throw new PgUnsupportedError(`client_encoding ${value.slice(0, 32)} is not supported; Tandem sends text as UTF8.`);
    }
    this.#values.set(key, key === 'client_encoding' ? 'UTF8' : value);
    return key;
  }
}
