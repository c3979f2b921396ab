/**
 * The values of a Bind message's parameters, all sent as text: a number or a
 * boolean where the client typed the parameter so, a list for an array,
 * else the text (the SQL layer reads text as a statement's place needs).
 *
 * @module
 */
import { arrayElements, ARRAY_OIDS } from './array-literal.ts';
import { OID } from './pg-types.ts';

const NUMBER_OIDS = new Set<number>([OID.int2, OID.int4, OID.int8, OID.float4, OID.float8, OID.numeric, OID.oid]);

/**
 * The highest `$n` in a statement's text. Quotes are not skipped: a `$2`
 * inside a string only widens a description by one parameter.
 *
 * @example
 * ```ts
 * parameterCount('SELECT sum(orders) FROM v WHERE country = $1 LIMIT $2');   // 2
 * ```
 */
export function parameterCount(sql: string): number {
  let most = 0;
  for (const match of sql.matchAll(/\$(\d{1,5})/g)) most = Math.max(most, Number(match[1]));
  return most;
}

/**
 * A parameter's value from its bytes and the type the client gave it (0 for none).
 *
 * @example
 * ```ts
 * paramValue(Buffer.from('10'), 20);   // 10
 * paramValue(Buffer.from('DE'), 0);    // 'DE'
 * ```
 */
export function paramValue(bytes: Buffer | null, oid: number): unknown {
  if (bytes === null) return null;
  const text = bytes.toString('utf8');
  if (ARRAY_OIDS.has(oid) && text.startsWith('{') && text.endsWith('}')) return arrayElements(text);
  if (NUMBER_OIDS.has(oid) && text.trim() !== '' && Number.isFinite(Number(text))) return Number(text);
  if (oid === OID.bool) return /^(t|true|1|y|yes|on)$/i.test(text.trim());
  return text;
}
