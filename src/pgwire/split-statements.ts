/**
 * Splits the text of a simple Query message into its statements. Written
 * here because DuckDB's serializer (which parses each SELECT) refuses a
 * script holding `SET` or `BEGIN`, which clients send in one message with a
 * SELECT; the splitter knows only what can hide a semicolon: quotes,
 * quoted names, dollar quotes and comments.
 *
 * @module
 */

/** The end of a quoted or commented span starting at `at`, or undefined when none starts there. */
function skipSpan(sql: string, at: number): number | undefined {
  const c = sql[at]!;
  if (c === "'" || c === '"') {
    let i = at + 1;
    while (i < sql.length) {
      if (sql[i] === c) {
        if (sql[i + 1] === c) i += 2;
        else return i + 1;
      } else i += 1;
    }
    return sql.length;
  }
  if (c === '-' && sql[at + 1] === '-') {
    const end = sql.indexOf('\n', at);
    return end < 0 ? sql.length : end + 1;
  }
  if (c === '/' && sql[at + 1] === '*') {
    const end = sql.indexOf('*/', at + 2);
    return end < 0 ? sql.length : end + 2;
  }
  if (c === '$') {
    const tag = /^\$[A-Za-z_]*\$/.exec(sql.slice(at, at + 66))?.[0];
    if (tag === undefined) return undefined;
    const end = sql.indexOf(tag, at + tag.length);
    return end < 0 ? sql.length : end + tag.length;
  }
  return undefined;
}

/**
 * The statements of a script, each trimmed; empty ones (`;;`) are dropped,
 * but a script of nothing but blanks and comments is one empty statement.
 *
 * @example
 * ```ts
 * splitStatements("SET x = 'a;b'; SELECT 1;");   // ["SET x = 'a;b'", 'SELECT 1']
 * ```
 */
export function splitStatements(sql: string): string[] {
  const statements: string[] = [];
  let start = 0;
  let i = 0;
  while (i < sql.length) {
    const end = skipSpan(sql, i);
    if (end !== undefined) {
      i = end;
    } else if (sql[i] === ';') {
      statements.push(sql.slice(start, i));
      start = i += 1;
    } else {
      i += 1;
    }
  }
  statements.push(sql.slice(start));
  const kept = statements.filter((s) => stripComments(s).trim() !== '').map((s) => s.trim());
  return kept.length === 0 ? [''] : kept;
}

/**
 * The text without its leading blanks and comments: where its first keyword starts.
 *
 * @example
 * ```ts
 * stripComments('-- hello\n  /* x *\/ SELECT 1');   // 'SELECT 1'
 * ```
 */
export function stripComments(sql: string): string {
  let i = 0;
  for (;;) {
    while (i < sql.length && /\s/.test(sql[i]!)) i += 1;
    if (sql.startsWith('--', i) || sql.startsWith('/*', i)) i = skipSpan(sql, i)!;
    else return sql.slice(i);
  }
}
