/**
 * Plans a statement over the catalog: reads DuckDB's syntax tree of it,
 * decides whether it reads the catalog or the views, and for the catalog
 * rewrites it onto the catalog instance's own tables and functions.
 * PostgreSQL's catalog tables become the instance's `pgcat` and `infoschema`
 * tables; the functions clients call (`format_type`, `pg_get_userbyid`,
 * `current_setting`, ...) become the instance's macros or constants of the
 * session; PostgreSQL's regular-expression operators keep their meaning
 * (DuckDB's `~` matches the whole text, PostgreSQL's any part). A table
 * function, or a table that is neither a catalog table nor a view, is refused.
 *
 * @module
 */
import { PgCatalogError, PgUnsupportedError } from './pg-errors.ts';

/**
 * What a statement reads: the views (answered by the SQL planner), or the
 * catalog, with its rewritten tree.
 *
 * @example
 * ```ts
 * const route: CatalogRoute = { kind: 'catalog', tree };
 * ```
 */
export type CatalogRoute = { readonly kind: 'views' } | { readonly kind: 'catalog'; readonly tree: unknown };

/**
 * What a rewrite needs: the catalog's tables by schema, and the session's
 * values of the functions that read it.
 *
 * @example
 * ```ts
 * const context: RewriteContext = { tables: { pg_catalog: new Set(['pg_class']), information_schema: new Set(['tables']) }, session: { user: 'x', database: 'tandem', version: 'PostgreSQL 15.0', setting: () => undefined } };
 * ```
 */
export interface RewriteContext {
  readonly tables: { readonly pg_catalog: ReadonlySet<string>; readonly information_schema: ReadonlySet<string> };
  readonly session: {
    readonly user: string;
    readonly database: string;
    readonly version: string;
    setting(name: string): string | undefined;
  };
}

/** Functions answered by a macro of the catalog instance, by PostgreSQL name. */
const MACROS: Readonly<Record<string, string>> = {
  pg_table_is_visible: 'tandem_true', pg_type_is_visible: 'tandem_true', pg_function_is_visible: 'tandem_true', has_table_privilege: 'tandem_true',
  has_schema_privilege: 'tandem_true', has_database_privilege: 'tandem_true', has_column_privilege: 'tandem_true', has_any_column_privilege: 'tandem_true', pg_has_role: 'tandem_true',
  pg_get_expr: 'tandem_null', pg_get_indexdef: 'tandem_null', pg_get_constraintdef: 'tandem_null', pg_get_viewdef: 'tandem_null', pg_get_partkeydef: 'tandem_null',
  pg_tablespace_location: 'tandem_null', pg_get_function_result: 'tandem_null', pg_get_function_arguments: 'tandem_null', pg_get_serial_sequence: 'tandem_null',
  pg_get_triggerdef: 'tandem_null', pg_get_ruledef: 'tandem_null', shobj_description: 'tandem_null', pg_get_statisticsobjdef_columns: 'tandem_null',
  pg_relation_size: 'tandem_zero', pg_total_relation_size: 'tandem_zero', pg_table_size: 'tandem_zero', pg_indexes_size: 'tandem_zero', pg_backend_pid: 'tandem_zero', txid_current: 'tandem_zero',
  _pg_expandarray: 'tandem_expandarray', array_upper: 'tandem_array_upper', array_length: 'tandem_array_upper', quote_ident: 'tandem_quote_ident', parse_ident: 'tandem_parse_ident', array_lower: 'tandem_array_lower', pg_is_in_recovery: 'tandem_false', pg_relation_is_publishable: 'tandem_false', pg_is_other_temp_schema: 'tandem_false', pg_get_userbyid: 'tandem_owner', format_type: 'tandem_format_type', col_description: 'tandem_col_description',
  obj_description: 'tandem_obj_description', pg_encoding_to_char: 'tandem_encoding', current_schemas: 'tandem_current_schemas', regexp_full_match: 'regexp_matches',
  json_build_object: 'json_object', jsonb_build_object: 'json_object', '~*': 'tandem_match_i', '~~*': 'ilike', pg_postmaster_start_time: 'now', pg_conf_load_time: 'now',
};

