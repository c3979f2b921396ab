/**
 * The statements a connection answers itself, without planning: transaction
 * control (no-ops, as every answer is a read of one consistent moment),
 * `SET`, `RESET`, `SHOW`, `DISCARD`, `DEALLOCATE`; and the refusal of
 * writes and of what the endpoint does not do. They are told by their first
 * keywords, which is all PostgreSQL's grammar needs for them too.
 *
 * @module
 */
import { PgReadOnlyError, PgUnsupportedError } from './pg-errors.ts';
import { stripComments } from './split-statements.ts';

/**
 * What a statement is, by its first words.
 *
 * @example
 * ```ts
 * const command: SessionCommand = { kind: 'set', name: 'TimeZone', value: 'UTC' };
 * ```
 */
export type SessionCommand =
  | { readonly kind: 'empty' }
  | { readonly kind: 'select' }
  | { readonly kind: 'transaction'; readonly tag: 'BEGIN' | 'COMMIT' | 'ROLLBACK' | 'SAVEPOINT' | 'RELEASE' }
  | { readonly kind: 'set'; readonly name: string; readonly value: string }
  | { readonly kind: 'reset'; readonly name: string }
  | { readonly kind: 'show'; readonly name: string }
  | { readonly kind: 'discard'; readonly tag: string }
  | { readonly kind: 'deallocate'; readonly name: string };

const WRITES = new Set(['INSERT', 'UPDATE', 'DELETE', 'MERGE', 'UPSERT', 'CREATE', 'DROP', 'ALTER', 'TRUNCATE', 'GRANT', 'REVOKE', 'COMMENT', 'VACUUM', 'ANALYZE', 'ANALYSE', 'CLUSTER', 'REINDEX', 'REFRESH', 'LOCK', 'CALL', 'DO', 'IMPORT', 'SECURITY', 'REASSIGN', 'CHECKPOINT', 'ATTACH', 'DETACH', 'INSTALL', 'LOAD', 'PRAGMA', 'EXPORT']);
const UNSUPPORTED = new Set(['LISTEN', 'NOTIFY', 'UNLISTEN', 'DECLARE', 'FETCH', 'MOVE', 'CLOSE', 'PREPARE', 'EXECUTE', 'EXPLAIN', 'DESCRIBE', 'SUMMARIZE']);
const TRANSACTION: Readonly<Record<string, 'BEGIN' | 'COMMIT' | 'ROLLBACK' | 'SAVEPOINT' | 'RELEASE'>> = {
  BEGIN: 'BEGIN', START: 'BEGIN', COMMIT: 'COMMIT', END: 'COMMIT', ROLLBACK: 'ROLLBACK', ABORT: 'ROLLBACK', SAVEPOINT: 'SAVEPOINT', RELEASE: 'RELEASE',
};

/** A setting's value as written: unquoted, a list kept as written, DEFAULT as the empty string. */
function settingValue(text: string): string {
  const value = text.trim().replace(/;$/, '').trim();
  const quoted = /^'((?:[^']|'')*)'$/.exec(value);
  if (quoted !== null) return quoted[1]!.replaceAll("''", "'");
  return value.toUpperCase() === 'DEFAULT' ? '' : value;
}

function setCommand(rest: string): SessionCommand {
  const body = rest.replace(/^(SESSION|LOCAL)\s+/i, '');
  if (/^TRANSACTION\b|^SESSION\s+CHARACTERISTICS\b/i.test(body)) return { kind: 'set', name: 'transaction', value: body };
  const zone = /^TIME\s+ZONE\s+(.+)$/is.exec(body);
  if (zone !== null) return { kind: 'set', name: 'timezone', value: settingValue(zone[1]!) };
  const names = /^NAMES\s+(.+)$/is.exec(body);
  if (names !== null) return { kind: 'set', name: 'client_encoding', value: settingValue(names[1]!) };
  const assignment = /^("?[\w.]+"?)\s*(?:=|\bTO\b)\s*(.*)$/is.exec(body);
  if (assignment === null) throw new PgUnsupportedError('SET must name a parameter and a value, as in SET application_name = \'report\'.');
  return { kind: 'set', name: assignment[1]!.replaceAll('"', ''), value: settingValue(assignment[2]!) };
}

/**
 * What a statement's first words say it is; writes and unsupported commands throw.
 *
 * @example
 * ```ts
 * sessionCommand('SET TIME ZONE \'UTC\'');   // { kind: 'set', name: 'timezone', value: 'UTC' }
 * sessionCommand('INSERT INTO t VALUES (1)'); // throws PgReadOnlyError
 * ```
 */
export function sessionCommand(sql: string): SessionCommand {
  const text = stripComments(sql).replace(/;\s*$/, '');
  if (text === '') return { kind: 'empty' };
  const [, first = '', rest = ''] = /^([A-Za-z]+)\s*(.*)$/s.exec(text) ?? [];
  const keyword = first.toUpperCase();
  if (keyword === 'SELECT' || keyword === 'WITH' || keyword === 'VALUES' || keyword === 'TABLE' || keyword === '' || keyword === 'FROM') return { kind: 'select' };
  const tag = TRANSACTION[keyword];
  if (tag !== undefined) return { kind: 'transaction', tag };
  if (keyword === 'SET') return setCommand(rest);
  if (keyword === 'RESET') return { kind: 'reset', name: rest.trim() || 'all' };
  if (keyword === 'SHOW') return { kind: 'show', name: rest.trim().replaceAll('"', '').replace(/^TIME\s+ZONE$/i, 'timezone').replace(/^TRANSACTION\s+ISOLATION\s+LEVEL$/i, 'transaction_isolation') };
  if (keyword === 'DISCARD') return { kind: 'discard', tag: `DISCARD ${rest.trim().toUpperCase()}` };
  if (keyword === 'DEALLOCATE') return { kind: 'deallocate', name: rest.replace(/^PREPARE\s+/i, '').trim() };
  if (keyword === 'COPY') {
    if (/\bFROM\b/i.test(rest) && !/\bTO\b/i.test(rest)) throw new PgReadOnlyError('COPY FROM');
    throw new PgUnsupportedError('COPY is not supported; read rows with SELECT.');
  }
  if (WRITES.has(keyword)) throw new PgReadOnlyError(keyword);
  if (UNSUPPORTED.has(keyword)) throw new PgUnsupportedError(`${keyword} is not supported; Tandem answers SELECT over its views, and SET, SHOW and transaction control.`);
  // Anything else is left to the SQL parser, whose refusal (a syntax error, or "only SELECT") is the one /v1/sql gives.
  return { kind: 'select' };
}
