/**
 * `POST /v1/sql`: one SELECT over the merged views, answered as the JSON
 * query it plans onto is, with the same scope (`query`), row limit and
 * timeout, and the same `meta`. The route's contract (body, answer, error
 * codes) is declared here for the server and for `/openapi.json`.
 *
 * @module
 */
import type { FastifyInstance } from 'fastify';
import type { QueryLimits } from '../serving/index.ts';
import type { SqlRequest, SqlRunner } from '../sql/index.ts';
import { QUERY_META } from './api-schemas.ts';
import { MalformedBodyError } from './errors.ts';
import { routeOptions, type RouteContract } from './route-contract.ts';

const SQL_TYPES = ['timestamptz', 'date', 'text', 'bool', 'int8', 'float8', 'numeric', 'json'];

const SQL_CONTRACT: RouteContract = {
  operationId: 'sql',
  summary: 'Answer one SQL SELECT over a view, merged as a JSON query is.',
  description: 'Each view is a table: time (the bucket start), its dimensions, its measures. Aggregates merge each measure by its own monoid; README.md, "SQL", lists what is supported and what is refused.',
  scope: 'query',
  accepts: ['json'],
  body: {
    type: 'object',
    required: ['sql'],
    additionalProperties: false,
    properties: {
      sql: { type: 'string', description: 'One SELECT, up to 100,000 characters.' },
      params: { type: 'array', items: { type: ['string', 'number', 'boolean', 'null'] }, description: 'The values of $1, $2, … in order; each one must be used.' },
    },
  },
  answer: {
    description: 'The columns (PostgreSQL type names), the rows as arrays in column order, and where they came from.',
    content: {
      'application/json': {
        schema: {
          type: 'object',
          additionalProperties: false,
          required: ['columns', 'rows', 'meta'],
          properties: {
            columns: {
              type: 'array',
              items: { type: 'object', additionalProperties: false, required: ['name', 'type'], properties: { name: { type: 'string' }, type: { enum: SQL_TYPES } } },
            },
            rows: {
              type: 'array',
              items: { type: 'array', items: { type: ['number', 'string', 'boolean', 'null', 'object'] } },
              description: 'A timestamptz is ISO text, a date YYYY-MM-DD; a numeric may be exact decimal text; a json cell an object such as { p50, p99 }.',
            },
            meta: QUERY_META,
          },
        },
      },
    },
  },
  errors: [
    'sql_syntax', 'sql_too_large', 'sql_unsupported', 'unknown_column', 'measure_misuse', 'time_bucket_unsupported', 'invalid_sql_value', 'sql_parameter',
    'unknown_view', 'invalid_query', 'result_too_large', 'query_timeout', 'view_not_ready', 'partitions_unavailable', 'served_version_changing',
    'share_too_large', 'remote_share_failed', 'share_message_invalid',
  ],
  notes: {
    400: 'SQL that does not parse, or that a query over the views cannot answer (the message says what to write instead; `field` names the clause), or an answer over the row limit.',
    503: 'The statement ran past the time limit (parsing included); in cluster mode, the view is not ready yet.',
  },
};

/** `POST /v1/sql`'s body: `{ "sql": "...", "params": [...] }`. */
function sqlRequest(body: unknown): SqlRequest {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new MalformedBodyError('The body must be a JSON object such as {"sql": "SELECT ...", "params": []}.');
  const { sql, params, ...rest } = body as { sql?: unknown; params?: unknown };
  const unknown = Object.keys(rest)[0];
  if (unknown !== undefined) throw new MalformedBodyError(`The SQL request takes only "sql" and "params"; '${unknown.slice(0, 64)}' is not known.`);
  if (typeof sql !== 'string') throw new MalformedBodyError('"sql" must be the text of one SELECT statement.');
  if (params !== undefined && !Array.isArray(params)) throw new MalformedBodyError('"params" must be an array of the values of $1, $2 and so on.');
  return { sql, ...(params === undefined ? {} : { params: params as unknown[] }) };
}

/**
 * Declares `POST /v1/sql` on `api`; `keys` says whether the server requires API keys.
 *
 * @example
 * ```ts
 * registerSqlRoute(api, { runner: new SqlRunner(tandem), keys: access.enabled, limits: queryLimits, observe: () => {} });
 * ```
 */
export function registerSqlRoute(api: FastifyInstance, options: { readonly runner: SqlRunner; readonly keys: boolean; readonly limits: QueryLimits; readonly observe: (view: string, seconds: number) => void }): void {
  api.post('/v1/sql', routeOptions(SQL_CONTRACT, options.keys), async (request) => {
    const started = performance.now();
    const { view, result } = await options.runner.execute(sqlRequest(request.body), options.limits);
    options.observe(view, (performance.now() - started) / 1000);
    return result;
  });
}
