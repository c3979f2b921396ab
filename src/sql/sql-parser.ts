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
import { DuckDBInstance, type DuckDBConnection, type DuckDBPreparedStatement } from '@duckdb/node-api';
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
 * Parses SQL text into DuckDB's syntax tree. Its DuckDB instance (one
 * thread, 64 MB) is created on first use and closed by {@link close}; parses
 * run side by side, each on a connection of its own, and a short text seen
 * lately is answered from its kept tree without asking DuckDB again.
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
  /** Connections with the statement prepared, ready for the next parse; a parse takes one or opens one. */
  readonly #idle: Session[] = [];
  /** Trees of recent short statements, by their text: a dashboard sends the same SQL again and again. Frozen, as planning never changes a tree. */
  readonly #trees = new Map<string, SelectNode>();

  /** The one SELECT statement of `sql`; refuses other statements, several, or more than `timeoutMs` of parsing. */
  async parse(sql: string, timeoutMs = Infinity): Promise<SelectNode> {
    if (sql.length > MAX_SQL_LENGTH) {
      throw new SqlTooLargeError(MAX_SQL_LENGTH, `The SQL text has ${sql.length.toLocaleString('en-US')} characters, more than the limit of ${MAX_SQL_LENGTH.toLocaleString('en-US')}; shorten it, for example its IN lists.`);
    }
    const cached = this.#trees.get(sql);
    if (cached !== undefined) {
      // Most recently used last: the first entry is the one to forget.
      this.#trees.delete(sql);
      this.#trees.set(sql, cached);
      return cached;
    }
    const serialized = readTree(await this.#serialize(sql, timeoutMs));
    if (serialized.error) throw syntaxError(serialized);
    const statements = serialized.statements ?? [];
    if (statements.length !== 1) throw new SqlSyntaxError(`The SQL text holds ${statements.length} statements; send exactly one SELECT.`);
    const tree = statements[0]!.node;
    checkDepth(tree);
    if (sql.length <= CACHED_SQL_LENGTH) this.#remember(sql, tree);
    return tree;
  }

  /** Closes the DuckDB instance, if one was opened. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const session of this.#idle.splice(0)) session.end();
    const instance = this.#instance;
    this.#instance = undefined;
    if (instance !== undefined) (await instance).closeSync();
  }

  #remember(sql: string, tree: SelectNode): void {
    deepFreeze(tree);
    this.#trees.set(sql, tree);
    if (this.#trees.size > CACHED_TREES) this.#trees.delete(this.#trees.keys().next().value!);
  }

  async #session(): Promise<Session> {
    const idle = this.#idle.pop();
    if (idle !== undefined) return idle;
    this.#instance ??= DuckDBInstance.create(':memory:', { threads: '1', memory_limit: '64MB' });
    const connection = await (await this.#instance).connect();
    try {
      return new Session(connection, await connection.prepare('SELECT json_serialize_sql($1::VARCHAR)'));
    } catch (error) {
      connection.closeSync();
      throw error;
    }
  }

  async #serialize(sql: string, timeoutMs: number): Promise<string> {
    if (this.#closed) throw new Error('The SQL parser is closed.');
    // A session per parse in flight: parses run side by side, and one that runs too long is interrupted alone.
    const session = await this.#session();
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    try {
      session.prepared.bindVarchar(1, sql);
      const running = session.prepared.runAndReadAll();
      if (Number.isFinite(timeoutMs)) {
        timer = setTimeout(() => {
          timedOut = true;
          session.connection.interrupt();
        }, Math.max(0, timeoutMs));
      }
      // The run is awaited even when interrupted: DuckDB's statement and connection are released only once it ends.
      const reader = await running.catch((error: unknown) => {
        throw timedOut ? new QueryTimeoutError(timeoutMs) : error;
      });
      if (timedOut) throw new QueryTimeoutError(timeoutMs);
      return String(reader.getRows()[0]![0]);
    } finally {
      clearTimeout(timer);
      // An interrupted or failed session is not reused; a closed parser keeps none.
      if (timedOut || this.#closed || this.#idle.length >= IDLE_SESSIONS) session.end();
      else this.#idle.push(session);
    }
  }
}

/** Most idle sessions kept: as many parses as usually run at once. */
const IDLE_SESSIONS = 4;
/** Most trees kept, and the longest text whose tree is kept (a long IN list is not worth keeping). */
const CACHED_TREES = 256;
const CACHED_SQL_LENGTH = 4096;

/** A connection of the parser's instance with the serializing statement prepared on it. */
class Session {
  constructor(readonly connection: DuckDBConnection, readonly prepared: DuckDBPreparedStatement) {}

  end(): void {
    this.prepared.destroySync();
    this.connection.closeSync();
  }
}

function deepFreeze(value: unknown): void {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const child of Object.values(value)) deepFreeze(child);
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
