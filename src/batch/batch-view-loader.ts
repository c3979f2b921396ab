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
import { sqlIdentifier, type SqlScalar, type ViewSchema } from '../definitions/index.ts';
import { AggregateTable } from '../aggregates/index.ts';
import { stateColumns } from './batch-sql.ts';
import { toDimensionValue, toSqlScalar } from './duckdb-values.ts';
import { DuplicateBatchKeyError } from './errors.ts';

const SERIES_TABLE = 'tandem_load_series';
const SAFE = 'BETWEEN -9007199254740991 AND 9007199254740991';
const INTEGER_TYPES = new Set([DuckDBTypeId.TINYINT, DuckDBTypeId.SMALLINT, DuckDBTypeId.INTEGER, DuckDBTypeId.BIGINT, DuckDBTypeId.HUGEINT]);

/** How one state column is selected and read back. */
interface StateReader {
  readonly sql: readonly string[];
  read(chunk: DuckDBDataChunk, first: number): (row: number) => SqlScalar;
}

function integerReader(column: string): StateReader {
  return {
    sql: [`CASE WHEN ${column} ${SAFE} THEN CAST(${column} AS DOUBLE) END`, `CASE WHEN NOT (${column} ${SAFE}) THEN CAST(${column} AS VARCHAR) END`],
    read(chunk, first) {
      const exact = chunk.getColumnVector(first) as DuckDBVector<number | null>;
      const text = chunk.getColumnVector(first + 1) as DuckDBVector<string | null>;
      return (row) => exact.getItem(row) ?? toBigInt(text.getItem(row));
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

async function* chunks(connection: DuckDBConnection, sql: string): AsyncGenerator<DuckDBDataChunk> {
  const result = await connection.stream(sql);
  for (let chunk = await result.fetchChunk(); chunk !== null && chunk.rowCount > 0; chunk = await result.fetchChunk()) yield chunk;
}

/** Numbers the view's series inside DuckDB and interns each in `table`; returns the table's id for each number. */
async function loadSeries(connection: DuckDBConnection, view: ViewSchema, source: string, table: AggregateTable): Promise<number[]> {
  const dims = view.dimensions.map((d) => sqlIdentifier(d.name));
  await connection.run(`CREATE OR REPLACE TEMP TABLE ${SERIES_TABLE} AS
    SELECT CAST(row_number() OVER () - 1 AS INTEGER) AS "$series", ${dims.join(', ')} FROM (SELECT DISTINCT ${dims.join(', ')} FROM ${source})`);
  const ids: number[] = [];
  for await (const chunk of chunks(connection, `SELECT * FROM ${SERIES_TABLE}`)) {
    const vectors = Array.from({ length: chunk.columnCount }, (_, i) => chunk.getColumnVector(i));
    const rows = chunk.rowCount;
    for (let row = 0; row < rows; row++) {
      const values = vectors.slice(1).map((v) => toDimensionValue(v.getItem(row)));
      ids[vectors[0]!.getItem(row) as number] = table.internSeries(values);
    }
  }
  return ids;
}

/** Per measure, the readers of its state columns in this chunk (they start at column 2). */
function readersByMeasure(chunk: DuckDBDataChunk, readers: readonly StateReader[], widths: readonly number[]): ((row: number) => SqlScalar)[][] {
  let column = 2;
  const reads = readers.map((r) => {
    const read = r.read(chunk, column);
    column += r.sql.length;
    return read;
  });
  let at = 0;
  return widths.map((w) => reads.slice(at, (at += w)));
}

function statesSql(view: ViewSchema, source: string, readers: readonly StateReader[]): string {
  const states = readers.flatMap((r) => r.sql);
  if (view.dimensions.length === 0) return `SELECT 0, CAST(v."time" AS DOUBLE), ${states.join(', ')} FROM ${source} v`;
  const on = view.dimensions.map((d) => `v.${sqlIdentifier(d.name)} IS NOT DISTINCT FROM s.${sqlIdentifier(d.name)}`).join(' AND ');
  return `SELECT s."$series", CAST(v."time" AS DOUBLE), ${states.join(', ')} FROM ${source} v JOIN ${SERIES_TABLE} s ON ${on}`;
}

/** Reads a batch view into an {@link AggregateTable}, turning its state columns back into the measures' monoid states. */
export async function loadViewTable(connection: DuckDBConnection, view: ViewSchema, source: string): Promise<AggregateTable> {
  const table = new AggregateTable(view);
  const count = await connection.runAndReadAll(`SELECT count(*) FROM ${source}`);
  table.reserve(Number(count.getRows()[0]![0]));
  const readers = await stateReaders(connection, view, source);
  const ids = view.dimensions.length === 0 ? [table.internSeries([])] : await loadSeries(connection, view, source, table);
  try {
    const widths = view.measures.map((m) => m.monoid.sqlAggregates('x').length);
    // fromSql reads its argument and keeps nothing of it, so one array per measure serves every row.
    const scratch = widths.map((w) => new Array<SqlScalar>(w));
    // A GROUP BY's rows have distinct keys, so they are numbered as they come and indexed in one sweep at the end.
    const slots = table.bulkSlots();
    for await (const chunk of chunks(connection, statesSql(view, source, readers))) {
      const series = chunk.getColumnVector(0) as DuckDBVector<number>;
      const time = chunk.getColumnVector(1) as DuckDBVector<number>;
      const reads = readersByMeasure(chunk, readers, widths);
      const rows = chunk.rowCount;
      for (let row = 0; row < rows; row++) {
        const slot = slots.add(ids[series.getItem(row)!]!, time.getItem(row)!);
        for (let m = 0; m < reads.length; m++) {
          const measureReads = reads[m]!;
          const values = scratch[m]!;
          for (let c = 0; c < measureReads.length; c++) values[c] = measureReads[c]!(row);
          table.columns[m]!.merge(slot, view.measures[m]!.monoid.fromSql(values));
        }
      }
    }
    if (!slots.finish()) throw new DuplicateBatchKeyError(view.name);
  } finally {
    await connection.run(`DROP TABLE IF EXISTS ${SERIES_TABLE}`);
  }
  return table;
}
