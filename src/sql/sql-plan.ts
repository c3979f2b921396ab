/**
 * Plans one parsed SELECT onto Tandem's JSON {@link Query}: FROM names the
 * view, WHERE gives `from`, `to` and `where`, GROUP BY the `groupBy` and
 * the `granularity` (its time bucket, else `all`), the aggregates the
 * measures (and `quantiles`), ORDER BY and LIMIT the `orderBy` and `limit`.
 * A statement without GROUP BY or aggregates reads the view's own rows
 * (grouped by every dimension at the view's granularity), so `SELECT * FROM
 * view` lists them. The engine answers the query exactly as a JSON one;
 * the plan's columns say how to read its rows.
 *
 * @module
 */
import { MAX_TIME, MIN_TIME, quantileName, type Catalog, type Field, type QueryGranularity, type ViewSchema } from '../definitions/index.ts';
import { UnknownViewError, type DimensionInput, type Query } from '../serving/index.ts';
import { SqlParameterError, UnsupportedSqlError } from './errors.ts';
import { misuse } from './measure-aggregates.ts';
import { classify, defaultName, type SelectItem } from './select-items.ts';
import { plannedColumn, type PlannedColumn } from './sql-columns.ts';
import { planOrder, rowCount } from './sql-order.ts';
import { isColumnRef, isConstant, sameName, type OrderTerm, type SelectNode, type SqlNode, type StarNode } from './sql-tree.ts';
import type { ValueContext } from './sql-values.ts';
import { planWhere } from './sql-where.ts';
import type { TimeBucket } from './time-buckets.ts';
import { findView, ViewTable } from './view-table.ts';

/**
 * A planned statement: the JSON query to run, the answer's columns, and
 * how many of the query's first rows to drop (OFFSET).
 *
 * @example
 * ```ts
 * const plan = planSql(select, catalog, { params: [], now: Date.now(), usedParams: new Set() });
 * const { rows } = await tandem.query(plan.query);
 * ```
 */
export interface SqlPlan {
  readonly query: Query;
  readonly columns: readonly PlannedColumn[];
  readonly offset: number;
  /**
   * The statement aggregates without grouping (`SELECT sum(revenue) FROM
   * …`): as in SQL it answers one row even when nothing matches, which the
   * query (no group, no row) leaves to the answer to add.
   */
  readonly scalar: boolean;
}

/** The grouping a statement asks for: its dimensions and its time bucket, if any. */
interface Grouping {
  readonly dimensions: readonly Field[];
  readonly bucket: TimeBucket | undefined;
  /** No GROUP BY and no aggregate: the view's own rows. */
  readonly rowsOfView: boolean;
}

/** Refuses what a SELECT may hold that Tandem does not answer, before anything is planned. */
function checkShape(select: SelectNode): void {
  if (select.type !== 'SELECT_NODE') throw new UnsupportedSqlError('sql', 'The statement combines SELECTs (UNION, INTERSECT, EXCEPT) or is no plain SELECT; send one SELECT over one view.');
  if ((select.cte_map?.map.length ?? 0) > 0) throw new UnsupportedSqlError('sql', 'The statement has a WITH clause; send one SELECT over one view.');
  if (select.having !== null) throw new UnsupportedSqlError('having', 'HAVING is not supported; filter on time and dimensions in WHERE, and filter aggregates in the client.');
  if ((select.aggregate_handling ?? 'STANDARD_HANDLING') !== 'STANDARD_HANDLING') throw new UnsupportedSqlError('group by', 'GROUP BY ALL is not supported; list the columns to group by.');
  if ((select.group_sets?.length ?? 0) > 1) throw new UnsupportedSqlError('group by', 'GROUP BY ROLLUP, CUBE and GROUPING SETS are not supported; group by plain columns.');
  if ((select.sample ?? null) !== null || (select.qualify ?? null) !== null) throw new UnsupportedSqlError('sql', 'USING SAMPLE and QUALIFY are not supported; send a plain SELECT.');
  for (const modifier of select.modifiers) {
    if (modifier.type === 'DISTINCT_MODIFIER' && (modifier.distinct_on_targets?.length ?? 0) > 0) {
      throw new UnsupportedSqlError('select', 'SELECT DISTINCT ON is not supported; use GROUP BY.');
    }
    if (!['ORDER_MODIFIER', 'LIMIT_MODIFIER', 'DISTINCT_MODIFIER'].includes(modifier.type)) throw new UnsupportedSqlError('limit', 'LIMIT as a percentage is not supported; give a number of rows.');
  }
}