/** Casts to PostgreSQL's object-identifier types, answered by macros that look names up; other unknown types are read as text. */
const CASTS: Readonly<Record<string, string>> = { regclass: 'tandem_regclass', regtype: 'tandem_regtype', regnamespace: 'tandem_regnamespace' };

/** Names DuckDB reads as columns, but PostgreSQL as functions of the session. */
const SESSION_WORDS = new Set(['current_user', 'session_user', 'user', 'current_role', 'current_catalog', 'current_schema']);

/** Table functions a catalog query may call: they only count or unpack. */
const TABLE_FUNCTIONS = new Set(['generate_series', 'unnest', 'range', 'generate_subscripts']);

type Node = Record<string, unknown>;

const constant = (value: string | null, alias: string): Node => ({
  class: 'CONSTANT', type: 'VALUE_CONSTANT', alias, query_location: 0,
  value: value === null ? { type: { id: 'VARCHAR', type_info: null }, is_null: true } : { type: { id: 'VARCHAR', type_info: null }, is_null: false, value },
});

const call = (name: string, children: unknown[], alias: string): Node => ({
  class: 'FUNCTION', type: 'FUNCTION', alias, query_location: 0, function_name: name, schema: '', catalog: '', children,
  filter: null, order_bys: { type: 'ORDER_MODIFIER', orders: [] }, distinct: false, is_operator: false, export_state: false,
});

/** A FROM item of one row: `(SELECT expression AS alias) alias`. */
function subqueryOf(expression: Node, alias: string): Node {
  const select = {
    type: 'SELECT_NODE', modifiers: [], cte_map: { map: [] }, select_list: [expression], from_table: { type: 'EMPTY', alias: '', sample: null, query_location: 0 },
    where_clause: null, group_expressions: [], group_sets: [], aggregate_handling: 'STANDARD_HANDLING', having: null, sample: null, qualify: null,
  };
  return { type: 'SUBQUERY', alias, sample: null, query_location: 0, subquery: { node: select, named_param_map: [] }, column_name_alias: [] };
}

/** Walks one statement's tree, rewriting as it goes and counting what it reads. */
class Rewriter {
  catalogTables = 0;
  otherTables = 0;
  readonly #ctes = new Set<string>();

  constructor(private readonly context: RewriteContext) {}

  node(value: unknown, selectItem = false): unknown {
    if (Array.isArray(value)) return value.map((v) => this.node(v));
    if (value === null || typeof value !== 'object') return value;
    let node = value as Node;
    if (node.type === 'SELECT_NODE') this.#noteCtes(node);
    if (node.type === 'BASE_TABLE') return this.#table(node);
    if (node.type === 'TABLE_FUNCTION') node = this.#tableFunction(node);
    const replaced = this.#expression(node, selectItem);
    if (replaced !== undefined) return replaced;
    const out: Node = {};
    for (const [key, child] of Object.entries(node)) {
      out[key] = key === 'select_list' && Array.isArray(child) ? child.map((item) => this.node(item, true)) : this.node(child);
    }
    return out;
  }

