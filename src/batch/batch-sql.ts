/**
 * SQL for a batch view, generated from the view definition: the same
 * definition the speed layer folds in JavaScript. Identifiers come from the
 * definitions only; filter values and the cutoff are bound parameters.
 *
 * @module
 */
import { bucketSql, filterSql, scaledIntegerSql, sqlIdentifier, sqlStringLiteral, type Field, type Measure, type MeasureSchema, type ViewSchema } from '../definitions/index.ts';

/**
 * The value a measure aggregates, in the speed layer's normalized form: the
 * scaled integer (a DECIMAL(18, s) times 10^s, exact) for numbers, epoch ms for
 * timestamps. Integer states read back into JavaScript without decimal objects.
 */
function measureInput(field: Field | undefined): string {
  if (field === undefined) return '';
  const column = sqlIdentifier(field.name);
  if (field.type === 'timestamp') return `epoch_ms(${column})`;
  if (field.type === 'number') return scaledIntegerSql(column, field.scale);
  return column;
}

/**
 * A filtered measure's flag column: whether a row meets the measure's own
 * filter, computed once per row where the rows are read (see
 * {@link rowsSql}). `$` never occurs in a definition's names.
 */
function flagColumn(measure: number): string {
  return sqlIdentifier(`$f${measure}`);
}

/**
 * A measure's input, NULL on the rows its filter rejects: every measure's
 * aggregates skip a NULL input, as the speed layer skips those events for
 * that measure, so both fold the same events. A count's input is the
 * constant 1 then, which `count` counts where it is not NULL.
 */
function filteredInput(measure: MeasureSchema, i: number): string {
  const input = measureInput(measure.field);
  if (measure.filter.length === 0) return input;
  return `CASE WHEN ${flagColumn(i)} THEN ${input === '' ? '1' : input} END`;
}

/**
 * The rows the view reads, those of offsets [from, cutoff) that meet its
 * filter; with a flag column per filtered measure, in a subquery so that
 * each measure's condition (and its bound parameters) occurs once.
 */
function rowsSql(view: ViewSchema, input: ViewInput, from: number, cutoff: number): { readonly sql: string; readonly params: (string | number | boolean)[] } {
  const filter = filterSql(view.filter);
  const where = `WHERE _offset >= CAST(? AS BIGINT) AND _offset < CAST(? AS BIGINT) AND (${filter.sql})`;
  const whereParams = [String(from), String(cutoff), ...filter.params];
  const flags = view.measures.flatMap((m, i) => (m.filter.length === 0 ? [] : [{ ...filterSql(m.filter), name: flagColumn(i) }]));
  if (flags.length === 0) return { sql: `FROM ${inputSql(input)} ${where}`, params: whereParams };
  const columns = flags.map((f) => `(${f.sql}) AS ${f.name}`).join(', ');
  // Parameters in the order their `?`s occur: the flags' in the select list, then the WHERE's.
  return { sql: `FROM (SELECT *, ${columns} FROM ${inputSql(input)} ${where})`, params: [...flags.flatMap((f) => f.params), ...whereParams] };
}

/** How many state columns a measure has. */
export function stateCount(measure: Measure): number {
  const sql = measure.sql('x');
  return sql.states(sql.partials.map(() => 'p'), sql.subKeys.map(() => 'k')).length;
}

/** Names of a view table's state columns: `$` never occurs in a definition's names, so they cannot clash. */
export function stateColumns(view: ViewSchema): string[] {
  return view.measures.flatMap((m) => Array.from({ length: stateCount(m.monoid) }, (_, i) => `${m.name}$${i}`));
}

/** The master dataset's files a view reads: one list, or (a cluster node's part) one list per log partition. */
export type ViewInput = readonly string[] | ReadonlyMap<number, readonly string[]>;

/** A partition's column in a view computed per partition: `$` never occurs in a definition's names. */
export const PARTITION_COLUMN = '$partition';

