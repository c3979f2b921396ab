/**
 * The parts of DuckDB's serialized syntax tree (`json_serialize_sql`) that
 * Tandem's SQL reads. Only these shapes are read; a node of any other class
 * is refused by whoever meets it, so a construct this file does not name
 * can never be half-understood.
 *
 * @module
 */

/** Any expression node: its `class` says which of the shapes below it has. */
export interface SqlNode {
  readonly class: string;
  readonly type: string;
  readonly alias?: string;
}

export interface ColumnRefNode extends SqlNode {
  readonly class: 'COLUMN_REF';
  readonly column_names: readonly string[];
}

export interface ConstantNode extends SqlNode {
  readonly class: 'CONSTANT';
  readonly value: {
    readonly type: { readonly id: string; readonly type_info?: { readonly scale?: number } | null };
    readonly is_null: boolean;
    readonly value?: unknown;
  };
}

export interface ParameterNode extends SqlNode {
  readonly class: 'PARAMETER';
  readonly identifier: string;
}

export interface CastNode extends SqlNode {
  readonly class: 'CAST';
  readonly child: SqlNode;
  readonly cast_type: { readonly id: string };
  readonly try_cast?: boolean;
}

export interface OrderTerm {
  /** `ORDER_DEFAULT`, `ASCENDING` or `DESCENDING`. */
  readonly type: string;
  /** `ORDER_DEFAULT`, `NULLS FIRST` or `NULLS LAST` (DuckDB's spelling). */
  readonly null_order: string;
  readonly expression: SqlNode;
}

export interface FunctionNode extends SqlNode {
  readonly class: 'FUNCTION';
  readonly function_name: string;
  readonly children: readonly SqlNode[];
  readonly distinct?: boolean;
  readonly filter?: SqlNode | null;
  /** The `WITHIN GROUP (ORDER BY …)` of an ordered-set aggregate. */
  readonly order_bys?: { readonly orders: readonly OrderTerm[] };
}

export interface ComparisonNode extends SqlNode {
  readonly class: 'COMPARISON';
  readonly left: SqlNode;
  readonly right: SqlNode;
}

export interface BetweenNode extends SqlNode {
  readonly class: 'BETWEEN';
  readonly input: SqlNode;
  readonly lower: SqlNode;
  readonly upper: SqlNode;
}

/** `AND`/`OR` (class CONJUNCTION) and `IN`/`NOT IN`/`IS NULL`/`NOT` (class OPERATOR): a list of children. */
export interface ListNode extends SqlNode {
  readonly children: readonly SqlNode[];
}

/** `*` or `view.*`, with DuckDB's extensions (`COLUMNS(…)`, `EXCLUDE`, `REPLACE`), which are refused. */
export interface StarNode extends SqlNode {
  readonly class: 'STAR';
  readonly relation_name: string;
  readonly columns?: boolean;
  readonly exclude_list?: readonly unknown[];
  readonly replace_list?: readonly unknown[];
}

export interface SelectModifier {
  readonly type: string;
  readonly orders?: readonly OrderTerm[];
  readonly limit?: SqlNode | null;
  readonly offset?: SqlNode | null;
  /** `SELECT DISTINCT ON (…)`: its targets. */
  readonly distinct_on_targets?: readonly unknown[];
}

export interface TableRef {
  readonly type: string;
  readonly table_name?: string;
  readonly schema_name?: string;
  readonly catalog_name?: string;
  readonly alias?: string;
}

/** One `SELECT … FROM … WHERE … GROUP BY … ORDER BY … LIMIT …`. */
export interface SelectNode {
  readonly type: string;
  readonly modifiers: readonly SelectModifier[];
  readonly cte_map?: { readonly map: readonly unknown[] };
  readonly select_list: readonly SqlNode[];
  readonly from_table: TableRef;
  readonly where_clause: SqlNode | null;
  readonly group_expressions: readonly SqlNode[];
  readonly group_sets?: readonly unknown[];
  readonly aggregate_handling?: string;
  readonly having: SqlNode | null;
  readonly sample?: unknown;
  readonly qualify?: unknown;
}

export const isColumnRef = (node: SqlNode): node is ColumnRefNode => node.class === 'COLUMN_REF';
export const isConstant = (node: SqlNode): node is ConstantNode => node.class === 'CONSTANT';
export const isFunction = (node: SqlNode): node is FunctionNode => node.class === 'FUNCTION';
export const isCast = (node: SqlNode): node is CastNode => node.class === 'CAST';

/** The function's name as users compare it: lower case. */
export function functionName(node: FunctionNode): string {
  return node.function_name.toLowerCase();
}

/** Names compare without case: two names of a config differ by more than case, and unquoted SQL names fold. */
export function sameName(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