  #noteCtes(node: Node): void {
    const map = (node.cte_map as { map?: { key: string }[] } | undefined)?.map ?? [];
    for (const entry of map) this.#ctes.add(entry.key.toLowerCase());
  }

  #table(node: Node): Node {
    const schema = String(node.schema_name ?? '').toLowerCase();
    const name = String(node.table_name ?? '').toLowerCase();
    const { pg_catalog: pg, information_schema: info } = this.context.tables;
    if (schema === '' && this.#ctes.has(name)) return node;
    if (schema === 'pg_catalog' || (schema === '' && pg.has(name))) {
      if (!pg.has(name)) throw new PgCatalogError(`The catalog has no table pg_catalog.${name.slice(0, 64)}; it answers ${[...pg].sort().join(', ')}.`);
      this.catalogTables += 1;
      return { ...node, schema_name: 'pgcat', catalog_name: '' };
    }
    if (schema === 'information_schema') {
      if (!info.has(name)) throw new PgCatalogError(`The catalog has no table information_schema.${name.slice(0, 64)}; it answers ${[...info].sort().join(', ')}.`);
      this.catalogTables += 1;
      return { ...node, schema_name: 'infoschema', catalog_name: '' };
    }
    this.otherTables += 1;
    return node;
  }

  /**
   * A table function that only counts or unpacks; as in PostgreSQL, `f(...)
   * AS s` names its one column `s` too. Any other function in FROM is a
   * scalar one there, as PostgreSQL allows (`string_to_array(...) s`), and
   * becomes a subquery of one row; DuckDB's own table functions (files,
   * settings) are refused by its binder in that place.
   */
  #tableFunction(node: Node): Node {
    const fn = node.function as Node | undefined;
    const name = String(fn?.function_name ?? '').toLowerCase();
    const alias = String(node.alias ?? '');
    if (!TABLE_FUNCTIONS.has(name)) return subqueryOf({ ...fn!, alias: alias || name }, alias || name);
    const named = (node.column_name_alias as unknown[] | undefined)?.length ?? 0;
    return alias !== '' && named === 0 ? { ...node, column_name_alias: [alias] } : node;
  }

  /** The replacement of an expression that PostgreSQL and DuckDB read differently, or undefined to walk it as it is. */
  #expression(node: Node, selectItem: boolean): unknown {
    const alias = String(node.alias ?? '');
    if (node.class === 'COLLATE') return this.node({ ...(node.child as Node), alias }, selectItem);
    if (node.class === 'COLUMN_REF') {
      const names = node.column_names as string[];
      const word = names.length === 1 ? names[0]!.toLowerCase() : '';
      return SESSION_WORDS.has(word) ? this.#sessionValue(word, alias || (selectItem ? word : '')) : undefined;
    }
    if (node.class === 'CAST') return this.#cast(node, alias, selectItem);
    if (node.class === 'SUBQUERY') return this.#anyOfArray(node, alias);
    if (node.class === 'FUNCTION') return this.#function(node, alias, selectItem);
    return undefined;
  }

  /**
   * `x = ANY(array)`, which DuckDB reads as a subquery over `unnest(array)`
   * and cannot place in an outer join's condition (SQLAlchemy's index
   * query has one), as `list_contains(array, x)`.
   */
  #anyOfArray(node: Node, alias: string): unknown {
    if (node.subquery_type !== 'ANY' || node.comparison_type !== 'COMPARE_EQUAL') return undefined;
    const select = (node.subquery as { node?: Node } | undefined)?.node;
    const items = select?.select_list as Node[] | undefined;
    const only = items?.length === 1 ? items[0]! : undefined;
    const from = select?.from_table as Node | undefined;
    if (only?.class !== 'FUNCTION' || only.function_name !== 'unnest' || (only.children as unknown[]).length !== 1 || from?.type !== 'EMPTY') return undefined;
    return call('list_contains', [this.node((only.children as unknown[])[0]), this.node(node.child)], alias);
  }

  #sessionValue(word: string, alias: string): Node {
    const { session } = this.context;
    if (word === 'current_schema') return constant('public', alias);
    if (word === 'current_catalog' || word === 'current_database') return constant(session.database, alias);
    if (word === 'version') return constant(session.version, alias);
    return constant(session.user, alias);
  }

  #cast(node: Node, alias: string, selectItem: boolean): unknown {
    const type = node.cast_type as { id: string; type_info?: { name?: string } | null };
    // An array of an unknown type (`::regtype[]`, `::name[]`): PostgreSQL prints its elements as text.
    if (type.id === 'LIST' && JSON.stringify(type).includes('"UNBOUND"')) {
      return { ...node, alias: alias || (selectItem ? 'array' : ''), child: this.node(node.child), cast_type: { id: 'LIST', type_info: { type: 'LIST_TYPE_INFO', alias: '', extension_info: null, child_type: { id: 'VARCHAR', type_info: null } } } };
    }
    if (type.id !== 'UNBOUND') return undefined;
    const name = String(type.type_info?.name ?? '').toLowerCase();
    const child = this.node(node.child);
    const macro = CASTS[name];
    if (macro !== undefined) return call(macro, [child], alias);
    // name, regproc, oidvector, pg_node_tree, aclitem, …: PostgreSQL prints each as text.
    return { ...node, alias: alias || (selectItem ? name : ''), child, cast_type: { id: 'VARCHAR', type_info: null } };
  }

  #function(node: Node, alias: string, selectItem: boolean): unknown {
    const name = String(node.function_name).toLowerCase();
    const children = node.children as unknown[];
    const shown = alias || (selectItem ? name : '');
    if (SESSION_WORDS.has(name) || name === 'current_database' || name === 'version' || name === 'getpgusername') return this.#sessionValue(name, shown);
    if (name === 'current_setting' && children.length >= 1) return this.#setting(children[0], shown);
    if (name === 'set_config' && children.length === 3) return this.node({ ...(children[1] as Node), alias: shown });
    if (name === '!~*') return this.node({ class: 'OPERATOR', type: 'OPERATOR_NOT', alias: shown, query_location: 0, children: [{ ...node, function_name: '~*', alias: '' }] });
    const macro = MACROS[name];
    const schema = String(node.schema ?? '').toLowerCase();
    if (macro === undefined && schema !== 'pg_catalog') return selectItem && alias === '' && node.is_operator !== true ? { ...this.#walk(node), alias: name } : undefined;
    return { ...this.#walk(node), function_name: macro ?? name, schema: '', catalog: '', is_operator: false, alias: shown };
  }

  #walk(node: Node): Node {
    const out: Node = {};
    for (const [key, child] of Object.entries(node)) out[key] = this.node(child);
    return out;
  }

  #setting(argument: unknown, alias: string): Node {
    const arg = argument as { class?: string; value?: { value?: unknown } };
    if (arg.class !== 'CONSTANT') throw new PgUnsupportedError('current_setting() takes the name of a setting as a literal, as in current_setting(\'TimeZone\').');
    return constant(this.context.session.setting(String(arg.value?.value)) ?? null, alias);
  }
}

