/**
 * The small catalog that answers what clients ask of `pg_catalog` and
 * `information_schema` (and statements that read no table, such as
 * `SELECT 1` and `SELECT version()`): an in-memory DuckDB instance of its
 * own that holds only the catalog tables of catalog-tables.ts, described
 * from the view definitions, and never any data. A statement is parsed
 * there, planned by catalog-rewrite.ts onto those tables, and the planned
 * tree (not the text) is what runs, with files and the network closed to the
 * instance and its settings locked.
 *
 * @module
 */
import { DuckDBInstance, DuckDBTypeId, listValue, type DuckDBConnection, type DuckDBListValue, type DuckDBType } from '@duckdb/node-api';
import type { Catalog } from '../definitions/index.ts';
import { MAX_SQL_LENGTH, SqlSyntaxError, SqlTooLargeError } from '../sql/index.ts';
import { QueryTimeoutError } from '../serving/index.ts';
import type { WireColumn } from './backend-messages.ts';
import { arrayElements } from './array-literal.ts';
import { catalogDialect, routeStatement, type RewriteContext } from './catalog-rewrite.ts';
import { catalogTables, knownTypes, NAMESPACE, type CatalogTable } from './catalog-tables.ts';
import { oidColumn, OID } from './pg-types.ts';

/**
 * A catalog answer: columns with their types, and rows of text cells.
 *
 * @example
 * ```ts
 * const answer: CatalogAnswer = { columns: [{ name: 'relname', oid: 25, size: -1 }], rows: [['revenue_by_country']] };
 * ```
 */
export interface CatalogAnswer {
  readonly columns: readonly WireColumn[];
  readonly rows: readonly (readonly (string | null)[])[];
}

/** What a catalog statement is planned with: the session's user, database and settings. */
export type CatalogSession = RewriteContext['session'];

/** The most rows a catalog answer may have: every view's every column, many times over. */
const MAX_CATALOG_ROWS = 100_000;

/** DuckDB's result types as PostgreSQL's; a list is an array of its element type. */
const OID_BY_TYPE: Partial<Record<DuckDBTypeId, number>> = {
  [DuckDBTypeId.BOOLEAN]: OID.bool, [DuckDBTypeId.TINYINT]: OID.int2, [DuckDBTypeId.SMALLINT]: OID.int2, [DuckDBTypeId.INTEGER]: OID.int4,
  [DuckDBTypeId.BIGINT]: OID.int8, [DuckDBTypeId.HUGEINT]: OID.numeric, [DuckDBTypeId.UTINYINT]: OID.int2, [DuckDBTypeId.USMALLINT]: OID.int4,
  [DuckDBTypeId.UINTEGER]: OID.int8, [DuckDBTypeId.UBIGINT]: OID.numeric, [DuckDBTypeId.FLOAT]: OID.float4, [DuckDBTypeId.DOUBLE]: OID.float8,
  [DuckDBTypeId.DECIMAL]: OID.numeric, [DuckDBTypeId.VARCHAR]: OID.text, [DuckDBTypeId.DATE]: OID.date, [DuckDBTypeId.TIMESTAMP]: OID.timestamp,
  [DuckDBTypeId.TIMESTAMP_TZ]: OID.timestamptz, [DuckDBTypeId.INTERVAL]: OID.interval,
};
/** Array types: `_text`, `_int2`, `_int4`, `_int8`, `_bool`. */
const ARRAY_OID: Readonly<Record<number, number>> = { [OID.text]: 1009, [OID.int2]: 1005, [OID.int4]: 1007, [OID.int8]: 1016, [OID.bool]: 1000 };

function typeOid(type: DuckDBType): number {
  if (type.typeId === DuckDBTypeId.LIST) return ARRAY_OID[typeOid((type as unknown as { valueType: DuckDBType }).valueType)] ?? 1009;
  return OID_BY_TYPE[type.typeId] ?? OID.text;
}

/** A cell as PostgreSQL's text format writes it: booleans `t`/`f`, arrays `{a,b}`. */
function cellText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'boolean') return value ? 't' : 'f';
  if (Array.isArray(value)) return `{${value.map((v) => (v === null ? 'NULL' : /^[\w.-]+$/.test(String(v)) ? String(v) : `"${String(v).replace(/["\\]/g, '\\$&')}"`)).join(',')}}`;
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** A parameter's value as DuckDB binds it: text, a number, a boolean, null, or a list of texts. */
function duckValue(value: unknown): string | number | boolean | null | DuckDBListValue {
  // Untyped text that is an array literal is a list: psycopg 3 binds a Python list so, for `= ANY($1)`.
  const list = Array.isArray(value) ? value : typeof value === 'string' && /^\{.*\}$/s.test(value) ? arrayElements(value) : undefined;
  if (list !== undefined) return listValue(list.map((v) => (v === null ? null : String(v))));
  return typeof value === 'number' || typeof value === 'boolean' || value === null ? value : String(value);
}

