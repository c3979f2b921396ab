/**
 * PostgreSQL's text form of a one-dimensional array, as clients bind a
 * list parameter (psycopg 3 under pgcli and pgspecial sends `{r,p,f}` for
 * `relkind = ANY(%s)`).
 *
 * @module
 */

/** Array types (`_text`, `_varchar`, `_char`, `_name`, `_int2`, `_int4`, `_int8`, `_bool`): pgcli and psql's helpers bind a list of kinds as one. */
export const ARRAY_OIDS = new Set([1009, 1015, 1002, 1003, 1005, 1007, 1016, 1000]);

/**
 * A one-dimensional array literal (`{r,p,"a b"}`) as its elements' texts,
 * quoted ones unescaped; PostgreSQL's own syntax, read by hand as no
 * library here reads it.
 *
 * @example
 * ```ts
 * arrayElements('{r,p,"a b"}');   // ['r', 'p', 'a b']
 * ```
 */
export function arrayElements(text: string): (string | null)[] {
  const elements: (string | null)[] = [];
  const pattern = /\s*(?:"((?:[^"\\]|\\.)*)"|([^,}]*))\s*(,|\})/gy;
  pattern.lastIndex = 1;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    if (match[1] !== undefined) elements.push(match[1].replace(/\\(.)/g, '$1'));
    else if (match[2]!.trim() !== '' || match[3] === ',') elements.push(match[2]!.trim().toUpperCase() === 'NULL' ? null : match[2]!.trim());
    if (match[3] === '}') break;
  }
  return elements;
}