/** The rows the view reads: per partition, its files with the partition's number beside each row. */
function inputSql(input: ViewInput): string {
  const read = (files: readonly string[]) => `read_parquet([${files.map(sqlStringLiteral).join(', ')}], union_by_name = true)`;
  if (!(input instanceof Map)) return read(input as readonly string[]);
  // BY NAME: partitions' files may hold fields added at different times.
  return `(${[...input].map(([p, files]) => `SELECT CAST(${p} AS INTEGER) AS ${sqlIdentifier(PARTITION_COLUMN)}, * FROM ${read(files)}`).join(' UNION ALL BY NAME ')})`;
}

/** A view's measures in SQL: the first step's sub-keys and partials (each with its column's name), and the state columns over those names. */
interface ViewAggregates {
  readonly subKeys: readonly (readonly [expression: string, name: string])[];
  readonly partials: readonly (readonly [expression: string, name: string])[];
  readonly states: readonly string[];
}

/** Each measure's SQL over its input, its first step's columns named (`$k…` sub-keys, `$p…` partials) for the second step to read. */
function viewAggregates(view: ViewSchema): ViewAggregates {
  const subKeys: [string, string][] = [];
  const partials: [string, string][] = [];
  const named = (into: [string, string][], prefix: string) => (expression: string, j: number): string => {
    const name = sqlIdentifier(`${prefix}_${j}`);
    into.push([expression, name]);
    return name;
  };
  const states = view.measures.flatMap((m, i) => {
    const sql = m.monoid.sql(filteredInput(m, i));
    return sql.states(sql.partials.map(named(partials, `$p${i}`)), sql.subKeys.map(named(subKeys, `$k${i}`)));
  });
  return { subKeys, partials, states };
}

/** `GROUP BY 1, 2, …, n`. */
function groupByFirst(n: number): string {
  return `GROUP BY ${Array.from({ length: n }, (_, i) => String(i + 1)).join(', ')}`;
}

/**
 * The SQL that computes `view` into temporary table `table` from `input`
 * over offsets `[from, cutoff)`; with one list of files per partition, the
 * rows are grouped by partition too, in column {@link PARTITION_COLUMN}, so
 * that one scan gives every partition's file. A view with a sketch groups
 * twice (see `MeasureSql`): by key and the sketches' sub-keys, then by key;
 * any other view once, its partials being its states.
 */
export function batchViewSql(view: ViewSchema, table: string, input: ViewInput, cutoff: number, from = 0): { sql: string; params: (string | number | boolean)[] } {
  const time = `${bucketSql(view.granularity, sqlIdentifier(view.eventType.time.name))} AS "time"`;
  const keys = [...view.dimensions.map((d) => sqlIdentifier(d.name)), ...(input instanceof Map ? [sqlIdentifier(PARTITION_COLUMN)] : [])];
  const names = stateColumns(view).map(sqlIdentifier);
  const { sql: rows, params } = rowsSql(view, input, from, cutoff);
  const { subKeys, partials, states } = viewAggregates(view);
  const first = (columns: readonly (readonly [string, string])[]) => columns.map(([expression, name]) => `${expression} AS ${name}`);
  const sql = subKeys.length === 0
    ? `SELECT ${[time, ...keys, ...partials.map(([expression], i) => `${expression} AS ${names[i]!}`)].join(', ')} ${rows} ${groupByFirst(1 + keys.length)}`
    : `SELECT ${['"time"', ...keys, ...states.map((state, i) => `${state} AS ${names[i]!}`)].join(', ')}
    FROM (SELECT ${[time, ...keys, ...first(subKeys), ...first(partials)].join(', ')} ${rows} ${groupByFirst(1 + keys.length + subKeys.length)})
    ${groupByFirst(1 + keys.length)}`;
  return { sql: `CREATE OR REPLACE TEMP TABLE ${sqlIdentifier(table)} AS\n    ${sql}`, params };
}