/** The macros the rewritten statements call (see catalog-rewrite.ts for which PostgreSQL function each answers). */
function macros(): string[] {
  const types = knownTypes().map((t) => `WHEN ${t.oid} THEN '${t.sqlName}'`).join(' ');
  return [
    'CREATE MACRO tandem_true(a) AS true, (a, b) AS true, (a, b, c) AS true',
    'CREATE MACRO tandem_false() AS false, (a) AS false',
    'CREATE MACRO tandem_array_upper(a, d) AS len(a)',
    // information_schema._pg_expandarray, a set-returning function: one row per element, as (x, n).
    "CREATE MACRO tandem_expandarray(a) AS unnest([{'x': a[i], 'n': i} FOR i IN range(1, len(a) + 1)])",
    // Reserved words are not quoted: no view or column may be named one that matters here (`time` is not reserved in PostgreSQL).
    `CREATE MACRO tandem_quote_ident(x) AS CASE WHEN regexp_full_match(x, '[a-z_][a-z0-9_$]*') THEN x ELSE '"' || replace(x, '"', '""') || '"' END`,
    `CREATE MACRO tandem_parse_ident(x) AS [CASE WHEN p LIKE '"%"' THEN replace(p[2:-2], '""', '"') ELSE lower(p) END FOR p IN string_split(x, '.')]`,
    'CREATE MACRO tandem_array_lower(a, d) AS CASE WHEN len(a) > 0 THEN 1 END',
    'CREATE MACRO tandem_null(a) AS NULL::VARCHAR, (a, b) AS NULL::VARCHAR, (a, b, c) AS NULL::VARCHAR',
    'CREATE MACRO tandem_zero() AS 0, (a) AS 0, (a, b) AS 0',
    "CREATE MACRO tandem_owner(a) AS 'tandem'",
    "CREATE MACRO tandem_encoding(a) AS 'UTF8'",
    "CREATE MACRO tandem_current_schemas(a) AS ['pg_catalog', 'public']",
    "CREATE MACRO tandem_match_i(a, b) AS regexp_matches(a, b, 'i')",
    `CREATE MACRO tandem_format_type(t, m) AS CASE t ${types} ELSE NULL END`,
    'CREATE MACRO tandem_col_description(rel, num) AS (SELECT min(description) FROM pgcat.pg_description WHERE objoid = rel AND objsubid = num)',
    'CREATE MACRO tandem_obj_description(o) AS NULL::VARCHAR, (o, c) AS (SELECT min(description) FROM pgcat.pg_description WHERE objoid = o AND objsubid = 0)',
    // A name (quoted, qualified by its schema, or not) or an OID already, as PostgreSQL's regclass input reads it.
    `CREATE MACRO tandem_regclass(x) AS coalesce(TRY_CAST(CAST(x AS VARCHAR) AS INTEGER), CASE lower(regexp_replace(CAST(x AS VARCHAR), '^.*\\.', '')) WHEN 'pg_class' THEN 1259 WHEN 'pg_type' THEN 1247 WHEN 'pg_attribute' THEN 1249 WHEN 'pg_namespace' THEN 2615 WHEN 'pg_proc' THEN 1255 WHEN 'pg_constraint' THEN 2606 WHEN 'pg_database' THEN 1262 END,
       (SELECT min(oid) FROM pgcat.pg_class WHERE lower(relname) = lower(replace(regexp_replace(CAST(x AS VARCHAR), '^.*\\.', ''), '"', ''))))`,
    `CREATE MACRO tandem_regtype(x) AS coalesce(TRY_CAST(CAST(x AS VARCHAR) AS INTEGER), (SELECT min(oid) FROM pgcat.pg_type WHERE typname = lower(CAST(x AS VARCHAR))))`,
    `CREATE MACRO tandem_regnamespace(x) AS coalesce(TRY_CAST(CAST(x AS VARCHAR) AS INTEGER), CASE lower(CAST(x AS VARCHAR)) ${Object.entries(NAMESPACE).map(([n, o]) => `WHEN '${n}' THEN ${o}`).join(' ')} END)`,
  ];
}

function literal(value: string | number | boolean | null): string {
  if (value === null) return 'NULL';
  return typeof value === 'string' ? `'${value.replaceAll("'", "''")}'` : String(value);
}

async function createTable(connection: DuckDBConnection, table: CatalogTable): Promise<void> {
  const schema = table.schema === 'pg_catalog' ? 'pgcat' : 'infoschema';
  await connection.run(`CREATE TABLE ${schema}.${table.name} (${table.columns})`);
  for (const row of table.rows) {
    const names = Object.keys(row);
    // Values are the config's own names and numbers, quoted: nothing of a client's text reaches this statement.
    await connection.run(`INSERT INTO ${schema}.${table.name} (${names.join(', ')}) VALUES (${names.map((n) => literal(row[n]!)).join(', ')})`);
  }
}

/**
 * The catalog of one engine's views.
 *
 * @example
 * ```ts
 * const catalog = await PgCatalog.open(tandem.catalog);
 * const { columns, rows } = await catalog.answer('SELECT relname FROM pg_class', session, 10_000);
 * await catalog.close();
 * ```
 */