/**
 * Where one parsed statement goes, and its tree rewritten onto the catalog instance if it reads the catalog.
 * A statement that reads no table (`SELECT 1`, `SELECT version()`) is the catalog's.
 *
 * @example
 * ```ts
 * routeStatement(tree, context);   // { kind: 'catalog', tree } for SELECT relname FROM pg_class
 * ```
 */
export function routeStatement(statement: unknown, context: RewriteContext): CatalogRoute {
  const rewriter = new Rewriter(context);
  const tree = rewriter.node(statement);
  if (rewriter.otherTables > 0) return { kind: 'views' };
  return { kind: 'catalog', tree };
}

/**
 * PostgreSQL's `OPERATOR(pg_catalog.~)`, `COLLATE pg_catalog.default` and
 * `::pg_catalog.text`, which psql writes and DuckDB's grammar lacks, as the
 * plain operator, nothing, and the unqualified type.
 * Only the catalog's statements are read so; the views' are planned as written.
 *
 * @example
 * ```ts
 * catalogDialect("c.relname OPERATOR(pg_catalog.~) '^(x)$' COLLATE pg_catalog.default");   // "c.relname  ~  '^(x)$' "
 * ```
 */
export function catalogDialect(sql: string): string {
  return sql
    .replace(/OPERATOR\s*\(\s*(?:pg_catalog\s*\.\s*)?([~!<>=*+\-/%^&|#@]+)\s*\)/gi, ' $1 ')
    .replace(/COLLATE\s+(?:pg_catalog\s*\.\s*)?"?default"?/gi, ' ')
    .replace(/::\s*pg_catalog\s*\./gi, '::');
}
