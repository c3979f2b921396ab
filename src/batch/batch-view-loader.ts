/**
 * Reads a batch view (a temporary table or a Parquet file, given as a SQL
 * source) into an in-memory table for serving.
 *
 * Reading is column-wise and numeric, because a view can have millions of
 * rows and turning every DuckDB value into a JavaScript one costs far more
 * than computing the view: series are numbered inside DuckDB so each distinct
 * combination of dimension values crosses over once, and integer states cross
 * as doubles while they are exact, with text only for the rare larger sum.
 *
 * @module
 */
import { DuckDBTypeId, type DuckDBConnection, type DuckDBDataChunk, type DuckDBVector } from '@duckdb/node-api';
import { sqlIdentifier, type SqlScalar, type Value, type ViewSchema } from '../definitions/index.ts';
import { AggregateTable } from '../aggregates/index.ts';
import { stateColumns, stateCount } from './batch-sql.ts';
import { toDimensionValue, toSqlScalar } from './duckdb-values.ts';
import { DuplicateBatchKeyError } from './errors.ts';

const SERIES_TABLE = 'tandem_load_series';
const SAFE = 'BETWEEN -9007199254740991 AND 9007199254740991';
const INTEGER_TYPES = new Set([DuckDBTypeId.TINYINT, DuckDBTypeId.SMALLINT, DuckDBTypeId.INTEGER, DuckDBTypeId.BIGINT, DuckDBTypeId.HUGEINT]);

/** How one state column is selected and read back. */
interface StateReader {
  readonly sql: readonly string[];
  read(chunk: DuckDBDataChunk, first: number): (row: number) => SqlScalar;
  /**
   * For an integer column: writes the chunk's values as doubles into `out`
   * (NaN for null) and says whether they all fit, false when a row's value
   * came as text (past 2^53), for which the chunk is read row by row.
   */
  readDoubles?(chunk: DuckDBDataChunk, first: number, rows: number, out: Float64Array): boolean;
}

function integerReader(column: string): StateReader {
  return {
    sql: [`CASE WHEN ${column} ${SAFE} THEN CAST(${column} AS DOUBLE) END`, `CASE WHEN NOT (${column} ${SAFE}) THEN CAST(${column} AS VARCHAR) END`],
    read(chunk, first) {
      const exact = chunk.getColumnVector(first) as DuckDBVector<number | null>;
      const text = chunk.getColumnVector(first + 1) as DuckDBVector<string | null>;
      return (row) => exact.getItem(row) ?? toBigInt(text.getItem(row));
    },
    readDoubles(chunk, first, rows, out) {
      const exact = chunk.getColumnVector(first) as DuckDBVector<number | null>;
      const text = chunk.getColumnVector(first + 1) as DuckDBVector<string | null>;
      // `rows` is passed in: a chunk's rowCount is a call into DuckDB each time it is read.
      for (let row = 0; row < rows; row++) {
        const value = exact.getItem(row);
        if (value === null && text.getItem(row) !== null) return false;
        out[row] = value ?? Number.NaN;
      }
      return true;
    },
  };
}

function toBigInt(text: string | null): bigint | null {
  return text === null ? null : BigInt(text);
}

function valueReader(column: string): StateReader {
  return {
    sql: [column],
    read(chunk, first) {
      const vector = chunk.getColumnVector(first);
      return (row) => toSqlScalar(vector.getItem(row));
    },
  };
}

async function stateReaders(connection: DuckDBConnection, view: ViewSchema, source: string): Promise<StateReader[]> {
  const columns = stateColumns(view).map((c) => `v.${sqlIdentifier(c)}`);
  const probe = await connection.run(`SELECT ${columns.join(', ')} FROM ${source} v LIMIT 0`);
  return columns.map((c, i) => (INTEGER_TYPES.has(probe.columnType(i).typeId) ? integerReader(c) : valueReader(c)));
}

/**
 * The query's result a chunk at a time, materialized first, not streamed:
 * a statement run on the same connection while a streamed result is being
 * read (a cluster node's queries and archive reads share it) ends that
 * result early without an error, which would load a view short.
 */