/** The SELECT list's items, with `*` expanded to every column of the view. */
function selectItems(select: SelectNode, table: ViewTable, context: ValueContext): { readonly node: SqlNode; readonly item: SelectItem; readonly name: string }[] {
  return select.select_list.flatMap((node, i) => {
    const field = `select[${i}]`;
    if (node.class === 'STAR') {
      const star = node as StarNode;
      if (star.relation_name !== '' && !sameName(star.relation_name, table.view.name)) {
        throw new UnsupportedSqlError(field, `${field} expands the columns of another relation; write * or ${table.view.name}.*.`);
      }
      if (star.columns === true || (star.exclude_list?.length ?? 0) > 0 || (star.replace_list?.length ?? 0) > 0) {
        throw new UnsupportedSqlError(field, `${field} uses COLUMNS, EXCLUDE or REPLACE; list the columns instead.`);
      }
      return table.columnNames().map((name) => {
        const ref = { class: 'COLUMN_REF', type: 'COLUMN_REF', column_names: [name] } as SqlNode;
        return { node: ref, item: classify(ref, table, field, context), name };
      });
    }
    const alias = node.alias ?? '';
    return [{ node, item: classify(node, table, field, context), name: alias !== '' ? alias : defaultName(node) }];
  });
}

/** Whether the statement aggregates: a GROUP BY, DISTINCT, or an aggregate in SELECT or ORDER BY. */
function aggregates(select: SelectNode, items: readonly { readonly item: SelectItem }[], orders: readonly OrderTerm[], table: ViewTable, context: ValueContext): boolean {
  if (select.group_expressions.length > 0) return true;
  if (items.some(({ item }) => item.kind === 'aggregate')) return true;
  return orders.some((term, i) => !isOutputReference(term.expression) && classify(term.expression, table, `order by[${i}]`, context).kind === 'aggregate');
}

function isOutputReference(node: SqlNode): boolean {
  return node.class === 'CONSTANT' || (isColumnRef(node) && node.column_names.length === 1);
}

/**
 * The grouping of an aggregating statement, from its GROUP BY (or, for
 * SELECT DISTINCT without one, its SELECT list). A GROUP BY name is a
 * column of the view first and an output alias second, as in PostgreSQL.
 */
function grouping(select: SelectNode, items: readonly { readonly node: SqlNode; readonly item: SelectItem; readonly name: string }[], table: ViewTable, context: ValueContext): Grouping {
  const distinct = select.modifiers.some((m) => m.type === 'DISTINCT_MODIFIER');
  if (distinct && (select.group_expressions.length > 0 || items.some(({ item }) => item.kind === 'aggregate'))) {
    throw new UnsupportedSqlError('select', 'SELECT DISTINCT with GROUP BY or aggregates is not supported; the groups are distinct already, so leave DISTINCT out.');
  }
  const grouped: { item: SelectItem; field: string }[] = distinct
    ? items.map(({ item }, i) => ({ item, field: `select[${i}]` }))
    : select.group_expressions.map((node, i) => ({ item: groupItem(node, items, table, `group by[${i}]`, context), field: `group by[${i}]` }));
  const dimensions: Field[] = [];
  let bucket: TimeBucket | undefined;
  for (const { item, field } of grouped) {
    if (item.kind === 'dimension') {
      if (!dimensions.includes(item.field)) dimensions.push(item.field);
    } else if (item.kind === 'time') {
      if (bucket !== undefined && bucket.granularity !== item.bucket.granularity) {
        throw new UnsupportedSqlError(field, `${field} groups by a second time bucket (${item.bucket.granularity}, after ${bucket.granularity}); group by one.`);
      }
      bucket = item.bucket;
    } else if (item.kind === 'measure') {
      throw misuse(field, item.measure, `a grouping by ${item.measure.name}`);
    } else {
      throw new UnsupportedSqlError(field, `${field} groups by an aggregate; group by time buckets and dimensions.`);
    }
  }
  return { dimensions, bucket, rowsOfView: false };
}

function groupItem(node: SqlNode, items: readonly { readonly item: SelectItem; readonly name: string }[], table: ViewTable, field: string, context: ValueContext): SelectItem {
  if (isConstant(node) && typeof node.value.value === 'number') {
    const position = node.value.value;
    const selected = items[position - 1];
    if (selected === undefined) throw new UnsupportedSqlError(field, `${field} names output column ${position}, but the SELECT list has ${items.length}; count from 1.`);
    return selected.item;
  }
  if (isColumnRef(node) && node.column_names.length === 1 && !table.columnNames().some((c) => sameName(c, node.column_names[0]!))) {
    const aliased = items.find(({ name }) => sameName(name, node.column_names[0]!));
    if (aliased !== undefined) return aliased.item;
  }
  return classify(node, table, field, context);
}

