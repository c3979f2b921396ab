import { InvalidDefinitionError } from './errors.ts';

/**
 * Names become file names, Parquet columns and quoted SQL identifiers, so they
 * are kept to letters, digits and underscores. A leading underscore is
 * reserved for Tandem's own columns (`_offset`), which also rules out
 * `__proto__`.
 */
const NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

export function checkName(path: string, value: unknown): string {
  if (typeof value !== 'string' || !NAME.test(value)) {
    throw new InvalidDefinitionError(
      path,
      `${path} must be a name of 1 to 64 letters, digits or underscores starting with a letter; got ${JSON.stringify(value)}.`,
    );
  }
  return value;
}

/** Quotes a name from a definition as a DuckDB identifier. Names are already restricted by {@link checkName}. */
export function sqlIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Quotes text the operator controls (paths in the data directory) as a SQL string literal. Never used for request text. */
export function sqlStringLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
