/**
 * SQL over an engine's merged views: parse, plan onto a JSON query, run it
 * through the engine's own `query` (the same merge, row limit and deadline
 * as a JSON query; the parse counts against the deadline), and read the
 * answer. The text of a request never becomes SQL that DuckDB runs: it is
 * only parsed, bound as a parameter.
 *
 * @module
 */
import type { Catalog } from '../definitions/index.ts';
import type { Query, QueryLimits, QueryResult } from '../serving/index.ts';
import { SqlParameterError, SqlSyntaxError } from './errors.ts';
import { sqlAnswer, type SqlResult } from './sql-answer.ts';
import { SqlParser } from './sql-parser.ts';
import { planSql, type SqlPlan } from './sql-plan.ts';

/**
 * What SQL needs of an engine: its views, and its query. The embedded
 * engine and a cluster node both are one.
 *
 * @example
 * ```ts
 * const engine: SqlEngine = await Tandem.open({ dataDir: './data', config });
 * ```
 */
export interface SqlEngine {
  readonly catalog: Catalog;
  query(query: Query, limits?: QueryLimits): Promise<QueryResult>;
}

/**
 * A SQL request: one SELECT, and the values of its `$1`, `$2`, ….
 *
 * @example
 * ```ts
 * const request: SqlRequest = { sql: 'SELECT sum(revenue) FROM revenue_by_country WHERE country = $1', params: ['DE'] };
 * ```
 */
export interface SqlRequest {
  readonly sql: string;
  readonly params?: readonly unknown[];
}

/** The most parameters a statement may take, as in PostgreSQL's protocol. */
const MAX_PARAMS = 65_535;

/**
 * Answers SQL over one engine. Owns the small DuckDB instance the SQL is
 * parsed on (never the batch layer's); {@link close} closes it.
 *
 * @example
 * ```ts
 * const sql = new SqlRunner(tandem);
 * const { columns, rows, meta } = await sql.run({ sql: 'SELECT country, sum(revenue) AS revenue FROM revenue_by_country GROUP BY country ORDER BY revenue DESC LIMIT 10' });
 * await sql.close();
 * ```
 */
export class SqlRunner {
  readonly #parser = new SqlParser();

  constructor(private readonly engine: SqlEngine, private readonly now: () => number = Date.now) {}

  /** The statement's plan: the JSON query it runs as, its columns, its offset. */
  async plan(request: SqlRequest, timeoutMs = Infinity): Promise<SqlPlan> {
    const { sql, params } = checkRequest(request);
    const select = await this.#parser.parse(sql, timeoutMs);
    return planSql(select, this.engine.catalog, { params, now: this.now(), usedParams: new Set() });
  }

  /** Answers one SELECT within `limits` (rows, and time from the start of parsing). */
  async run(request: SqlRequest, limits: QueryLimits = {}): Promise<SqlResult> {
    return (await this.execute(request, limits)).result;
  }

  /** As {@link run}, naming the view that answered too (for metrics labelled by view). */
  async execute(request: SqlRequest, limits: QueryLimits = {}): Promise<{ readonly view: string; readonly result: SqlResult }> {
    const started = performance.now();
    const plan = await this.plan(request, limits.timeoutMs);
    const left = limits.timeoutMs === undefined ? undefined : Math.max(1, limits.timeoutMs - (performance.now() - started));
    const result = await this.engine.query(plan.query, { ...limits, ...(left === undefined ? {} : { timeoutMs: left }) });
    return { view: plan.query.view, result: sqlAnswer(plan, result) };
  }

  async close(): Promise<void> {
    await this.#parser.close();
  }
}

function checkRequest(request: SqlRequest): { sql: string; params: readonly unknown[] } {
  if (typeof request.sql !== 'string' || request.sql.trim() === '') throw new SqlSyntaxError('sql must be the text of one SELECT statement.');
  const params = request.params ?? [];
  if (!Array.isArray(params)) throw new SqlParameterError('params', 'params must be an array: the values of $1, $2 and so on, in order.');
  if (params.length > MAX_PARAMS) throw new SqlParameterError('params', `params has ${params.length.toLocaleString('en-US')} values, more than the ${MAX_PARAMS.toLocaleString('en-US')} a statement may take.`);
  return { sql: request.sql, params };
}
