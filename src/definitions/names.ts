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

/**
 * Names that must stay apart once they reach SQL or the file system. DuckDB
 * folds identifiers to one case even when quoted, and a case-insensitive file
 * system does the same to file names, so two names that differ only in case
 * are one name: `n` (a count) and `N` (a sum) would both read one column
 * after a batch run. A namespace refuses the second, naming both.
 */
export class NameSpace {
  readonly #claimed = new Map<string, { readonly name: string; readonly reservedFor?: string }>();

  /** @param reserved names no definition may take, in any case, each with what it is reserved for. */
  constructor(private readonly what: string, reserved: Readonly<Record<string, string>> = {}) {
    for (const [name, reservedFor] of Object.entries(reserved)) this.#claimed.set(name.toLowerCase(), { name, reservedFor });
  }

  /** Takes `name` for the definition at `path`; throws if it is taken in any case. */
  claim(path: string, name: string): void {
    const key = name.toLowerCase();
    const taken = this.#claimed.get(key);
    if (taken === undefined) {
      this.#claimed.set(key, { name });
      return;
    }
    const why = taken.reservedFor !== undefined
      ? `is reserved (in any case) for ${taken.reservedFor}`
      : taken.name === name
        ? `is already used by another ${this.what}`
        : `differs only in case from ${this.what} '${taken.name}', and DuckDB and case-insensitive file systems take the two for one name`;
    throw new InvalidDefinitionError(path, `${path}: '${name}' ${why}; choose another name.`);
  }
}

/** Quotes a name from a definition as a DuckDB identifier. Names are already restricted by {@link checkName}. */
export function sqlIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Quotes text the operator controls (paths in the data directory) as a SQL string literal. Never used for request text. */
export function sqlStringLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
