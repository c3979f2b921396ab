/**
 * Parses users' SQL with DuckDB's own parser (a fork of PostgreSQL's
 * grammar): `SELECT json_serialize_sql($1)` with the text bound as a
 * parameter, never spliced, on a small in-memory DuckDB instance this module
 * owns. Chosen over `libpg-query` because the engine already ships DuckDB
 * (no new native or wasm dependency) and its parser reads everything BI
 * tools send that Tandem answers: `percentile_cont(q) WITHIN GROUP (ORDER BY
 * x)`, `now() - interval '7 days'`, `$1`, `::` casts, `extract(epoch from
 * time)`, `to_timestamp`, `BETWEEN`, `IN`, `LIKE`. `json_serialize_sql` only
 * parses: nothing of the text is ever planned or run by DuckDB.
 *
 * @module
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { QueryTimeoutError } from '../serving/index.ts';
import { SqlSyntaxError, SqlTooLargeError } from './errors.ts';
import type { SelectNode } from './sql-tree.ts';

/** The longest SQL text taken: ample for a dashboard's query with a long IN list, and parsed in tens of milliseconds. */
export const MAX_SQL_LENGTH = 100_000;

/**
 * How deep the parsed tree may nest (JSON levels; each level of SQL nesting
 * takes three or four). The planner walks the tree recursively, so this
 * bound keeps its stack small, and no query Tandem answers comes near it.
 */
export const MAX_TREE_DEPTH = 200;

interface Serialized {
  readonly error: boolean;
  readonly error_message?: string;
  readonly position?: string;
  readonly statements?: readonly { readonly node: SelectNode }[];
}

/**
 * Parses SQL text into DuckDB's syntax tree, one statement at a time. The
 * DuckDB instance is created on first use and closed by {@link close}.
 *
 * @example
 * ```ts
 * const parser = new SqlParser();
 * const select = await parser.parse('SELECT sum(revenue) FROM revenue_by_country', 10_000);
 * await parser.close();
 * ```
 */
export class SqlParser {
  #instance: Promise<DuckDBInstance> | undefined;
  #closed = false;

  /** The one SELECT statement of `sql`; refuses other statements, several, or more than `timeoutMs` of parsing. */
  async parse(sql: string, timeoutMs = Infinity): Promise<SelectNode> {
    if (sql.length > MAX_SQL_LENGTH) {
      throw new SqlTooLargeError(MAX_SQL_LENGTH, `The SQL text has ${sql.length.toLocaleString('en-US')} characters, more than the limit of ${MAX_SQL_LENGTH.toLocaleString('en-US')}; shorten it, for example its IN lists.`);
    }
    const serialized = readTree(await this.#serialize(sql, timeoutMs));
    if (serialized.error) throw syntaxError(serialized);
    const statements = serialized.statements ?? [];
    if (statements.length !== 1) throw new SqlSyntaxError(`The SQL text holds ${statements.length} statements; send exactly one SELECT.`);
    checkDepth(statements[0]!.node);
    return statements[0]!.node;
  }

  /** Closes the DuckDB instance, if one was opened. */
  async close(): Promise<void> {
    this.#closed = true;
    const instance = this.#instance;
    this.#instance = undefined;
    if (instance !== undefined) (await instance).closeSync();
  }

  async #serialize(sql: string, timeoutMs: number): Promise<string> {
    if (this.#closed) throw new Error('The SQL parser is closed.');
    this.#instance ??= DuckDBInstance.create(':memory:', { threads: '1', memory_limit: '64MB' });
    // A connection per parse: parses run side by side, and one that runs too long is interrupted alone.
    const connection = await (await this.#instance).connect();
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    try {
      const prepared = await connection.prepare('SELECT json_serialize_sql($1::VARCHAR)');
      try {
        prepared.bindVarchar(1, sql);
        const running = prepared.runAndReadAll();
        if (Number.isFinite(timeoutMs)) {
          timer = setTimeout(() => {
            timedOut = true;
            connection.interrupt();
          }, Math.max(0, timeoutMs));
        }
        // The run is awaited even when interrupted: DuckDB's statement and connection are released only once it ends.
        const reader = await running.catch((error: unknown) => {
          throw timedOut ? new QueryTimeoutError(timeoutMs) : error;
        });
        if (timedOut) throw new QueryTimeoutError(timeoutMs);
        return String(reader.getRows()[0]![0]);
      } finally {
        prepared.destroySync();
      }
    } finally {
      clearTimeout(timer);
      connection.closeSync();
    }
  }
}

/**
 * The serialized tree as JSON. DuckDB writes a number beyond a double's
 * range (`1e400`) as `Infinity`, which is no JSON: such a statement is
 * refused rather than read.
 */
function readTree(text: string): Serialized {
  try {
    return JSON.parse(text) as Serialized;
  } catch {
    throw new SqlSyntaxError('The SQL holds a number beyond the range of a double (such as 1e400); write a smaller one.');
  }
}

function syntaxError(serialized: Serialized): SqlSyntaxError {
  const message = (serialized.error_message ?? 'it does not parse').replace(/[.\s]+$/, '');
  if (/only select statements/i.test(message)) return new SqlSyntaxError('Only SELECT statements are answered: the views are read-only.');
  const at = serialized.position === undefined ? '' : ` (at character ${Number(serialized.position) + 1})`;
  return new SqlSyntaxError(`The SQL does not parse: ${message.slice(0, 200)}${at}.`);
}

/** Refuses a tree nested deeper than {@link MAX_TREE_DEPTH}, walking it without recursion. */
function checkDepth(root: unknown): void {
  const stack: [unknown, number][] = [[root, 0]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (value === null || typeof value !== 'object') continue;
    if (depth > MAX_TREE_DEPTH) {
      throw new SqlTooLargeError(MAX_TREE_DEPTH, 'The SQL nests expressions too deeply to plan; write it with fewer parentheses and nested calls.');
    }
    for (const child of Object.values(value)) stack.push([child, depth + 1]);
  }
}