async function* chunks(connection: DuckDBConnection, sql: string): AsyncGenerator<DuckDBDataChunk> {
  const result = await connection.run(sql);
  for (let chunk = await result.fetchChunk(); chunk !== null && chunk.rowCount > 0; chunk = await result.fetchChunk()) yield chunk;
}

/**
 * Numbers the view's series inside DuckDB (over every source at once) and
 * reads each number's dimension values; each table interns a series when
 * its first row of it is read, so a table holds only its own series.
 */
async function loadSeries(connection: DuckDBConnection, view: ViewSchema, source: string): Promise<Value[][]> {
  const dims = view.dimensions.map((d) => sqlIdentifier(d.name));
  await connection.run(`CREATE OR REPLACE TEMP TABLE ${SERIES_TABLE} AS
    SELECT CAST(row_number() OVER () - 1 AS INTEGER) AS "$series", ${dims.join(', ')} FROM (SELECT DISTINCT ${dims.join(', ')} FROM ${source})`);
  const values: Value[][] = [];
  for await (const chunk of chunks(connection, `SELECT * FROM ${SERIES_TABLE}`)) {
    const vectors = Array.from({ length: chunk.columnCount }, (_, i) => chunk.getColumnVector(i));
    const rows = chunk.rowCount;
    for (let row = 0; row < rows; row++) values[vectors[0]!.getItem(row) as number] = vectors.slice(1).map((v) => toDimensionValue(v.getItem(row)));
  }
  return values;
}

/** One state column of a measure: its reader, and the first chunk column it reads. */
interface StateSlot {
  readonly reader: StateReader;
  readonly column: number;
}

/** Per measure, its state columns' readers and where each reads in a chunk (after the file, series and time columns). */
function stateLayout(view: ViewSchema, readers: readonly StateReader[]): StateSlot[][] {
  let column = 3;
  let at = 0;
  return view.measures.map((m) => Array.from({ length: stateCount(m.monoid) }, () => {
    const reader = readers[at++]!;
    const slot = { reader, column };
    column += reader.sql.length;
    return slot;
  }));
}

/** What folding a chunk into tables needs, fixed for the whole load. */
interface LoadContext {
  readonly view: ViewSchema;
  readonly tables: readonly AggregateTable[];
  readonly tableOf: (file: number) => number;
  /** Per table, its id of each series number (-1 until its first row interns it). */
  readonly ids: readonly Int32Array[];
  readonly series: readonly (readonly Value[])[];
  readonly slots: readonly { add(series: number, bucket: number): number }[];
  readonly layout: readonly (readonly StateSlot[])[];
  /** Per measure, one array for its SQL values: fromSql reads its argument and keeps nothing of it. */
  readonly scratch: readonly SqlScalar[][];
}

/** A row's slot in table `t`, interning its series there at its first row. */
function rowSlot(ctx: LoadContext, t: number, number: number, time: number): number {
  const ids = ctx.ids[t]!;
  let id = ids[number]!;
  if (id === -1) id = ids[number] = ctx.tables[t]!.internSeries(ctx.series[number]!);
  return ctx.slots[t]!.add(id, time);
}

/** Merges measure `m`'s states in rows `[0, count)` of a chunk, row by row: into `slotOf(row)` of `tableOfRow(row)`. */
function foldMeasureRows(ctx: LoadContext, chunk: DuckDBDataChunk, m: number, count: number, tableOfRow: (row: number) => number, slotOf: (row: number) => number): void {
  const reads = ctx.layout[m]!.map((s) => s.reader.read(chunk, s.column));
  const values = ctx.scratch[m]!;
  const monoid = ctx.view.measures[m]!.monoid;
  for (let row = 0; row < count; row++) {
    for (let c = 0; c < reads.length; c++) values[c] = reads[c]!(row);
    const column = ctx.tables[tableOfRow(row)]!.columns[m]!;
    // The state is this row's alone: a sketch column keeps it rather than copying it.
    if (column.adopt === undefined) column.merge(slotOf(row), monoid.fromSql(values));
    else column.adopt(slotOf(row), monoid.fromSql(values));
  }
}

