/**
 * PostgreSQL's types as the endpoint declares them: each answer type's OID
 * and length, and a cell in its text format (timestamps as PostgreSQL
 * prints them with `DateStyle ISO` and `TimeZone UTC`, so every client's
 * own parser reads them).
 *
 * @module
 */
import type { SqlCell, SqlType } from '../sql/index.ts';
import type { WireColumn } from './backend-messages.ts';

/** Type OIDs from PostgreSQL's `pg_type.dat`; they are fixed across versions. */
export const OID = {
  bool: 16, name: 19, int8: 20, int2: 21, int4: 23, text: 25, oid: 26, json: 114, float4: 700, float8: 701,
  varchar: 1043, date: 1082, timestamp: 1114, timestamptz: 1184, interval: 1186, numeric: 1700, char: 18, unknown: 705,
} as const;

/** Fixed lengths; -1 for the types of variable length. */
const SIZE: Readonly<Record<number, number>> = { 16: 1, 18: 1, 19: 64, 20: 8, 21: 2, 23: 4, 26: 4, 700: 4, 701: 8, 1082: 4, 1114: 8, 1184: 8, 1186: 16 };

/**
 * A RowDescription column for a SQL answer's column.
 *
 * @example
 * ```ts
 * wireColumn({ name: 'revenue', type: 'numeric' });   // { name: 'revenue', oid: 1700, size: -1 }
 * ```
 */
export function wireColumn(column: { readonly name: string; readonly type: SqlType }): WireColumn {
  return oidColumn(column.name, OID[column.type]);
}

/** A RowDescription column of a type given by its OID. */
export function oidColumn(name: string, oid: number): WireColumn {
  return { name, oid, size: SIZE[oid] ?? -1 };
}

/** `2024-05-01T10:00:00.000Z` as PostgreSQL prints a timestamptz in UTC: `2024-05-01 10:00:00+00`. */
export function timestamptzText(iso: string): string {
  const [date, time = '00:00:00.000Z'] = iso.split('T');
  const clock = time.replace(/Z$/, '').replace(/\.0+$/, '').replace(/(\.\d*?)0+$/, '$1');
  return `${date} ${clock}+00`;
}

/**
 * A SQL answer's cell in the text format of its column's type; null stays null.
 *
 * @example
 * ```ts
 * cellText('2024-05-01T00:00:00.000Z', 'timestamptz');   // '2024-05-01 00:00:00+00'
 * cellText(true, 'bool');                                // 't'
 * ```
 */
export function cellText(cell: SqlCell, type: SqlType): string | null {
  if (cell === null || cell === undefined) return null;
  if (type === 'json' || typeof cell === 'object') return JSON.stringify(cell);
  if (typeof cell === 'boolean') return cell ? 't' : 'f';
  if (type === 'timestamptz' && typeof cell === 'string') return timestamptzText(cell);
  if (typeof cell === 'number') return numberText(cell);
  return String(cell);
}

/** A number as PostgreSQL prints one: no exponent for the values a measure holds. */
function numberText(n: number): string {
  if (!Number.isFinite(n)) return Number.isNaN(n) ? 'NaN' : n > 0 ? 'Infinity' : '-Infinity';
  const text = String(n);
  if (!text.includes('e')) return text;
  // Below 1e-6 JavaScript writes an exponent; numeric text has none. 20 digits is what toFixed allows.
  return Math.abs(n) < 1 ? n.toFixed(20).replace(/0+$/, '') : BigInt(Math.round(n)).toString();
}