/** Refuses a SELECT or ORDER BY item the grouping does not give a single value per row. */
function checkGrouped(item: SelectItem, group: Grouping, field: string, view: ViewSchema): void {
  if (item.kind === 'aggregate') {
    if (group.rowsOfView) throw new UnsupportedSqlError(field, `${field} aggregates, so the statement must aggregate throughout: add a GROUP BY or aggregate the other columns.`);
    return;
  }
  if (item.kind === 'measure') {
    if (!group.rowsOfView) throw misuse(field, item.measure, `${item.measure.name} without an aggregate in a grouped query`);
    return;
  }
  if (item.kind === 'dimension') {
    if (!group.rowsOfView && !group.dimensions.includes(item.field)) {
      throw new UnsupportedSqlError(field, `${field} reads dimension '${item.field.name}', which is not in GROUP BY; group by it too.`);
    }
    return;
  }
  const grouped = group.bucket?.granularity;
  if (grouped === item.bucket.granularity) return;
  if (group.rowsOfView) throw new UnsupportedSqlError(field, `${field} buckets time by ${item.bucket.granularity}, coarser than the rows of view '${view.name}'; GROUP BY that bucket and aggregate the measures.`);
  throw new UnsupportedSqlError(field, grouped === undefined
    ? `${field} reads the time, which is not in GROUP BY; group by the same time bucket.`
    : `${field} reads ${item.bucket.granularity} time buckets, but GROUP BY groups by ${grouped} ones; select the bucket GROUP BY names.`);
}

/**
 * Plans a parsed SELECT over the catalog's views.
 *
 * @example
 * ```ts
 * const plan = planSql(await parser.parse(sql), tandem.catalog, { params: [], now: Date.now(), usedParams: new Set() });
 * ```
 */
export function planSql(select: SelectNode, catalog: Catalog, context: ValueContext): SqlPlan {
  checkShape(select);
  const { view, name } = findView(catalog.views, select.from_table);
  if (view === undefined) throw new UnknownViewError(name);
  const table = new ViewTable(view, select.from_table.alias);
  const items = selectItems(select, table, context);
  const orders = select.modifiers.find((m) => m.type === 'ORDER_MODIFIER')?.orders ?? [];
  const aggregating = aggregates(select, items, orders, table, context) || select.modifiers.some((m) => m.type === 'DISTINCT_MODIFIER');
  const group: Grouping = aggregating
    ? grouping(select, items, table, context)
    : { dimensions: view.dimensions, bucket: view.granularity === 'none' ? undefined : { granularity: view.granularity, form: 'timestamp' }, rowsOfView: true };
  items.forEach(({ item }, i) => checkGrouped(item, group, `select[${i}]`, view));
  const columns = items.map(({ item, name: column }) => plannedColumn(column, item));
  const orderBy = planOrder(orders, columns, (node, field) => {
    const item = classify(node, table, field, context);
    checkGrouped(item, group, field, view);
    return plannedColumn('', item).source;
  });
  const limits = select.modifiers.find((m) => m.type === 'LIMIT_MODIFIER');
  const limit = rowCount(limits?.limit, 'limit', context);
  const offset = rowCount(limits?.offset, 'offset', context) ?? 0;
  const where = planWhere(select.where_clause, table, context);
  checkParams(context);
  const granularity: QueryGranularity = group.bucket?.granularity ?? 'all';
  const empty = [...where.where.values()].some((values) => values.length === 0);
  const query: Query = {
    view: view.name,
    ...(where.from > MIN_TIME ? { from: where.from } : {}),
    ...(where.to <= MAX_TIME ? { to: where.to } : {}),
    ...(where.where.size > 0 && !empty ? { where: Object.fromEntries(where.where) as Record<string, DimensionInput[]> } : {}),
    groupBy: group.dimensions.map((d) => d.name),
    granularity,
    ...(orderBy.length > 0 ? { orderBy } : {}),
    ...(empty ? { limit: 0 } : limit === undefined ? {} : { limit: limit + offset }),
    ...quantilesAsked(columns, orderBy),
  };
  const scalar = aggregating && group.dimensions.length === 0 && group.bucket === undefined && limit !== 0;
  return { query, columns, offset, scalar };
}

/** The quantiles of each quantiles measure the statement reads, for the query's `quantiles`. */
function quantilesAsked(columns: readonly PlannedColumn[], orderBy: NonNullable<Query['orderBy']>): Pick<Query, 'quantiles'> {
  const asked = new Map<string, Map<string, number>>();
  const ask = (measure: string, q: number) => {
    const byName = asked.get(measure) ?? new Map<string, number>();
    if (!byName.has(quantileName(q))) byName.set(quantileName(q), q);
    asked.set(measure, byName);
  };
  for (const { source } of columns) if (source.kind === 'measure' && source.quantile !== undefined) ask(source.measure.name, source.quantile);
  for (const o of orderBy) if ('measure' in o && o.quantile !== undefined) ask(o.measure, o.quantile);
  if (asked.size === 0) return {};
  return { quantiles: Object.fromEntries([...asked].map(([measure, byName]) => [measure, [...byName.values()]])) };
}

/** Refuses a parameter no `$n` uses: a statement and its params out of step are a mistake to point out. */
function checkParams(context: ValueContext): void {
  const unused = context.params.findIndex((_, i) => !context.usedParams.has(i));
  if (unused !== -1) throw new SqlParameterError(`params[${unused}]`, `params[${unused}] is not used: the SQL has no $${unused + 1}; send as many values as the SQL has $n.`);
}