/** Folds a chunk whose rows go to several tables, row by row. */
function foldRows(ctx: LoadContext, chunk: DuckDBDataChunk): void {
  const files = chunk.getColumnVector(0) as DuckDBVector<number>;
  const numbers = chunk.getColumnVector(1) as DuckDBVector<number>;
  const time = chunk.getColumnVector(2) as DuckDBVector<number>;
  const rows = chunk.rowCount;
  const tableOfRow = new Int32Array(rows);
  const slots = new Int32Array(rows);
  for (let row = 0; row < rows; row++) {
    const t = (tableOfRow[row] = ctx.tableOf(files.getItem(row)!));
    slots[row] = rowSlot(ctx, t, numbers.getItem(row)!, time.getItem(row)!);
  }
  for (let m = 0; m < ctx.layout.length; m++) foldMeasureRows(ctx, chunk, m, rows, (row) => tableOfRow[row]!, (row) => slots[row]!);
}

/** Per-load buffers for {@link foldChunk}, grown to the largest chunk: a chunk's slots, and one array per state column. */
class ChunkBuffers {
  slots = new Int32Array(0);
  readonly doubles: Float64Array[][];

  constructor(layout: readonly (readonly StateSlot[])[]) {
    this.doubles = layout.map((states) => states.map(() => new Float64Array(0)));
  }

  fit(rows: number): void {
    if (this.slots.length >= rows) return;
    this.slots = new Int32Array(rows);
    for (const states of this.doubles) for (let c = 0; c < states.length; c++) states[c] = new Float64Array(rows);
  }
}

/**
 * Merges measure `m`'s states of a chunk column by column, when its column
 * takes SQL states in bulk and every value is a number: one pass per state
 * column instead of a state object per row. False when it cannot.
 */
function foldMeasureColumns(ctx: LoadContext, chunk: DuckDBDataChunk, rows: number, m: number, buffers: ChunkBuffers): boolean {
  const column = ctx.tables[0]!.columns[m]!;
  const states = ctx.layout[m]!;
  if (column.mergeSqlColumns === undefined || !states.every((s) => s.reader.readDoubles !== undefined)) return false;
  const doubles = buffers.doubles[m]!;
  for (let c = 0; c < states.length; c++) if (!states[c]!.reader.readDoubles!(chunk, states[c]!.column, rows, doubles[c]!)) return false;
  column.mergeSqlColumns(buffers.slots, rows, doubles);
  return true;
}

/** Folds a chunk whose rows all go to the one table: slots first, then each measure's states in bulk where it can. */
function foldChunk(ctx: LoadContext, chunk: DuckDBDataChunk, buffers: ChunkBuffers): void {
  const numbers = chunk.getColumnVector(1) as DuckDBVector<number>;
  const time = chunk.getColumnVector(2) as DuckDBVector<number>;
  const rows = chunk.rowCount;
  buffers.fit(rows);
  const slots = buffers.slots;
  for (let row = 0; row < rows; row++) slots[row] = rowSlot(ctx, 0, numbers.getItem(row)!, time.getItem(row)!);
  for (let m = 0; m < ctx.layout.length; m++) {
    if (!foldMeasureColumns(ctx, chunk, rows, m, buffers)) foldMeasureRows(ctx, chunk, m, rows, () => 0, (row) => slots[row]!);
  }
}

function statesSql(view: ViewSchema, source: string, readers: readonly StateReader[]): string {
  const states = readers.flatMap((r) => r.sql);
  if (view.dimensions.length === 0) return `SELECT v."$file", 0, CAST(v."time" AS DOUBLE), ${states.join(', ')} FROM ${source} v`;
  const on = view.dimensions.map((d) => `v.${sqlIdentifier(d.name)} IS NOT DISTINCT FROM s.${sqlIdentifier(d.name)}`).join(' AND ');
  return `SELECT v."$file", s."$series", CAST(v."time" AS DOUBLE), ${states.join(', ')} FROM ${source} v JOIN ${SERIES_TABLE} s ON ${on}`;
}

