/**
 * Answers one statement of a connection: session commands from the
 * connection's settings, catalog statements from the small catalog, and
 * every other SELECT through the SQL runner that `POST /v1/sql` uses (the
 * same plan, merge, limits and one-sentence refusals).
 *
 * @module
 */
import type { QueryLimits } from '../serving/index.ts';
import { InvalidSqlValueError, SqlParameterError, type SqlRunner } from '../sql/index.ts';
import type { WireColumn } from './backend-messages.ts';
import type { LiveCatalog } from './live-catalog.ts';
import { cellText, oidColumn, OID, wireColumn } from './pg-types.ts';
import { sessionCommand } from './session-commands.ts';
import type { SessionSettings } from './session-settings.ts';

/**
 * What a statement answers: its columns (none for a command), its rows as
 * text, its CommandComplete tag, and settings to report.
 *
 * @example
 * ```ts
 * const answer: StatementAnswer = { columns: [{ name: 'x', oid: 23, size: 4 }], rows: [['1']], tag: 'SELECT 1', reports: [] };
 * ```
 */
export interface StatementAnswer {
  readonly columns: readonly WireColumn[] | undefined;
  readonly rows: readonly (readonly (string | null)[])[];
  readonly tag: string;
  readonly reports: readonly [string, string][];
  /** The transaction state this statement leaves: BEGIN opens a block, COMMIT and ROLLBACK end it. */
  readonly transaction?: 'begin' | 'end';
  /** The statement was empty (only blanks or comments). */
  readonly empty?: boolean;
}

/**
 * What answering needs of its connection.
 *
 * @example
 * ```ts
 * const context: AnswerContext = { runner, catalog, settings, limits: { timeoutMs: 10_000 }, user: 'x', database: 'tandem', version: 'PostgreSQL 15.0 (Tandem 0.1.0)', mayQuery: () => undefined, deallocate: () => {}, observe: () => {} };
 * ```
 */
export interface AnswerContext {
  readonly runner: SqlRunner;
  readonly catalog: LiveCatalog;
  readonly settings: SessionSettings;
  readonly limits: QueryLimits;
  readonly user: string;
  readonly database: string;
  readonly version: string;
  /** Throws unless the connection's key may query views. */
  readonly mayQuery: () => void;
  /** Forgets prepared statements (DISCARD ALL, DEALLOCATE). */
  readonly deallocate: (name: string) => void;
  /** A statement over a view was answered in `seconds` (for the server's query metrics, labelled by view). */
  readonly observe: (view: string, seconds: number) => void;
}

const command = (tag: string, reports: readonly [string, string][] = [], extra: Partial<StatementAnswer> = {}): StatementAnswer => ({ columns: undefined, rows: [], tag, reports, ...extra });

/** The limits of one statement: the server's, or the session's `statement_timeout` when shorter. */
function statementLimits(context: AnswerContext): QueryLimits {
  const session = Number.parseInt(context.settings.get('statement_timeout') ?? '0', 10);
  if (!(session > 0)) return context.limits;
  return { ...context.limits, timeoutMs: Math.min(session, context.limits.timeoutMs ?? Infinity) };
}

/**
 * The values of `$1`, `$2`, … with every text that reads as a number made
 * one: a client that sends every parameter as untyped text (node-postgres
 * does) still gets `LIMIT $1` answered.
 */
function numbered(params: readonly unknown[]): unknown[] | undefined {
  const changed = params.map((p) => (typeof p === 'string' && /^-?\d+(\.\d+)?$/.test(p.trim()) ? Number(p) : p));
  return changed.some((p, i) => p !== params[i]) ? changed : undefined;
}

async function answerViews(sql: string, params: readonly unknown[], context: AnswerContext): Promise<StatementAnswer> {
  context.mayQuery();
  const limits = statementLimits(context);
  const started = performance.now();
  const run = (values: readonly unknown[]) => context.runner.execute({ sql, params: values }, limits);
  const { view, result } = await run(params).catch(async (error: unknown) => {
    const retry = error instanceof InvalidSqlValueError || error instanceof SqlParameterError ? numbered(params) : undefined;
    if (retry === undefined) throw error;
    return run(retry).catch(() => Promise.reject(error));
  });
  context.observe(view, (performance.now() - started) / 1000);
  const rows = result.rows.map((row) => row.map((cell, i) => cellText(cell, result.columns[i]!.type)));
  return { columns: result.columns.map(wireColumn), rows, tag: `SELECT ${rows.length}`, reports: [] };
}

async function answerSelect(sql: string, params: readonly unknown[], context: AnswerContext): Promise<StatementAnswer> {
  // One small catalog for both steps: the views may change between them.
  const catalog = await context.catalog.current();
  const route = await catalog.route(sql, { user: context.user, database: context.database, version: context.version, setting: (n) => context.settings.get(n) });
  if (route.kind === 'views') return answerViews(sql, params, context);
  const answer = await catalog.run(route.sql, params, statementLimits(context).timeoutMs ?? Infinity);
  return { ...answer, tag: `SELECT ${answer.rows.length}`, reports: [] };
}

function show(name: string, context: AnswerContext): StatementAnswer {
  if (name.toLowerCase() === 'all') {
    const rows = context.settings.all().map(([n, v]) => [n, v, '']);
    return { columns: ['name', 'setting', 'description'].map((n) => oidColumn(n, OID.text)), rows, tag: 'SHOW', reports: [] };
  }
  return { columns: [oidColumn(name.toLowerCase(), OID.text)], rows: [[context.settings.get(name) ?? null]], tag: 'SHOW', reports: [] };
}

/**
 * The answer of one statement with its parameters' values.
 *
 * @example
 * ```ts
 * const answer = await answerStatement("SELECT country, sum(orders) FROM revenue_by_country GROUP BY 1", [], context);
 * ```
 */
export async function answerStatement(sql: string, params: readonly unknown[], context: AnswerContext): Promise<StatementAnswer> {
  const parsed = sessionCommand(sql);
  switch (parsed.kind) {
    case 'empty': return command('', [], { empty: true });
    case 'select': return answerSelect(sql, params, context);
    case 'transaction': return command(parsed.tag, [], parsed.tag === 'BEGIN' ? { transaction: 'begin' } : parsed.tag === 'COMMIT' || parsed.tag === 'ROLLBACK' ? { transaction: 'end' } : {});
    case 'set': return command('SET', parsed.name === 'transaction' ? [] : context.settings.set(parsed.name, parsed.value));
    case 'reset': return command('RESET', context.settings.reset(parsed.name));
    case 'show': return show(parsed.name, context);
    case 'discard':
      context.deallocate('all');
      return command(parsed.tag, context.settings.reset('all'));
    case 'deallocate':
      context.deallocate(parsed.name);
      return command('DEALLOCATE');
  }
}