export class PgCatalog {
  readonly #idle: DuckDBConnection[] = [];
  /** Texts that read the views, seen lately: a dashboard sends the same statement again and again, and it needs no catalog parse. */
  readonly #viewTexts = new Set<string>();

  private constructor(private readonly instance: DuckDBInstance, private readonly context: RewriteContext['tables']) {}

  static async open(catalog: Catalog): Promise<PgCatalog> {
    const instance = await DuckDBInstance.create(':memory:', { threads: '1', memory_limit: '64MB' });
    const connection = await instance.connect();
    try {
      await connection.run('CREATE SCHEMA pgcat; CREATE SCHEMA infoschema');
      const tables = catalogTables(catalog, 'tandem');
      for (const table of tables) await createTable(connection, table);
      for (const macro of macros()) await connection.run(macro);
      // Closed after the tables are built: statements of clients reach no file and no network, and cannot change settings.
      await connection.run("SET enable_external_access = false; SET lock_configuration = true");
    } finally {
      connection.closeSync();
    }
    const names = (schema: string) => new Set(catalogTables(catalog, 'tandem').filter((t) => t.schema === schema).map((t) => t.name));
    return new PgCatalog(instance, { pg_catalog: names('pg_catalog'), information_schema: names('information_schema') });
  }

  /**
   * Where a statement goes: `views` for the SQL planner, or the catalog's
   * rewritten statement. Parse errors are left to the planner, whose
   * messages `/v1/sql` answers with.
   */
  async route(sql: string, session: CatalogSession): Promise<{ readonly kind: 'views' } | { readonly kind: 'catalog'; readonly sql: string }> {
    if (sql.length > MAX_SQL_LENGTH || this.#viewTexts.has(sql)) return { kind: 'views' };
    const text = await this.#one(async (c) => String((await c.runAndReadAll('SELECT json_serialize_sql($1::VARCHAR)', [catalogDialect(sql)])).getRows()[0]![0]));
    let parsed: { error: boolean; statements?: { node: unknown }[] };
    try {
      // A location DuckDB does not know is 2^64 - 1, which no double holds exactly; positions are not needed here.
      parsed = JSON.parse(text.replace(/"query_location":\d+/g, '"query_location":0')) as typeof parsed;
    } catch {
      return { kind: 'views' };
    }
    if (parsed.error || parsed.statements?.length !== 1) return { kind: 'views' };
    const route = routeStatement(parsed.statements[0]!.node, { tables: this.context, session });
    if (route.kind === 'views') return this.#views(sql);
    const serialized = JSON.stringify({ ...parsed, statements: [{ ...parsed.statements[0], node: route.tree }] });
    const planned = await this.#one(async (c) => String((await c.runAndReadAll('SELECT json_deserialize_sql($1::JSON)', [serialized])).getRows()[0]![0]));
    return { kind: 'catalog', sql: planned };
  }

  #views(sql: string): { readonly kind: 'views' } {
    if (sql.length <= 4096) this.#viewTexts.add(sql);
    if (this.#viewTexts.size > 256) this.#viewTexts.delete(this.#viewTexts.values().next().value!);
    return { kind: 'views' };
  }

  /** Runs a planned catalog statement (from {@link route}) within `timeoutMs`. */
  async run(planned: string, params: readonly unknown[], timeoutMs: number): Promise<CatalogAnswer> {
    return this.#one(async (connection) => {
      let timedOut = false;
      const timer = Number.isFinite(timeoutMs) ? setTimeout(() => { timedOut = true; connection.interrupt(); }, timeoutMs) : undefined;
      try {
        const reader = await connection.runAndReadAll(planned, params.length === 0 ? undefined : params.map(duckValue)).catch((error: unknown) => {
          if (timedOut) throw new QueryTimeoutError(timeoutMs);
          throw new SqlSyntaxError(`The catalog cannot answer this statement: ${String((error as Error).message).split('\n')[0]!.slice(0, 200)}.`);
        });
        const types = reader.columnTypes();
        const columns = reader.columnNames().map((name, i) => oidColumn(name, typeOid(types[i]!)));
        const rows = reader.getRowsJson();
        if (rows.length > MAX_CATALOG_ROWS) throw new SqlTooLargeError(MAX_CATALOG_ROWS, `The catalog answer has more than ${MAX_CATALOG_ROWS.toLocaleString('en-US')} rows; narrow it with WHERE.`);
        return { columns, rows: rows.map((row) => row.map(cellText)) };
      } finally {
        clearTimeout(timer);
      }
    }, true);
  }

  async close(): Promise<void> {
    for (const connection of this.#idle.splice(0)) connection.closeSync();
    this.instance.closeSync();
  }

  /** Runs `work` on an idle connection (or a new one); one that was interrupted is not reused. */
  async #one<T>(work: (connection: DuckDBConnection) => Promise<T>, interruptible = false): Promise<T> {
    const connection = this.#idle.pop() ?? await this.instance.connect();
    let reusable = true;
    try {
      return await work(connection);
    } catch (error) {
      reusable = !interruptible;
      throw error;
    } finally {
      if (reusable && this.#idle.length < 4) this.#idle.push(connection);
      else connection.closeSync();
    }
  }
}