/** The sources as one, each row with the index of its source in `"$file"`. */
function unionSql(sources: readonly string[]): string {
  return `(${sources.map((s, i) => `SELECT ${i} AS "$file", * FROM ${s}`).join(' UNION ALL ')})`;
}

/** Reads a batch view into an {@link AggregateTable}, turning its state columns back into the measures' monoid states. */
export async function loadViewTable(connection: DuckDBConnection, view: ViewSchema, source: string): Promise<AggregateTable> {
  return (await loadViewTables(connection, view, [source]))[0]!;
}

/**
 * Reads several batch views of one definition (a cluster node's partitions'
 * files) in one pass: into one table each, or as `into` says (per source,
 * its table's index), where the sources of one table are merged by each
 * measure's monoid (the files of a node's partitions share series and
 * buckets). One pass, because the statements DuckDB runs per load, and not
 * the rows, are most of the cost of loading a small file, and a node loads
 * one small file per view and partition.
 *
 * @example
 * ```ts
 * const files = ["read_parquet('sales.p000.parquet')", "read_parquet('sales.p003.parquet')"];
 * const [p0, p3] = await loadViewTables(connection, view, files);
 * const [both] = await loadViewTables(connection, view, files, [0, 0]);
 * ```
 */
export function loadViewTables(connection: DuckDBConnection, view: ViewSchema, sources: readonly string[], into?: readonly number[]): Promise<AggregateTable[]> {
  // One load at a time per connection: each numbers its series in the same temporary table.
  const previous = loading.get(connection) ?? Promise.resolve();
  const load = previous.then(() => loadOnce(connection, view, sources, into));
  loading.set(connection, load.then(() => undefined, () => undefined));
  return load;
}

/** Per connection, the load running or queued last: a cluster node loads on one connection from its adoptions and its answers. */
const loading = new WeakMap<DuckDBConnection, Promise<void>>();

async function loadOnce(connection: DuckDBConnection, view: ViewSchema, sources: readonly string[], into?: readonly number[]): Promise<AggregateTable[]> {
  const tableOf = into === undefined ? (file: number) => file : (file: number) => into[file]!;
  const tables = Array.from({ length: into === undefined ? sources.length : Math.max(-1, ...into) + 1 }, () => new AggregateTable(view));
  if (sources.length === 0) return tables;
  const shared = tables.map((_, t) => sources.filter((_, i) => tableOf(i) === t).length > 1);
  const source = unionSql(sources);
  const counts = await connection.runAndReadAll(`SELECT "$file", count(*) FROM ${source} GROUP BY 1`);
  // Merged files share most keys (a view's series recur in every partition): room for the largest, grown if need be.
  const reserved = tables.map(() => 0);
  for (const [file, count] of counts.getRows()) reserved[tableOf(Number(file))] = Math.max(reserved[tableOf(Number(file))]!, Number(count));
  tables.forEach((t, i) => t.reserve(reserved[i]!));
  const readers = await stateReaders(connection, view, source);
  const series = view.dimensions.length === 0 ? [[]] : await loadSeries(connection, view, source);
  try {
    const layout = stateLayout(view, readers);
    // A GROUP BY's rows have distinct keys, so one file's are numbered as they come and indexed in one sweep at
    // the end; merged files' keys repeat, and each row finds its slot.
    const slots = tables.map((t, i) => (shared[i] ? { add: (series: number, bucket: number) => t.internSlot(series, bucket), finish: () => true } : t.bulkSlots()));
    const ctx: LoadContext = {
      view, tables, tableOf, series, slots, layout,
      ids: tables.map(() => new Int32Array(series.length).fill(-1)),
      scratch: layout.map((states) => new Array<SqlScalar>(states.length)),
    };
    const buffers = new ChunkBuffers(layout);
    for await (const chunk of chunks(connection, statesSql(view, source, readers))) {
      if (tables.length === 1) foldChunk(ctx, chunk, buffers);
      else foldRows(ctx, chunk);
    }
    if (!slots.every((s) => s.finish())) throw new DuplicateBatchKeyError(view.name);
  } finally {
    await connection.run(`DROP TABLE IF EXISTS ${SERIES_TABLE}`);
  }
  return tables;
}
